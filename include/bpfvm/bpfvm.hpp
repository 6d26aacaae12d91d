// bpfvm's public C++ API: a runtime instance (Vm) opens objects (ELF, bytecode, assembly), whose
// programs are verified and prepared for an engine (Program), run against the object's maps (Map).
// No exceptions cross this API: every fallible call returns a Result<T>.
#pragma once

#include <cstddef>
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

/// What executes a program: the interpreter or native code from the JIT (x86-64, arm64).
enum class Engine : std::uint8_t { Interpreter, Jit };

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
  Entry entry = Entry::PlainMemory;  ///< how the program is entered
  std::uint32_t ctx_size_bytes = 0;        ///< host-defined contexts only
  std::vector<ContextField> fields;        ///< host-defined contexts only

  /// r1 = input buffer of at most max_input_bytes (the verifier's bound), r2 = its length.
  static ProgramType plain(std::uint32_t max_input_bytes = 4096);
  /// A kernel program type by BPF_PROG_TYPE_* number (XDP 6, SOCKET_FILTER 1, SCHED_CLS 3,
  /// SCHED_ACT 4, KPROBE 2, TRACEPOINT 5, RAW_TRACEPOINT 17, SYSCALL 31).
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
  /// The default protects a desktop from a small object that declares huge maps.
  std::uint64_t max_map_memory_bytes = std::uint64_t{1} << 30;  // 1 GiB; CLI: --max-map-memory
};

/// Options for opening an ELF object.
struct LoadOptions {
  /// Kernel BTF for CO-RE relocations, e.g. the bytes of /sys/kernel/btf/vmlinux.
  std::vector<std::uint8_t> target_btf;
  /// Values of __kconfig externs: "LINUX_KERNEL_VERSION" → "393216", "CONFIG_HZ" → "250".
  std::map<std::string, std::string, std::less<>> kconfig;
  /// false: open only to inspect (report, disassemble, programs, control_flow_dot), as `bpfvm
  /// objdump` does: no map is allocated, maps() is empty and load() fails.
  bool create_maps = true;
};

/// How Object::load prepares a program.
struct ProgramOptions {
  /// The engine that runs the program.
  Engine engine = Engine::Interpreter;
  /// Run the verifier (default). Turning it off is for fuzzing and debugging only.
  bool verify = true;
  /// Verifier: forbid pointer leaks (the kernel's unprivileged mode).
  bool unprivileged = false;
  /// Verifier bounds. The kernel's own limits always apply: 1,000,000 processed instructions
  /// (BPF_COMPLEXITY_LIMIT_INSNS), 8,192 branches waiting to be explored (BPF_COMPLEXITY_LIMIT_JMP_SEQ),
  /// 8 call frames. These are the host's, on top (0 = none): stored states, memory held by stored and
  /// queued states (an estimate), wall time. A program that hits one is rejected (Errc::Rejected,
  /// "verification stopped: <bound> passed the bound of N the host set"). The memory default keeps a
  /// hostile program from taking gigabytes; every program the kernel accepts stays far below it.
  std::uint64_t max_verifier_states = 0;
  std::uint64_t max_verifier_memory_bytes = std::uint64_t{1} << 30;  ///< 1 GiB; CLI --max-verifier-memory
  std::uint64_t max_verifier_time_us = 0;  ///< CLI --max-verifier-time-ms (milliseconds)
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
  /// Interpreter: also prepare edge-coverage dispatch, so runs may pass RunInput::edge_counters.
  bool coverage = false;
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
};

/// Result of one run (of the last one when RunInput::repeat > 1).
struct RunOutput {
  std::uint64_t r0 = 0;  ///< the program's return value
  std::uint32_t retval = 0;             ///< low 32 bits of r0, as BPF_PROG_TEST_RUN reports it
  std::vector<std::uint8_t> data_out;   ///< the packet after the run (packet types), or the buffer
  std::vector<std::uint8_t> ctx_out;  ///< the context after the run (context types)
  std::uint64_t insns_executed = 0;     ///< last run; 0 where the engine does not count (fast JIT)
  double ns_per_run = 0;                ///< mean wall time per repetition
  std::optional<std::uint32_t> redirect_ifindex;  ///< what bpf_redirect / redirect_map recorded
};

