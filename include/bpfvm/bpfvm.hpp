// bpfvm's public C++ API: a runtime instance (Vm) opens objects (ELF, bytecode, assembly), whose
// programs are verified and prepared for an engine (Program), run against the object's maps (Map).
// No exceptions cross this API: every fallible call returns a Result<T>.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "bpfvm/helper_signature.hpp"
#include "bpfvm/kfunc_signature.hpp"
#include "bpfvm/result.hpp"

namespace bpfvm {

/// Internal namespace of the engines; only RunContext (behind HelperCall) appears here.
namespace vm {
/// The state of one run (opaque to hosts).
struct RunContext;
}

/// The run a helper call belongs to. Opaque: use the helper_* functions below.
using HelperCall = vm::RunContext;

/// A host helper: the kernel's shape, five u64 arguments (r1..r5) and a u64 result (r0).
using HelperFunction = std::uint64_t (*)(std::uint64_t r1, std::uint64_t r2, std::uint64_t r3,
                                         std::uint64_t r4, std::uint64_t r5, HelperCall* call);

/// The `user` pointer the helper was registered with.
void* helper_user_data(const HelperCall* call) noexcept;
/// The RunInput::host_data of the run this call belongs to.
void* helper_host_data(const HelperCall* call) noexcept;
/// Stops the run: Program::run returns Errc::HelperFault naming the helper, the pc and `reason`.
void helper_fail(HelperCall* call, std::string_view reason);
/// False when the run is checked and [addr, addr+size) is not memory the program may touch
/// (its stack, its input, map values). Unchecked runs trust the verifier: always true.
bool helper_memory_ok(const HelperCall* call, const void* addr, std::size_t size_bytes, bool write) noexcept;

/// A helper the host adds under any u32 id (replacing a kernel helper with that id, if any).
struct HostHelper {
  std::uint32_t id = 0;  ///< the helper id programs call (`call <id>`); host helpers conventionally use 0x10000+
  std::string name;              ///< shown in verifier messages and faults
  HelperFunction fn = nullptr;  ///< called on every call of `id`; must not throw
  void* user = nullptr;          ///< reachable through helper_user_data()
  HelperSignature signature;     ///< what the verifier checks at each call (set `known = true`)
};

/// A kernel function (kfunc) the host implements, found by name: a program's `extern ... __ksym` call
/// of that name (or a raw `call kfunc ID` the kernel's BTF names so) calls `fn` with r1..r5, as a helper.
struct HostKfunc {
  std::string name;              ///< the kernel's name, e.g. "bpf_dynptr_size"
  HelperFunction fn = nullptr;  ///< must not throw
  void* user = nullptr;          ///< reachable through helper_user_data()
  KfuncSignature signature;      ///< what the verifier checks at each call
  /// Program types that may call it (verifier names: "xdp", "sched_cls", ...); empty: every type.
  std::vector<std::string> program_types;
};

/// What executes a program: the interpreter or native code from the JIT (x86-64, arm64).
/// JitOptimized: runs use the optimizing tier's code (fast, checked or counted under a budget, as the
/// program's options ask), built at load, on x86-64 and arm64; a program the tier refuses uses the
/// baseline JIT.
/// Program::jit_tier() reports which tier runs; Program::optimize() upgrades a Jit program later.
enum class Engine : std::uint8_t { Interpreter, Jit, JitOptimized };

/// Which code a program's runs execute (Program::jit_tier()).
enum class JitTier : std::uint8_t { None /* interpreter */, Baseline, Optimized };

/// A readable (and possibly writable) range of a host-defined context.
struct ContextField {
  std::uint32_t offset = 0;  ///< byte offset of the field in the context
  std::uint32_t size_bytes = 0;  ///< size of the field
  bool writable = false;  ///< programs may store to the field
};

/// How a program is entered. ELF programs take their type from the section name (libbpf's table);
/// bytecode and assembly take the type given to Vm::open_bytecode / open_assembly.
struct ProgramType {
  /// What r1 (and r2) hold when the program starts.
  enum class Entry : std::uint8_t {
    PlainMemory,  ///< r1 = the input buffer, r2 = its length (the conformance suite's convention)
    Context,      ///< r1 = a context of ctx_size_bytes (kernel layouts for kernel types)
  };
  std::string name = "plain";  ///< the type's name ("xdp", "socket", "plain", or the host's name)
  std::uint32_t kernel_type = 0;  ///< BPF_PROG_TYPE_* for kernel types, 0 for plain/host-defined
  /// enum bpf_attach_type the kernel would be told (BPF_PROG_LOAD's expected_attach_type): where a
  /// type's rules depend on it (cgroup_skb egress may return 0-3). from_section() sets it.
  std::uint32_t expected_attach_type = 0;
  Entry entry = Entry::PlainMemory;  ///< how the program is entered
  std::uint32_t ctx_size_bytes = 0;        ///< host-defined contexts only
  std::vector<ContextField> fields;        ///< host-defined contexts only

