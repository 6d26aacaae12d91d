// The verifier's public interface: what a program may assume (program type, maps, helpers), the
// verdict, and the VerifiedProgram only it can construct.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bpfvm/result.hpp"
#include "verifier/kernel_types.hpp"
#include "vm/helper_registry.hpp"
#include "vm/program.hpp"
#include "vm/stack_range.hpp"

namespace bpfvm::verifier {

/// A map as the verifier sees it; lddw MapFd/MapIdx/MapValue/MapIdxValue name one by imm = index.
struct MapInfo {
  std::uint32_t type = 0;  // enum bpf_map_type (BPF_MAP_TYPE_HASH = 1, ARRAY = 2, RINGBUF = 27, ...)
  std::uint32_t key_size = 0, value_size = 0, max_entries = 0, flags = 0;
  /// ARRAY_OF_MAPS / HASH_OF_MAPS: the template every inner map matches (the kernel's inner_map_fd).
  std::shared_ptr<const MapInfo> inner;
  /// Offset of the value's struct bpf_spin_lock (from the map's BTF), or -1: none.
  std::int32_t spin_lock_off = -1;
  /// Offset of the value's struct bpf_timer (from the map's BTF), or -1: none.
  std::int32_t timer_off = -1;
  /// A frozen BPF_F_RDONLY_PROG array's one value (.rodata, .kconfig), or null: the kernel's
  /// bpf_map_direct_read makes a load at a constant offset from it a known constant, so a branch on a
  /// `const volatile` global is decided at load time and the other side is never explored.
  std::shared_ptr<const std::vector<std::uint8_t>> frozen_value;