/// Programs and maps opened together (defined below).
class Object;
/// A loaded program (defined below).
class Program;

/// A key or value type the typed Map calls accept: trivially copyable and not a container.
template <class T>
concept PlainValue = std::is_trivially_copyable_v<T> && !std::ranges::range<T>;

/// A non-owning handle to one map of an Object (valid while the Object lives). Calls mirror the
/// bpf() map commands and return 0 or the kernel's negative errno.
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

  /// bpf_map_lookup_elem: copies the value (host_value_size() bytes) into value_out; 0, -ENOENT, -EINVAL.
  int lookup(std::span<const std::uint8_t> key, std::span<std::uint8_t> value_out) const;
  /// bpf_map_update_elem with BPF_ANY / BPF_NOEXIST / BPF_EXIST (and BPF_F_LOCK) flags; 0 or -errno.
  int update(std::span<const std::uint8_t> key, std::span<const std::uint8_t> value, std::uint64_t flags = 0);
  /// bpf_map_delete_elem; 0, -ENOENT, or -EINVAL for arrays.
  int erase(std::span<const std::uint8_t> key);
  /// First key when `key` is empty.
  int next_key(std::span<const std::uint8_t> key, std::span<std::uint8_t> next_out) const;
  /// Queue/stack/bloom filter.
  int push(std::span<const std::uint8_t> value, std::uint64_t flags = 0);  ///< bpf_map_push_elem (queue, stack, bloom filter)
  int pop(std::span<std::uint8_t> value_out);  ///< bpf_map_lookup_and_delete_elem on a queue or stack

  /// Typed forms for plain structs and integers: `map.lookup(key, value)` with `std::uint32_t key`.
  template <class K, class V>
    requires(PlainValue<K> && PlainValue<V>)
  /// Typed lookup(): `value` must hold host_value_size() bytes and `key` key_size() (else -EINVAL).
  int lookup(const K& key, V& value) const {
    return lookup(as_bytes(key), as_writable_bytes(value));
  }
  template <class K, class V>
    requires(PlainValue<K> && PlainValue<V>)
  /// Typed update().
  int update(const K& key, const V& value, std::uint64_t flags = 0) {
    return update(as_bytes(key), as_bytes(value), flags);
  }

 private:
  friend class Object;
  template <class T>
  static std::span<const std::uint8_t> as_bytes(const T& v) {
    return {reinterpret_cast<const std::uint8_t*>(&v), sizeof v};
  }
  template <class T>
  static std::span<std::uint8_t> as_writable_bytes(T& v) {
    return {reinterpret_cast<std::uint8_t*>(&v), sizeof v};
  }
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
  /// Convenience for plain programs: r1 = data (copied), r2 = its size.
  Result<RunOutput> run(std::span<const std::uint8_t> data) const { return run(RunInput{data, {}, 1, nullptr}); }
  /// Native code listing with eBPF instruction boundaries (JIT engine only).
  Result<std::string> native_listing() const;
  /// The bytecode the engine runs, 8 little-endian bytes per instruction slot: the loaded program
  /// after context-access rewriting, which keeps every instruction at its index.
  std::vector<std::uint8_t> bytecode() const;
  /// BTF line info (ELF objects built with -g), sorted by instruction; empty otherwise.
  std::vector<SourceLine> source_lines() const;

  /// Implementation state (api/impl.hpp).
  struct Impl;

 private:
  friend class Object;
  explicit Program(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
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
  /// Where bpf_trace_printk / bpf_snprintf-based tracing goes (default: dropped).
  void set_trace_sink(std::function<void(std::string_view)> sink);
  /// The task bpf_get_current_pid_tgid / uid_gid / comm report (default: this process).
  void set_current_task(std::uint32_t tgid, std::uint32_t pid, std::uint32_t uid, std::uint32_t gid, std::string comm);

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