  /// r1 = input buffer of at most max_input_bytes (the verifier's bound), r2 = its length.
  static ProgramType plain(std::uint32_t max_input_bytes = 4096);
  /// A kernel program type by BPF_PROG_TYPE_* number (XDP 6, SOCKET_FILTER 1, SCHED_CLS 3,
  /// SCHED_ACT 4, KPROBE 2, TRACEPOINT 5, CGROUP_SKB 8, CGROUP_SOCK 9, LWT_IN 10, LWT_OUT 11, LWT_XMIT 12,
  /// PERF_EVENT 7, CGROUP_DEVICE 15, CGROUP_SOCK_ADDR 18 (with expected_attach_type naming its hook),
  /// CGROUP_SYSCTL 23, SK_LOOKUP 30, SK_REUSEPORT 21,
  /// RAW_TRACEPOINT 17, SYSCALL 31); other types are refused "not supported yet".
  static Result<ProgramType> kernel(std::uint32_t bpf_prog_type);
  /// A kernel program type by libbpf section name ("xdp", "tc", "socket", "kprobe/...").
  static Result<ProgramType> from_section(std::string_view section);
  /// The host's own context: r1 points at ctx_size_bytes bytes; only `fields` may be accessed.
  static ProgramType host(std::string name, std::uint32_t ctx_size_bytes, std::vector<ContextField> fields);
};

/// Options of a Vm, fixed at construction.
struct VmOptions {
  /// Per-CPU map slots ("CPUs"); 0 = std::thread::hardware_concurrency().
  unsigned nr_cpus = 0;
  /// The most memory the maps of one opened object may allocate (summed over its maps, per-CPU
  /// copies included; hash maps count every preallocated element). Opening an object whose maps need
  /// more fails before any map is allocated, naming the map that crosses the cap. 0 = no cap.
  /// The default protects a desktop from a small object that declares huge maps: array values and
  /// preallocated hash elements use memory only once written, but a program may write them all.
  std::uint64_t max_map_memory_bytes = std::uint64_t{256} << 20;  // 256 MiB; CLI: --max-map-memory
};

/// Options for opening an ELF object.
struct LoadOptions {
  /// Kernel BTF for CO-RE relocations, e.g. the bytes of /sys/kernel/btf/vmlinux.
  std::vector<std::uint8_t> target_btf;
  /// With no target_btf: open an object with CO-RE relocations anyway, leaving them unresolved (its
  /// report() lists them; an instruction they touch fails the program if reached). For inspection.
  bool core_without_target = false;
  /// Values of __kconfig externs: "LINUX_KERNEL_VERSION" → "393216", "CONFIG_HZ" → "250".
  std::map<std::string, std::string, std::less<>> kconfig;
  /// The kernel address of an untyped __ksym (`extern const void bpf_prog_active __ksym;`), loaded as
  /// a plain 64-bit constant as libbpf does. Empty: read from /proc/kallsyms (where addresses are
  /// hidden it gives 0, as libbpf gets); nullopt leaves the extern unresolved (a weak one reads 0)
  /// and load() refuses the programs using it. Typed __ksyms resolve against target_btf instead.
  std::function<std::optional<std::uint64_t>(const std::string& name)> kernel_symbol_address;
  /// false: open only to inspect (report, disassemble, programs, control_flow_dot), as `bpfvm
  /// objdump` does: no map is allocated, maps() is empty and load() fails.
  bool create_maps = true;
  /// true (with create_maps): open to verify, as `bpfvm verify` does. Each map is checked as creating
  /// it would be (its definition, type, sizes, inner template) but allocates nothing, so
  /// VmOptions::max_map_memory_bytes does not apply; maps() is empty, load() verifies and prepares no
  /// engine: the Program's run() refuses.
  bool verify_only = false;
  /// Inner map templates for map-in-maps whose definition names none (a 20-byte `struct bpf_map_def`
  /// has no field for it): outer map name → the name of another map of the object, whose type, sizes
  /// and flags every inner map must then match — what bpf_map__set_inner_map_fd(outer,
  /// bpf_map__fd(template)) did before libbpf 1.0. CLI: --inner-map OUTER=TEMPLATE. An outer map
  /// without a template is not created: maps() leaves it out and load() refuses the programs that
  /// use it, naming it. Naming a map that is not a map-in-map, or already has a template, fails open.
  std::map<std::string, std::string, std::less<>> inner_map_templates;
};

/// How Object::load prepares a program.
struct ProgramOptions {
  /// The engine that runs the program.
  Engine engine = Engine::Interpreter;
  /// Run the verifier (default). Turning it off is for fuzzing and debugging only.
  bool verify = true;
  /// Verifier: forbid pointer leaks (the kernel's unprivileged mode).
  bool unprivileged = false;
  /// Verifier: accept div/mod by an immediate 0 and shifts by an immediate >= the operand width, as
  /// RFC 9669 defines them (quotient 0, dividend kept, count masked); the kernel refuses both.
  bool permissive_constant_operands = false;
  /// Verifier bounds. The kernel's own limits always apply: 1,000,000 processed instructions
  /// (BPF_COMPLEXITY_LIMIT_INSNS), 8,192 branches waiting to be explored (BPF_COMPLEXITY_LIMIT_JMP_SEQ),
  /// 8 call frames. These are the host's, on top (0 = none): stored states, memory held by stored and
  /// queued states (an estimate), wall time. A program that hits one is rejected (Errc::Rejected,
  /// "verification stopped: <bound> passed the bound of N the host set"). The memory default keeps a
  /// hostile program from taking gigabytes; every program the kernel accepts stays far below it.
  std::uint64_t max_verifier_states = 0;
  std::uint64_t max_verifier_memory_bytes = std::uint64_t{1} << 30;  ///< 1 GiB; CLI --max-verifier-memory
  std::uint64_t max_verifier_time_us = 0;  ///< CLI --max-verifier-time-ms (milliseconds; the CLI's default 30 s)
  /// Check every load/store at run time against the memory the run owns (faults become errors).
  bool checked = false;
  /// Stop a run after this many instructions (0 = no budget).
  std::uint64_t budget_insns = 0;
  /// Verifier log: 0 none, 1 verdict and path, 2 the abstract state at every instruction.
  int verifier_log_level = 0;
  std::string* verifier_log = nullptr;  ///< receives the verifier log when not null (at verifier_log_level > 0)
  /// JIT: XOR immediates with a random key (the kernel's constant blinding).
  bool jit_blind_constants = false;
  /// JIT: write /tmp/perf-PID.map entries and register code with the GDB JIT interface.
  bool jit_register_with_debuggers = false;
  /// Optimizing tier: passes to leave out, comma separated (jit/opt/README.md names them), so
  /// benchmarks can measure one pass at a time; an unknown name is refused with the list of names.
  std::string jit_opt_passes_off;
  /// Interpreter: also prepare edge-coverage dispatch, so runs may pass RunInput::edge_counters.
  bool coverage = false;
  /// ELF programs: the type to load the program as instead of the one its section name gives (as
  /// iproute2's `tc` loads any section as sched_cls). Needed where the name says nothing ("test", "2/1").
  std::optional<ProgramType> type;
};

/// cgroup_sysctl (no kernel test run): the sysctl access a run stands for, as the kernel's hook
/// (__cgroup_bpf_run_filter_sysctl) gives it to the program through bpf_sysctl_get_name,
/// bpf_sysctl_get_current_value, bpf_sysctl_get_new_value and bpf_sysctl_set_new_value.
struct SysctlAccess {
  std::string_view name;  ///< the path under /proc/sys, '/'-separated: "kernel/ostype", "net/ipv4/tcp_mem"
  /// What reading the sysctl gives ("Linux\n"; the first 4096 bytes); empty: the read failed
  /// (bpf_sysctl_get_current_value then zeroes the buffer and returns -EINVAL, as the kernel).
  std::span<const std::uint8_t> current_value;
  bool write = false;  ///< the access writes: the run sets the context's bpf_sysctl.write to it
  /// A write's bytes (the first 4096, PAGE_SIZE, as the kernel copies them); empty: no value.
  std::span<const std::uint8_t> new_value;
};

/// Input of one run, like BPF_PROG_TEST_RUN's: a packet (XDP, socket filter, tc) or buffer (plain),
/// and/or a context (xdp_md / __sk_buff / pt_regs / host context bytes).
struct RunInput {
  std::span<const std::uint8_t> data;  ///< the packet or buffer (copied; the original is never written)
  std::span<const std::uint8_t> ctx;  ///< context bytes; empty for the type's default context
  std::uint32_t repeat = 1;     ///< run this many times on one copy of data/ctx (each run sees what the
                                ///< previous one wrote, as BPF_PROG_TEST_RUN's repeat); the output is the last run's
  void* host_data = nullptr;    ///< reachable from host helpers through helper_host_data()
  /// Edge coverage (needs ProgramOptions::coverage): each conditional jump at instruction pc adds 1
  /// to edge_counters[2 * pc + taken], taken = 1 when it jumps. At least 2 * insn_count counters;
  /// the caller clears them. Coverage runs are always checked.
  std::span<std::uint32_t> edge_counters;
  /// Fill RunOutput::ns_per_run for a single run (repeat = 1). Repeated runs (repeat > 1) are always
  /// timed; a single run is not unless asked, so a host calling once per event pays no clock reads.
  bool measure_time = false;
  /// cgroup_sysctl: the sysctl access (Program::run and Runner::run(RunInput); the C API has none).
  /// Without it the sysctl helpers stop the run "not supported yet" and the context is the caller's bytes.
  const SysctlAccess* sysctl = nullptr;
};

/// Result of one run (of the last one when RunInput::repeat > 1).
struct RunOutput {
  std::uint64_t r0 = 0;  ///< the program's return value
  std::uint32_t retval = 0;             ///< low 32 bits of r0, as BPF_PROG_TEST_RUN reports it
  std::vector<std::uint8_t> data_out;   ///< the packet after the run (packet types), or the buffer
  std::vector<std::uint8_t> ctx_out;  ///< the context after the run (context types)
  std::uint64_t insns_executed = 0;     ///< last run; 0 where the engine does not count (fast JIT)
  double ns_per_run = 0;                ///< mean wall time per repetition (0 unless timed: RunInput::measure_time)
  /// Mean CPU time of the calling thread per repetition (0 unless timed). It leaves out the intervals
  /// the thread was preempted, as the kernel's BPF_PROG_TEST_RUN duration does: on a shared machine
  /// this, not ns_per_run, is the figure to compare with the kernel's.
  double cpu_ns_per_run = 0;
  std::optional<std::uint32_t> redirect_ifindex;  ///< device of bpf_redirect, or of the devmap entry bpf_redirect_map chose
  /// bpf_redirect_map's target: the map (its name and BPF_MAP_TYPE_* number) and key (a cpumap's key
  /// is the CPU, an xskmap's the socket slot); `broadcast` for BPF_F_BROADCAST (every devmap entry).
  struct RedirectMapTarget {
    std::string map;
    std::uint32_t map_type = 0;
    std::uint32_t key = 0;
    bool broadcast = false;
  };
  std::optional<RedirectMapTarget> redirect_map;
  /// sk_msg: what bpf_msg_apply_bytes / bpf_msg_cork_bytes set last, when the program called them.
  std::optional<std::uint32_t> msg_apply_bytes;
  std::optional<std::uint32_t> msg_cork_bytes;
  /// sk_reuseport: the cookie of the socket bpf_sk_select_reuseport selected last (none: no selection;
  /// the kernel would then pick by hash, or drop on SK_DROP).
  std::optional<std::uint64_t> selected_socket;
  /// cgroup hooks (cgroup_sock, cgroup_device, cgroup_sock_addr, cgroup_sysctl, cgroup_sockopt): what
  /// the hook gives the syscall, as bpf_prog_run_array_cg leaves its retval — what bpf_set_retval set
  /// (0 when the program did not; getsockopt: the context's retval), or -EPERM when the program
  /// returned 0 and that was not an error (-4095..-1). 0: the syscall goes on.
  std::optional<std::int32_t> cgroup_retval;
  /// cgroup_sysctl: the value the sysctl write goes on with, when bpf_sysctl_set_new_value replaced it
  /// and the hook lets the write go on (cgroup_retval 0), as the kernel replaces the write's buffer.
  std::optional<std::vector<std::uint8_t>> sysctl_new_value;
};

/// Programs and maps opened together (defined below).
class Object;
/// A loaded program (defined below).
class Program;
/// A host-held, prepared run of one program (defined below).
class Runner;

/// A key or value type the typed Map calls accept: trivially copyable and not a container.
template <class T>
concept PlainValue = std::is_trivially_copyable_v<T> && !std::ranges::range<T> && !std::is_pointer_v<T>;

/// Where a batch walk (Map::lookup_batch) stands: start with a default-constructed cursor and pass
/// the same one to each call until done() is true.
class MapBatchCursor {
 public:
  /// True once the walk has passed the last element.
  bool done() const { return done_; }