  static constexpr std::uint32_t kRdonlyProg = 1u << 7;  // BPF_F_RDONLY_PROG: programs may only read it
  bool program_readonly() const { return (flags & kRdonlyProg) != 0; }
  /// The kernel's bpf_map_is_rdonly with a value to read: frozen_value of a BPF_F_RDONLY_PROG map, or null.
  const std::vector<std::uint8_t>* readonly_value() const {
    return frozen_value && program_readonly() ? frozen_value.get() : nullptr;
  }
};

/// What a context field yields when loaded.
/// SockCommonOrNull: __sk_buff.sk (PTR_TO_SOCK_COMMON_OR_NULL); Socket: bpf_sock_addr.sk (PTR_TO_SOCKET);
/// SocketOrNull: bpf_sock_ops.sk (PTR_TO_SOCKET_OR_NULL).
/// BtfPointer: a tracing program's argument that points to a kernel struct (CtxField::btf_id; PTR_TO_BTF_ID).
/// FlowKeys: __sk_buff.flow_keys (PTR_TO_FLOW_KEYS); TpBuffer: a writable raw tracepoint's args[0] (PTR_TO_TP_BUFFER).
enum class CtxFieldKind : std::uint8_t { Scalar, PacketData, PacketEnd, PacketMeta, SockCommonOrNull, Socket, SocketOrNull,
                                         BtfPointer, FlowKeys, TpBuffer };

/// One accessible range of the context. Scalar fields allow aligned loads of any width inside
/// the range; pointer fields allow exactly one load of size_bytes at offset.
struct CtxField {
  std::uint32_t offset = 0;
  std::uint32_t size_bytes = 0;
  bool writable = false;
  CtxFieldKind kind = CtxFieldKind::Scalar;
  /// Scalar fields the kernel lets a program touch only whole: loads (e.g. __sk_buff.remote_ip4) or
  /// stores (e.g. __sk_buff.mark) of exactly size_bytes at offset.
  bool whole_loads = false;
  bool whole_stores = false;
  /// Loads of any width up to size_bytes, but only at offset: a field the kernel's *_is_valid_access
  /// matches by its first byte (`case offsetof(...)`) and then lets bpf_ctx_narrow_access_ok pass.
  bool loads_at_start = false;
  /// Stores narrower than this are refused (sock_addr's user_ip6 takes 4- and 8-byte stores).
  std::uint8_t min_store_bytes = 0;
  /// BtfPointer: the struct's id in VerifierOptions::kernel_types.
  std::uint32_t btf_id = 0;
  /// Loads narrower than this are refused (sk_reuseport_md.eth_protocol: the skb's u16 protocol).
  std::uint8_t min_load_bytes = 0;
};

/// How the program is entered: r1 = the context, or (plain) r1 = N bytes of memory and r2 = N.
enum class EntryKind : std::uint8_t { Ctx, PlainMemory };

struct ProgramTypeInfo {
  std::string name = "plain";
  EntryKind entry = EntryKind::PlainMemory;
  std::uint32_t ctx_size_bytes = 0;  // Ctx: size of the context; PlainMemory: N
  std::vector<CtxField> fields;      // Ctx only
  bool packet_writable = false;      // stores through packet pointers allowed
  bool legacy_packet_loads = false;  // LD_ABS/LD_IND allowed: r6 = the skb (the kernel's may_access_skb)
  /// Non-empty: the kernel's reason this type may not use a map whose value holds a bpf_spin_lock.
  std::string_view spin_locks_refused;
  /// Non-empty: the kernel's reason this type may not use a map whose value holds a bpf_timer.
  std::string_view timers_refused;
  /// BTF struct name of the context ("xdp_md"): a global function's `struct <name> *` argument is the
  /// ctx (the kernel's btf_get_prog_ctx_type). Empty: no argument can be the ctx.
  std::string_view ctx_btf_name;
  /// Kernel types: the helper ids (up to 211) the type may call, sorted (the kernel's get_func_proto;
  /// verifier/helper_sets.hpp); a call of another kernel id is refused "program of this type cannot use
  /// helper". Ids above 211 (an embedder's own) are never restricted. Unset: every registered helper.
  std::optional<std::span<const std::uint8_t>> helper_ids;
  /// The main program's r0 at exit must be a scalar in [0, max_return] (the kernel's check_return_code
  /// for cgroup programs); unset: any value.
  std::optional<std::uint64_t> max_return;
  /// With max_return: the least r0 allowed (1 where the hook's result is fixed, e.g. getpeername).
  std::uint64_t min_return = 0;
  /// What bpf_map_update_elem / bpf_map_delete_elem may do to a SOCKMAP or SOCKHASH from this type
  /// (the kernel's may_update_sockmap): nothing, delete only (sock_ops), or both (socket filter, tc,
  /// xdp, flow dissector; plain and host types too).
  enum class SockmapWrites : std::uint8_t { None, Delete, UpdateDelete };
  SockmapWrites sockmap_writes = SockmapWrites::None;
  /// Helpers whose prototype this type replaces (the kernel's get_func_proto giving a type its own
  /// bpf_func_proto: sk_lookup's bpf_sk_assign takes a socket or NULL, tc's a socket): id, signature.
  std::vector<std::pair<std::uint32_t, vm::HelperSignature>> own_signatures;
  /// The context is as long as the caller's bytes (syscall: ctx_size_in), not ctx_size_bytes (only the
  /// bound of its fields): a run must give at least VerifierStats::ctx_bytes_reached bytes.
  bool ctx_size_at_run = false;
};

/// The signature a call of `helper` is checked against in `type`: its own, else the registry's.
inline const vm::HelperSignature& helper_signature(const ProgramTypeInfo& type, std::uint32_t helper,
                                                   const vm::HelperSignature& registered) {
  for (const auto& [id, sig] : type.own_signatures)
    if (id == helper) return sig;
  return registered;
}

/// How a global function's argument is checked at call sites and built for its own verification
/// (the kernel's btf_prepare_func_args, from the BTF FUNC_PROTO).
enum class GlobalArgKind : std::uint8_t {
  Scalar,  // int, enum: any initialised scalar; the callee sees an unknown scalar
  Ctx,     // pointer to the program type's context struct: must be the unmodified ctx
  Mem,     // pointer to a type of size_bytes: NULL or readable+writable memory of that size;
           // the callee sees memory of that size that may be NULL
};
struct GlobalArg {
  GlobalArgKind kind = GlobalArgKind::Scalar;
  std::uint32_t size_bytes = 0;  // Mem only
};

/// A global (non-static, BTF_FUNC_GLOBAL) BPF-to-BPF function. The kernel verifies each such function
/// once, on its own, from arguments built from its prototype, with a scalar return; a call checks the
/// arguments against the prototype, clobbers r1-r5, gives r0 an unknown scalar and is not followed.
/// Functions not listed (static ones, programs without BTF) are verified inline at every call.
struct GlobalFunc {
  std::uint32_t pc = 0;           // first insn
  std::string name;               // for messages
  std::vector<GlobalArg> params;  // r1, r2, ... (at most 5)
  /// Non-empty: why the kernel cannot verify this prototype ("doesn't return scalar", an argument type
  /// it does not support); calls to the function are refused with it.
  std::string unsupported;
};

namespace program_types {
ProgramTypeInfo plain(std::uint32_t mem_size_bytes);  // r1 = mem_size_bytes writable bytes, r2 = N
// struct xdp_md; egress_ifindex only for BPF_XDP_DEVMAP programs (xdp_is_valid_access)
ProgramTypeInfo xdp(std::uint32_t expected_attach_type = 0);
ProgramTypeInfo socket_filter();                      // struct __sk_buff, no direct packet access; LD_ABS/LD_IND
ProgramTypeInfo sched_cls();                          // tc: struct __sk_buff with data/data_end/data_meta; LD_ABS/LD_IND
ProgramTypeInfo kprobe();                             // struct pt_regs (x86-64), read only
ProgramTypeInfo tracepoint();                         // raw record, read only, up to 2048 bytes
ProgramTypeInfo raw_tracepoint();                     // struct bpf_raw_tracepoint_args: u64 args[12]
ProgramTypeInfo raw_tracepoint_writable();            // the same; args[0] is the tracepoint's writable buffer
ProgramTypeInfo flow_dissector();                     // __sk_buff's data, data_end and flow_keys only, read only
ProgramTypeInfo cgroup_skb();                         // struct __sk_buff as cg_skb_is_valid_access allows
ProgramTypeInfo lwt_in();                             // struct __sk_buff as lwt_is_valid_access allows, packet read only
ProgramTypeInfo lwt_out();                            // the same
ProgramTypeInfo lwt_xmit();                           // the same, packet writable
ProgramTypeInfo lwt_seg6local();                      // as lwt_in
/// struct bpf_sock as sock_filter_is_valid_access allows for the hook (enum bpf_attach_type; 0 = sock_create)
ProgramTypeInfo cgroup_sock(std::uint32_t expected_attach_type);
/// struct bpf_sock_addr as sock_addr_is_valid_access allows for the hook; refused (nullopt) for
/// an attach type that is not a sock_addr hook, as the kernel refuses the load
std::optional<ProgramTypeInfo> cgroup_sock_addr(std::uint32_t expected_attach_type);
ProgramTypeInfo cgroup_device();                      // struct bpf_cgroup_dev_ctx, read only
ProgramTypeInfo cgroup_sysctl();                      // struct bpf_sysctl: file_pos writable
ProgramTypeInfo perf_event();                         // struct bpf_perf_event_data (x86-64 regs), read only
ProgramTypeInfo sock_ops();                           // struct bpf_sock_ops: reply, sk_txhash writable
ProgramTypeInfo sk_skb();                             // struct __sk_buff as sk_skb_is_valid_access allows, packet writable
ProgramTypeInfo sk_msg();                             // struct sk_msg_md, read only; its data writable
ProgramTypeInfo sk_lookup();                          // struct bpf_sk_lookup, read only; sk a socket or NULL
ProgramTypeInfo sk_reuseport();                       // struct sk_reuseport_md, read only; packet from L4
/// The kernel lets a syscall program's accesses end at byte U16_MAX at most (the offset is below it).
inline constexpr std::uint32_t kSyscallCtxMaxBytes = 65535;
ProgramTypeInfo syscall();                            // the caller's bytes, any aligned offset, size checked at run
/// struct bpf_sockopt for BPF_CGROUP_GETSOCKOPT / BPF_CGROUP_SETSOCKOPT; nullopt for another attach type
std::optional<ProgramTypeInfo> cgroup_sockopt(std::uint32_t expected_attach_type);

/// One argument of a traced function or BTF tracepoint: a number, or a pointer to a kernel struct.
struct TracingArg {
  bool btf_pointer = false;
  std::uint32_t btf_id = 0;  // btf_pointer: the struct's id in VerifierOptions::kernel_types
};
/// BPF_PROG_TYPE_TRACING (tp_btf, fentry, fexit, fmod_ret; enum bpf_attach_type in
/// `expected_attach_type`): the context is u64 args[], one per argument of the attach target (fexit and
/// fmod_ret: then the return value), read only.
ProgramTypeInfo tracing(std::uint32_t expected_attach_type, const std::vector<TracingArg>& args);
}  // namespace program_types

struct VerifierOptions {
  ProgramTypeInfo program_type = program_types::plain(0);
  std::vector<MapInfo> maps;  // map index -> description
  /// When set, asked instead of `maps` (nullopt = no such map).
  std::function<std::optional<MapInfo>(std::uint32_t index)> map_info;
  const vm::HelperRegistry* helpers = nullptr;  // call signatures; no registry = no helper calls
  bool unprivileged = false;  // forbid pointer leaks, pointer comparisons and back-edges
  int log_level = 0;          // 0 none, 1 path and verdict, 2 the state at every instruction
  std::string* log = nullptr; // receives the log (also on rejection) when log_level > 0
  /// Source line of an instruction (BTF line info), appended to messages.
  std::function<std::string(std::uint32_t pc)> line_info;
  std::uint64_t max_processed_insns = 1'000'000;  // BPF_COMPLEXITY_LIMIT_INSNS
  /// Accept `div`/`mod` by an immediate 0 and shifts by an immediate >= the operand width, which
  /// RFC 9669 defines (the quotient is 0, the dividend stays, the count is masked) and the kernel
  /// refuses ("div by zero", "invalid shift"). Off by default; the conformance plugin's
  /// --rfc9669-constants turns it on for the suite's tests of exactly these instructions.
  bool permissive_constant_operands = false;
  /// BPF_COMPLEXITY_LIMIT_JMP_SEQ: more branches than this waiting to be explored at once = too complex.
  std::uint32_t max_jump_sequence = 8192;
  /// The host's bounds on one verification (0 = none); hitting one rejects the program, naming it.
  std::uint64_t max_states = 0;        // states stored for pruning
  std::uint64_t max_memory_bytes = 0;  // stored and queued states and their path histories (estimated)
  std::uint64_t max_time_us = 0;       // wall time (checked every 1024 processed insns)
  /// The kernel's types, for kernel object pointers (helpers returning one, tracing arguments). Null:
  /// such helpers and contexts are refused "not supported yet".
  const KernelTypes* kernel_types = nullptr;
  /// Without kernel_types: the kernel's types read only when a load through a map pointer needs them
  /// (struct bpf_map's layout), or null when there are none.
  std::function<const KernelTypes*()> kernel_types_on_demand;
  /// Global functions by first insn (from BTF func info; the loader/API fills it). Empty: none.
  std::vector<GlobalFunc> global_funcs;
  /// Whether the program comes with BTF func info, as the kernel's check_abnormal_return /
  /// check_btf_func see it: None refuses LD_ABS/LD_IND and tail calls in subprograms; Btf allows them
  /// in the subprograms listed in `scalar_return_funcs` (first insns of those returning an int or enum).
  /// Unknown (the default, for callers that do not say) checks neither.
  enum class FuncInfo : std::uint8_t { Unknown, None, Btf };
  FuncInfo func_info = FuncInfo::Unknown;
  std::vector<std::uint32_t> scalar_return_funcs;