 private:
  friend class Map;
  std::vector<std::uint8_t> in_, out_;
  bool started_ = false;
  bool done_ = false;
};

/// A non-owning handle to one map of an Object (valid while the Object lives).
///
/// Two layers. The typed calls take keys and values as plain structs or integers (PlainValue) and
/// return Result: a kernel errno (ENOENT for a missing key, EEXIST/ENOENT for BPF_NOEXIST/BPF_EXIST,
/// E2BIG when full, EINVAL for a wrong size or flag...) is an Error with code Errc::Errno and the
/// positive errno in Error::sys_errno, its name ("ENOENT") in Error::reason. The byte-span calls
/// mirror bpf(2) exactly and return 0 or the negative errno. Per-CPU maps: a value is
/// host_value_size() bytes, one 8-byte-rounded value per CPU (use an array type).
///
///   std::uint64_t count;
///   if (auto r = map.lookup(key, count); !r && r.error().sys_errno != ENOENT) ...;
///   map.for_each<std::uint32_t, std::uint64_t>([](const std::uint32_t& k, const std::uint64_t& v) { ... });
class Map {
 public:
  /// The map's name ("rxcnt", ".rodata").
  const std::string& name() const;
  std::uint32_t type() const;  ///< BPF_MAP_TYPE_*
  std::uint32_t key_size() const;  ///< bytes per key
  std::uint32_t value_size() const;  ///< per-CPU maps: one CPU's value
  std::uint32_t max_entries() const;  ///< capacity, as defined
  std::uint32_t flags() const;  ///< BPF_F_* map flags
  /// Bytes lookup() writes: value_size, or one 8-byte-rounded value per CPU for per-CPU maps.
  std::size_t host_value_size() const;
  /// BPF_MAP_TYPE_ARRAY / PERCPU_ARRAY: every value in place, read-only and without a copy (what the
  /// kernel's mmap of a BPF_F_MMAPABLE array shows): index i's host_value_size() bytes, as lookup()
  /// would copy them, start at i * array_stride_bytes(). Runs on other threads may write meanwhile
  /// (a torn value, as through mmap). Empty for other map types. Valid while the Object lives.
  std::span<const std::uint8_t> array_values() const;
  /// The distance between two indexes in array_values(); 0 for maps that are not arrays.
  std::size_t array_stride_bytes() const;

  // ---- typed: keys and values as plain types, Result with the kernel errno inside ----------------

  /// bpf_map_lookup_elem: copies the value into `value` (sizeof(V) must be host_value_size()).
  template <class K, class V>
    requires(PlainValue<K> && PlainValue<V>)
  Result<void> lookup(const K& key, V& value) const {
    return check(key, value) ? as_result(lookup(as_bytes(key), as_writable_bytes(value))) : size_error();
  }
  /// The value of `key` by value: `auto v = map.get<std::uint64_t>(key)`.
  template <class V, class K>
    requires(PlainValue<K> && PlainValue<V>)
  Result<V> get(const K& key) const {
    V value{};
    if (auto r = lookup(key, value); !r) return std::move(r).error();
    return value;
  }
  /// bpf_map_update_elem with BPF_ANY (0) / BPF_NOEXIST (1) / BPF_EXIST (2), | BPF_F_LOCK (4).
  template <class K, class V>
    requires(PlainValue<K> && PlainValue<V>)
  Result<void> update(const K& key, const V& value, std::uint64_t flags = 0) {
    return check(key, value) ? as_result(update(as_bytes(key), as_bytes(value), flags)) : size_error();
  }
  /// bpf_map_delete_elem (EINVAL for arrays, ENOENT for a missing key).
  template <class K>
    requires PlainValue<K>
  Result<void> erase(const K& key) {
    return sizeof(K) == key_size() ? as_result(erase(as_bytes(key))) : size_error();
  }
  /// BPF_MAP_LOOKUP_AND_DELETE_ELEM (hash maps; queue/stack: use pop()).
  template <class K, class V>
    requires(PlainValue<K> && PlainValue<V>)
  Result<void> lookup_and_delete(const K& key, V& value) {
    return check(key, value) ? as_result(lookup_and_delete(as_bytes(key), as_writable_bytes(value))) : size_error();
  }
  /// bpf_map_get_next_key: the key after `key` (the first key when `key` is absent from a hash map);
  /// ENOENT after the last.
  template <class K>
    requires PlainValue<K>
  Result<K> next_key(const K& key) const {
    K next{};
    if (sizeof(K) != key_size()) return size_error();
    if (auto r = as_result(next_key(as_bytes(key), as_writable_bytes(next))); !r) return std::move(r).error();
    return next;
  }
  /// The first key; ENOENT when the map is empty.
  template <class K>
    requires PlainValue<K>
  Result<K> first_key() const {
    K first{};
    if (sizeof(K) != key_size()) return size_error();
    if (auto r = as_result(next_key({}, as_writable_bytes(first))); !r) return std::move(r).error();
    return first;
  }
  /// Calls fn(key, value) for every element, walking with next_key and copying each value (as
  /// bpftool map dump does): an element deleted during the walk is skipped, one inserted may or may
  /// not be seen. fn may return void, or bool (false stops the walk).
  template <class K, class V, class Fn>
    requires(PlainValue<K> && PlainValue<V>)
  Result<void> for_each(Fn&& fn) const {
    if (sizeof(K) != key_size() || sizeof(V) != host_value_size()) return size_error();
    K key{};
    V value{};
    int rc = next_key({}, as_writable_bytes(key));
    // A hash map's walk restarts from the first key when the current one vanished; bound the walk
    // so a map that is refilled while we walk cannot keep us here.
    for (std::uint64_t steps = 0; rc == 0 && steps <= 2ull * max_entries() + 2; ++steps) {
      if (lookup(as_bytes(key), as_writable_bytes(value)) == 0) {
        if constexpr (std::is_same_v<std::invoke_result_t<Fn&, const K&, const V&>, bool>) {
          if (!fn(static_cast<const K&>(key), static_cast<const V&>(value))) return {};
        } else {
          fn(static_cast<const K&>(key), static_cast<const V&>(value));
        }
      }
      K next{};
      rc = next_key(as_bytes(key), as_writable_bytes(next));
      key = next;
    }
    return rc == ENOENT_ ? Result<void>{} : as_result(rc);
  }
  /// BPF_MAP_LOOKUP_BATCH (and_delete: BPF_MAP_LOOKUP_AND_DELETE_BATCH): copies up to keys.size()
  /// elements into keys/values (values.size() >= keys.size()) from where `cursor` stands and returns
  /// how many; cursor.done() turns true at the end. Hash maps copy whole buckets, so a call may return
  /// fewer than fit (ENOSPC when not even one bucket fits). ENOTSUPP (524) for types without batches.
  template <class K, class V, std::size_t KN, std::size_t VN>
    requires(PlainValue<K> && PlainValue<V>)
  Result<std::size_t> lookup_batch(MapBatchCursor& cursor, std::span<K, KN> keys, std::span<V, VN> values,
                                   bool and_delete = false) {
    if (sizeof(K) != key_size() || sizeof(V) != host_value_size() || values.size() < keys.size())
      return size_error();
    return lookup_batch(cursor, {reinterpret_cast<std::uint8_t*>(keys.data()), keys.size_bytes()},
                        {reinterpret_cast<std::uint8_t*>(values.data()), values.size_bytes()}, keys.size(), and_delete);
  }
  /// BPF_MAP_UPDATE_BATCH: applies keys[i] = values[i] in order, stopping at the first failure (its
  /// errno in the error); returns how many were applied. `elem_flags` is 0 or BPF_F_LOCK, as in the
  /// kernel's batch command (which has no BPF_NOEXIST/BPF_EXIST).
  template <class K, class V, std::size_t KN, std::size_t VN>
    requires(PlainValue<K> && PlainValue<V>)
  Result<std::size_t> update_batch(std::span<const K, KN> keys, std::span<const V, VN> values,
                                   std::uint64_t elem_flags = 0) {
    if (sizeof(K) != key_size() || sizeof(V) != host_value_size() || values.size() < keys.size())
      return size_error();
    auto n = static_cast<std::uint32_t>(std::min<std::size_t>(keys.size(), 0xffffffffu));
    const int rc = update_batch({reinterpret_cast<const std::uint8_t*>(keys.data()), keys.size_bytes()},
                                {reinterpret_cast<const std::uint8_t*>(values.data()), values.size_bytes()}, n,
                                elem_flags);
    if (rc != 0) return errno_error(rc);
    return std::size_t{n};
  }
  /// BPF_MAP_DELETE_BATCH: deletes keys in order, stopping at the first failure (ENOENT for a
  /// missing key); returns how many were deleted.
  template <class K, std::size_t KN>
    requires PlainValue<K>
  Result<std::size_t> delete_batch(std::span<const K, KN> keys) {
    if (sizeof(K) != key_size()) return size_error();
    auto n = static_cast<std::uint32_t>(std::min<std::size_t>(keys.size(), 0xffffffffu));
    const int rc = delete_batch({reinterpret_cast<const std::uint8_t*>(keys.data()), keys.size_bytes()}, n);
    if (rc != 0) return errno_error(rc);
    return std::size_t{n};
  }