  /// The global function starting at pc, or null (a static function: verified inline).
  const GlobalFunc* global_func(std::uint32_t pc) const {
    for (const auto& g : global_funcs)
      if (g.pc == pc) return &g;
    return nullptr;
  }
};

struct VerifierStats {
  std::uint64_t insns_processed = 0;  // instructions abstractly executed, over all paths (each global function once)
  std::uint64_t states_stored = 0;    // checkpoints kept for pruning
  std::uint64_t peak_states = 0;      // most paths waiting at once
  std::uint64_t states_pruned = 0;    // paths cut short by an explored state
  std::uint64_t peak_memory_bytes = 0;  // most memory stored and queued states held at once (estimate)
  std::uint32_t stack_depth_bytes = 0;
  std::uint32_t tp_buffer_bytes = 0;  // raw_tracepoint_writable: furthest buffer byte accessed (kernel max_tp_access)
  std::uint32_t ctx_bytes_reached = 0;  // furthest context byte a load or store reaches (kernel max_ctx_offset)
  std::uint64_t longest_history = 0;  // most insns a path recorded since its last checkpoint (what one backtrack may walk)
  std::uint64_t backtrack_insns_walked = 0;  // history entries precision backtracking looked at, over all walks
  double time_us = 0;
};

struct Warning {
  std::uint32_t pc;
  std::string message;
};

class VerifiedProgram;
Result<VerifiedProgram> verify(const vm::Program& program, const VerifierOptions& options);

/// A program the verifier accepted. Engines take this type, so nothing unverified runs.
class VerifiedProgram {
 public:
  const vm::Program& program() const { return program_; }
  const VerifierStats& stats() const { return stats_; }
  const std::vector<Warning>& warnings() const { return warnings_; }
  /// Per insn: 1 when it is a load, store or atomic whose base register is the context pointer (the
  /// verifier's type, on every path that reaches it), else 0 — what the ctx-access rewrite follows.
  const std::vector<std::uint8_t>& ctx_accesses() const { return ctx_accesses_; }
  /// Per insn: the stack bytes it may touch on every path that reaches it (vm/stack_range.hpp) — a
  /// load's, store's or atomic's through a stack pointer, Unknown for a call given a stack pointer or
  /// an insn of a global function (verified for any arguments); None for the rest and insns no path
  /// runs. What the optimizing tier's stack promotion follows in a frame whose address escapes.
  const std::vector<vm::StackRange>& stack_ranges() const { return stack_ranges_; }
  /// Some path reads stack bytes no store wrote (privileged only, the kernel's allow_uninit_stack).
  /// The engines must then start every run on a zeroed stack (InterpreterOptions / JitOptions
  /// ::zero_stack), so no run sees an earlier run's bytes.
  bool reads_uninit_stack() const { return reads_uninit_stack_; }

 private:
  VerifiedProgram(vm::Program program, VerifierStats stats, std::vector<Warning> warnings,
                  std::vector<std::uint8_t> ctx_accesses, std::vector<vm::StackRange> stack_ranges,
                  bool reads_uninit_stack)
      : program_(std::move(program)), stats_(stats), warnings_(std::move(warnings)),
        ctx_accesses_(std::move(ctx_accesses)), stack_ranges_(std::move(stack_ranges)),
        reads_uninit_stack_(reads_uninit_stack) {}
  friend Result<VerifiedProgram> verify(const vm::Program&, const VerifierOptions&);

  vm::Program program_;
  VerifierStats stats_;
  std::vector<Warning> warnings_;
  std::vector<std::uint8_t> ctx_accesses_;
  std::vector<vm::StackRange> stack_ranges_;
  bool reads_uninit_stack_ = false;
};

/// The program's control-flow graph (basic blocks, jumps, calls) as Graphviz dot.
std::string cfg_to_dot(const vm::Program& program);

}  // namespace bpfvm::verifier