  // ---- bytes: bpf(2)'s shape, 0 or the negative errno ----------------------------------------------

  /// bpf_map_lookup_elem: copies the value (host_value_size() bytes) into value_out; 0, -ENOENT, -EINVAL.
  int lookup(std::span<const std::uint8_t> key, std::span<std::uint8_t> value_out) const;
  /// bpf_map_update_elem with BPF_ANY / BPF_NOEXIST / BPF_EXIST (and BPF_F_LOCK) flags; 0 or -errno.
  int update(std::span<const std::uint8_t> key, std::span<const std::uint8_t> value, std::uint64_t flags = 0);
  /// bpf_map_delete_elem; 0, -ENOENT, or -EINVAL for arrays.
  int erase(std::span<const std::uint8_t> key);
  /// First key when `key` is empty.
  int next_key(std::span<const std::uint8_t> key, std::span<std::uint8_t> next_out) const;
  /// BPF_MAP_TYPE_CGROUP_ARRAY: puts a cgroup in slot `index` (one process has no cgroup fds to update
  /// with): `id` names it; `holds_current_task` is what bpf_current_task_under_cgroup answers for it.
  /// 0, -E2BIG out of range, -EINVAL for other map types.
  int set_cgroup(std::uint32_t index, std::uint64_t id, bool holds_current_task);
  /// BPF_MAP_TYPE_XSKMAP: puts an AF_XDP socket bound to `queue_id` in slot `index` (bpf_redirect_map
  /// then redirects to it). 0, -E2BIG out of range, -EINVAL for other map types.
  int set_xsk(std::uint32_t index, std::uint32_t queue_id);
  /// BPF_MAP_TYPE_USER_RINGBUF, the producer (libbpf's user_ring_buffer__reserve/submit/discard):
  /// reserve a sample of `size_bytes`, fill it, then submit or discard it (in any order; programs
  /// drain them in reservation order with bpf_user_ringbuf_drain). One producing thread at a time;
  /// programs may drain concurrently. reserve: 0 and `sample_out`, -E2BIG (the size uses the
  /// header's two flag bits or the record, with its 8-byte header, exceeds the ring), -ENOSPC (not
  /// drained yet). submit/discard: 0, or -EINVAL for a span reserve did not hand out (or committed).
  /// All three: -EINVAL for other map types.
  int user_ringbuf_reserve(std::uint32_t size_bytes, std::span<std::uint8_t>& sample_out);
  int user_ringbuf_submit(std::span<std::uint8_t> sample);
  int user_ringbuf_discard(std::span<std::uint8_t> sample);
  /// BPF_MAP_TYPE_RINGBUF, the consumer (libbpf's ring_buffer__consume): hands `fn` each submitted
  /// record in order, skipping discarded ones, up to the first record still reserved; the consumer
  /// position moves past each. Stops early when `fn` returns < 0. Returns the number of records
  /// handed over, or -EINVAL for other map types.
  int ringbuf_consume(const std::function<int(std::span<const std::uint8_t> record)>& fn);
  /// BPF_MAP_LOOKUP_AND_DELETE_ELEM on a hash map; 0, -ENOENT, -ENOTSUPP (524) elsewhere.
  int lookup_and_delete(std::span<const std::uint8_t> key, std::span<std::uint8_t> value_out);
  /// BPF_MAP_LOOKUP_BATCH / LOOKUP_AND_DELETE_BATCH: `in_batch` is null at the start, else the
  /// previous call's `out_batch` (batch_cursor_size() bytes each). On entry `count` is the room in
  /// keys/values (in elements), on return how many were copied; -ENOENT when the walk reached the end.
  int lookup_batch(const void* in_batch, void* out_batch, std::span<std::uint8_t> keys,
                   std::span<std::uint8_t> values, std::uint32_t& count, bool and_delete = false);
  /// BPF_MAP_UPDATE_BATCH with elem_flags 0 or BPF_F_LOCK; `count` in: elements, out: applied.
  int update_batch(std::span<const std::uint8_t> keys, std::span<const std::uint8_t> values, std::uint32_t& count,
                   std::uint64_t elem_flags = 0);
  /// BPF_MAP_DELETE_BATCH; `count` in: elements, out: deleted.
  int delete_batch(std::span<const std::uint8_t> keys, std::uint32_t& count);
  /// Bytes of a batch cursor: 4 for hash maps (a bucket index), else key_size().
  std::uint32_t batch_cursor_size() const;
  /// Queue/stack/bloom filter.
  int push(std::span<const std::uint8_t> value, std::uint64_t flags = 0);  ///< bpf_map_push_elem (queue, stack, bloom filter)
  int pop(std::span<std::uint8_t> value_out);  ///< bpf_map_lookup_and_delete_elem on a queue or stack

  /// The Error a typed call returns for `rc` (a negative errno): Errc::Errno, sys_errno = -rc.
  static Error errno_error(int rc);

 private:
  friend class Object;
  static constexpr int ENOENT_ = -2;  // -ENOENT without <cerrno> in a public header
  template <class T>
  static std::span<const std::uint8_t> as_bytes(const T& v) {
    return {reinterpret_cast<const std::uint8_t*>(&v), sizeof v};
  }
  template <class T>
  static std::span<std::uint8_t> as_writable_bytes(T& v) {
    return {reinterpret_cast<std::uint8_t*>(&v), sizeof v};
  }
  template <class K, class V>
  bool check(const K&, const V&) const {
    return sizeof(K) == key_size() && sizeof(V) == host_value_size();
  }
  static Result<void> as_result(int rc) {
    if (rc == 0) return {};
    return errno_error(rc);
  }
  static Error size_error() { return errno_error(-22 /* -EINVAL */); }
  Result<std::size_t> lookup_batch(MapBatchCursor& cursor, std::span<std::uint8_t> keys,
                                   std::span<std::uint8_t> values, std::size_t count, bool and_delete);
  explicit Map(void* impl) : impl_(impl) {}
  void* impl_;  // maps::Map
};

/// What Object::programs() lists about each program.
struct ProgramInfo {
  std::string name;  ///< the program's (function's) name: what Object::load takes
  std::string section;           ///< ELF section ("" for bytecode)
  std::string type;              ///< program type name ("xdp", "plain", ...)
  std::size_t insn_count = 0;  ///< size of the program in instructions
  bool autoload = true;          ///< false for SEC("?...")
};

/// One BTF line-info record: instructions from `insn` on (up to the next record) come from this line.
struct SourceLine {
  std::uint32_t insn = 0;  ///< first instruction the record covers
  std::string file;   ///< as the compiler recorded it (often an absolute path)
  std::uint32_t line = 0;  ///< 1-based source line
  std::uint32_t column = 0;  ///< column, as the compiler recorded it
  std::string text;   ///< the source line's text
};

/// What the verifier did for one program (Program::verifier_report()).
struct VerifierReport {
  std::uint64_t insns_processed = 0;  ///< instructions analysed, over all paths
  std::uint64_t states_stored = 0;  ///< abstract states kept for pruning
  std::uint32_t stack_depth_bytes = 0;  ///< deepest stack use of any path
  double time_us = 0;  ///< wall time of the verification
  std::vector<std::string> warnings;  ///< "insn N: ..." lines
  bool verified = false;              ///< false when ProgramOptions::verify was off
};

/// A program verified and prepared for an engine. run() is thread-safe: many threads may run one
/// Program at once (each run has its own stack and context; maps are shared and concurrent-safe).
class Program {
 public:
  /// Programs move; they do not copy.
  Program(Program&&) noexcept;
  /// Move assignment.
  Program& operator=(Program&&) noexcept;
  /// Releases the engine state (JIT code) and its share of the object's maps.
  ~Program();

  /// The program's name.
  const std::string& name() const;
  /// How the program is entered.
  const ProgramType& type() const;
  /// Statistics and warnings of the verification at load.
  const VerifierReport& verifier_report() const;
  /// Runs the program as BPF_PROG_TEST_RUN would; errors are faults of the run (memory, budget, helper).
  Result<RunOutput> run(const RunInput& input) const;
  /// The same into a caller-owned `out` whose buffers (data_out, ctx_out) are reused: the hot-path
  /// form for hosts that run a program once per event. A run then allocates nothing once `out` has
  /// held an output of the size and the thread has run once (packet types build their test-run frame
  /// on the stack). On failure `out` is left partly written. `input` may point into `out`'s buffers
  /// (the previous run's output).
  Result<void> run(const RunInput& input, RunOutput& out) const;
  /// Convenience for plain programs: r1 = data (copied), r2 = its size.
  Result<RunOutput> run(std::span<const std::uint8_t> data) const { return run(RunInput{data, {}, 1, nullptr, {}, false}); }
  /// Native code listing with eBPF instruction boundaries (JIT engine only) of the code runs use now:
  /// the optimizing tier's (with block and value notes) or the baseline's; its first line names the tier.
  Result<std::string> native_listing() const;
  /// Which tier this program's runs execute now (its options decide fast, counted or checked runs).
  JitTier jit_tier() const;
  /// Tiering on request for a JIT program: builds the optimizing tier's code; later fast runs use it
  /// (thread-safe; runs in flight finish on the baseline). Unsupported, with the reason, when the
  /// tier does not handle the program (runs stay on the baseline); InvalidArgument for the interpreter.
  Result<JitTier> optimize() const;
  /// The bytecode the engine runs, 8 little-endian bytes per instruction slot: the loaded program
  /// after context-access rewriting, which keeps every instruction at its index.
  std::vector<std::uint8_t> bytecode() const;
  /// BTF line info (ELF objects built with -g), sorted by instruction; empty otherwise.
  std::vector<SourceLine> source_lines() const;
  /// A host-held runner of this program for per-event calls (see Runner).
  Runner runner() const;

  /// Implementation state (api/impl.hpp).
  struct Impl;

 private:
  friend class Object;
  friend class Runner;
  explicit Program(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

/// The per-event form of Program::run: a host keeps one Runner per program and thread and calls
/// run() once per event. It holds what a run needs besides its input, set up once — the run's
/// context (input region, checked mode's map list), helper state and output buffers — so a call
/// copies the input, enters a CPU slot, runs the code and returns r0; it allocates nothing once it
/// has run on an input of that size, and reads no clock unless RunInput::measure_time asks.
/// Same results and errors as Program::run (budgets, checked mode, helper faults).
///
/// Threading: a Runner is used by one thread at a time (not shared between threads concurrently; it
/// may move between threads between calls). Any number of Runners of one Program may run at once,
/// beside Program::run calls. A Runner is not re-entrant: a helper of its own run calling run() on
/// it gets InvalidArgument (use Program::run or another Runner there).
/// Lifetime: a Runner keeps its program (and the program's maps) alive; the Program handle it came
/// from may be destroyed first.
/// Tiering: Program::optimize() from any thread while Runners are in use is safe; each Runner's
/// next call runs the optimized code (the tier is read on every call, nothing is cached).
/// Map memory: a Runner holds a CPU slot (maps' per-CPU values, reclamation epochs) only while
/// run() executes, as Program::run does; between calls it blocks no reclamation.
class Runner {
 public:
  /// A runner of `program` (Program::runner() does the same).
  explicit Runner(const Program& program);
  /// Runners move; they do not copy. A moved-from Runner may only be assigned to or destroyed.
  Runner(Runner&&) noexcept;
  /// Move assignment.
  Runner& operator=(Runner&&) noexcept;
  /// Releases the held state and its share of the program.
  ~Runner();

  /// One run on `data`, returning r0: plain programs get r1 = a copy of data, r2 = its size;
  /// context types a copy of data as the context; packet types data as the packet (as
  /// RunInput::data). output() holds the rest (the buffer, packet or context after the run).
  Result<std::uint64_t> run(std::span<const std::uint8_t> data, void* host_data = nullptr);
  /// The full form (ctx, repeat, coverage counters, timing), as Program::run(input, out) into output().
  Result<void> run(const RunInput& input);
  /// The last run's output; valid until the next run. On failure it is partly written.
  const RunOutput& output() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Programs and maps opened together (one ELF object, or one bytecode program). Owns the maps.
class Object {
 public:
  /// Objects move.
  Object(Object&&) noexcept;
  /// Move assignment.
  Object& operator=(Object&&) noexcept;
  /// Releases the maps once no loaded Program uses them.
  ~Object();

  /// Every program of the object.
  std::vector<ProgramInfo> programs() const;
  /// Every map, global-data maps (.data, .rodata, .bss, .kconfig) included.
  std::vector<Map> maps() const;
  /// The map called `name` as defined in the object, or nullopt.
  std::optional<Map> map(std::string_view name) const;
  /// Verifies (unless options.verify is off) and prepares one program for options.engine.
  /// Programs it tail-calls through prog_array initialisers are prepared alongside, for the same
  /// engine (a run's tail calls stay in its engine; programs of one object may use both engines).
  Result<Program> load(std::string_view program_name, const ProgramOptions& options = {}) const;
  /// The loader's view as text or JSON (`bpfvm objdump`).
  std::string report(bool json) const;
  /// Disassembly of one program: a listing (offset, bytes, instruction) with BTF source lines
  /// interleaved when the object has them, or (`assembly`) text that re-assembles.
  Result<std::string> disassemble(std::string_view program_name, bool assembly = false) const;
  /// The program's control-flow graph as Graphviz dot.
  Result<std::string> control_flow_dot(std::string_view program_name) const;

  /// Implementation state (api/impl.hpp).
  struct Impl;

 private:
  friend class Vm;
  explicit Object(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

/// A runtime instance: the helpers, program types and options programs run with. No global state:
/// a process may hold several. Configure helpers before opening objects.
class Vm {
 public:
  /// A runtime with every kernel helper registered.
  explicit Vm(const VmOptions& options = {});
  /// Vms move; objects opened earlier keep what they need.
  Vm(Vm&&) noexcept;
  /// Move assignment.
  Vm& operator=(Vm&&) noexcept;
  /// Objects and programs opened from this Vm stay usable.
  ~Vm();

  /// Adds or replaces a helper by id (kernel helpers are registered already).
  void add_helper(HostHelper helper);
  /// Adds or replaces a kfunc by name (bpfvm's own, e.g. the dynptr kfuncs, are registered already).
  void add_kfunc(HostKfunc kfunc);
  /// Where bpf_trace_printk / bpf_snprintf-based tracing goes (default: dropped).
  void set_trace_sink(std::function<void(std::string_view)> sink);
  /// The task bpf_get_current_pid_tgid / uid_gid / comm report (default: this process, read at the
  /// first such helper call, not when the Vm is made). A task set here has no cgroup:
  /// bpf_get_current_cgroup_id and its ancestors answer 0 (default: the calling thread's cgroup v2,
  /// re-read at most every 10 ms, so a move to another cgroup shows within that).
  void set_current_task(std::uint32_t tgid, std::uint32_t pid, std::uint32_t uid, std::uint32_t gid, std::string comm);

  /// bpf_timer: replaces the clock of CLOCK_MONOTONIC, CLOCK_BOOTTIME and CLOCK_REALTIME timers (and
  /// bpf_ktime_get_ns / bpf_ktime_get_boot_ns) with `now_ns`, e.g. a test's clock the host advances.
  /// Default (and an empty function): the host's clocks. Set it before the first run.
  void set_clock(std::function<std::uint64_t()> now_ns);
  /// bpf_timer callbacks fire only here (and on no thread of bpfvm's): runs the callback of every timer
  /// armed before this call whose expiry (bpf_timer_start) is at or before its clock's now, earliest
  /// first, ties in arming order, each as a run of the program that set it (a CPU slot, its checked
  /// mode and budget; the interpreter or JIT it was prepared for). A callback that re-arms its timer
  /// fires at a later call. Returns how many callbacks ran; a failing callback (helper fault, budget)
  /// stops the call with its error. Thread-safe: an embedder may call it from a thread of its own
  /// at next_timer_expiry().
  Result<std::size_t> run_due_timers();
  /// The earliest expiry among armed bpf_timers (ns on their clock), or nullopt when none is armed.
  std::optional<std::uint64_t> next_timer_expiry() const;

  /// Opens an ELF object from memory (libbpf conventions: SEC names, .maps, globals, CO-RE);
  /// `object_name` prefixes global-data map names as libbpf does.
  Result<Object> open_elf(std::span<const std::uint8_t> elf, const LoadOptions& options = {},
                          std::string object_name = "obj") const;
  /// Opens an ELF object file; Errc::Io when it cannot be read.
  Result<Object> open_elf_file(const std::string& path, const LoadOptions& options = {}) const;
  /// Opens raw eBPF bytecode (8 bytes per slot) as a one-program object.
  Result<Object> open_bytecode(std::span<const std::uint8_t> bytecode, const ProgramType& type,
                               std::string name = "prog") const;
  /// Assembles text in the conformance suite's dialect into a one-program object.
  Result<Object> open_assembly(std::string_view text, const ProgramType& type, std::string name = "prog") const;

  /// Implementation state (api/impl.hpp).
  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bpfvm
