// Violations: why a program is refused, as data (kind plus the facts involved). checks.cpp holds the
// safety checks shared by the transfer functions; diagnostics.cpp turns a Violation into words.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "verifier/domains/reg_value.hpp"
#include "verifier/state.hpp"
#include "verifier/verifier.hpp"
#include "bpfvm/helper_signature.hpp"

namespace bpfvm::verifier {

enum class ViolationKind : std::uint8_t {
  UninitRegister,      // read of a register never written (R0 !read_ok)
  FramePointerWrite,   // r10 written
  UninitStackRead,     // stack bytes read before written; with detail.write a store over a referenced dynptr
  InvalidMemAccess,    // dereference of something that is not a memory pointer
  MaybeNullAccess,     // dereference of a pointer that may be null
  OutOfBounds,         // access outside the object the pointer points into
  VariableOffset,      // non-constant offset where only constants are allowed
  CtxFieldAccess,      // access to a context field that does not exist or is read only
  ModifiedCtx,         // load/store through the context pointer plus a constant (detail.limit)
  ReadOnlyWrite,       // store into read-only memory
  PointerArithmetic,   // arithmetic not allowed on this pointer type
  PointerOffsetRange,  // pointer arithmetic past BPF_MAX_VAR_OFF (kernel check_reg_sane_offset; note says which)
  PointerLeak,         // unprivileged: pointer value becomes observable
  PointerComparison,   // unprivileged: pointer compared with a non-pointer
  UnknownHelper,       // call of a helper id the registry lacks
  HelperNotAllowed,    // kernel helper the program type may not call (its get_func_proto)
  MapFuncMismatch,     // map of a type the helper does not take, or a helper the map type does not allow
  DivByZero,           // div/mod by an immediate 0 (the kernel's check_alu_op)
  InvalidShift,        // shift by an immediate >= the operand width (or negative)
  RecursiveCall,       // BPF-to-BPF call graph with a cycle
  HelperArgType,       // helper argument of the wrong type
  HelperArgMemory,     // helper memory argument too small or not initialised
  HelperArgSize,       // size argument unbounded or zero
  UnreleasedReference, // exit while a ring buffer reservation is held
  InvalidReturn,       // r0 wrong at exit
  BackEdge,            // unprivileged: loop
  InfiniteLoop,        // loop state repeats exactly
  TooComplex,          // processed-insn limit
  JumpSequence,        // too many branches waiting to be explored (BPF_COMPLEXITY_LIMIT_JMP_SEQ)
  HostBound,           // a bound the host set (states, memory, time; detail.note names it)
  Unreachable,         // statically unreachable insn
  JumpOutOfFunction,   // jump leaves its subprogram
  FallThroughFunction, // subprogram does not end in exit/ja
  CallDepth,           // too many nested frames
  UnknownMap,          // lddw names a map the options do not describe
  StackPointerEscape,  // a frame's stack pointer outlives the frame
  AtomicNotAllowed,    // atomic on ctx/packet
  MisalignedAtomic,    // atomic whose address is not provably a multiple of its width
  MisalignedStack,     // stack load/store whose offset is not provably a multiple of its size
  PacketLoadNotAllowed,// LD_ABS/LD_IND in a non-skb program, with r6 not the context, or holding a reference
  SpinLock,            // bpf_spin_lock rules: one lock, the map's lock field, no calls or exit while held
  Timer,               // bpf_timer rules: the map's timer field, its own map, no direct access (note says which)
  GlobalFuncArg,       // call to a global function with an argument its BTF prototype does not allow
  GlobalFunc,          // global function: prototype not verifiable, called holding a lock, non-scalar return
  BtfAccess,           // load or store through a kernel object pointer its BTF layout refuses (note says why)
  MixedPointerBase,    // one load/store reached with the context on one path and other memory on another
  KfuncNotAllowed,     // kfunc call the kernel refuses: unknown, not for this type or unprivileged (note says which)
  Unsupported,         // a construct this verifier does not handle yet
  StackSpillSize,      // a pointer stored to or loaded from the stack in fewer than 8 bytes
  WriteOnlyRead,       // load (or helper read) from the value of a BPF_F_WRONLY_PROG map
  AbnormalSubprogExit, // LD_ABS/LD_IND or tail call in a subprogram func info does not show returning a scalar (note: the kernel's words)
  MapForProgram,       // a map the program may not reference at all (check_map_prog_compatibility; note: the kernel's words)
};

/// The facts a message needs. Fields a kind does not use keep their defaults.
struct ViolationDetail {
  int reg = -1;                // register involved (first)
  int reg2 = -1;               // second register (comparisons, arithmetic)
  std::int64_t off_min = 0;    // access offset range, after adding insn.off
  std::int64_t off_max = 0;
  std::int64_t size = 0;       // access width or helper memory size
  std::int64_t limit = 0;      // object size, frame count, insn limit
  std::uint32_t helper = 0;    // helper id
  int arg = -1;                // helper argument number 1..5
  std::uint32_t other_pc = 0;  // target of a back-edge or jump
  bool write = false;
  vm::ArgType expected = vm::ArgType::DontCare;
  std::string_view note;       // static text naming the construct (Unsupported, context)
  std::string_view kfunc;      // kfunc calls: the kfunc's name (the registry's, alive through verify())
};

/// ViolationDetail::note of PointerOffsetRange (detail.limit is the value named, detail.reg the pointer).
inline constexpr std::string_view kPointerMathNotAllowed = "known scalar";
inline constexpr std::string_view kPointerMathUnboundedMin = "unbounded min";
inline constexpr std::string_view kPointerOutOfBounds = "min out of range";
inline constexpr std::string_view kPointerOffsetNotAllowed = "pointer offset";
/// ViolationDetail::note of PointerArithmetic for `scalar -= pointer` (detail.reg the scalar).
inline constexpr std::string_view kPointerFromScalar = "pointer from scalar";
/// ViolationDetail::note of PointerArithmetic for an ALU op on two pointers other than a privileged
/// subtraction (detail.reg the destination, detail.limit the op's isa::Kind).
inline constexpr std::string_view kPointerWithPointer = "pointer with pointer";
/// ViolationDetail::note of PointerArithmetic for `stack pointer -= scalar` (the kernel's
/// adjust_ptr_min_max_vals refuses every subtraction from a stack pointer; `+= -8` is the way).
inline constexpr std::string_view kStackSubtraction = "subtraction from stack pointer";

struct Violation {
  std::uint32_t pc = 0;
  ViolationKind kind = ViolationKind::Unsupported;
  ViolationDetail detail;
};

using Check = std::optional<Violation>;

inline Violation violation(std::uint32_t pc, ViolationKind kind, ViolationDetail detail = {}) {
  return Violation{pc, kind, detail};
}

/// The map description for an index, from options.map_info or options.maps.
std::optional<MapInfo> map_info_of(const VerifierOptions& options, std::uint32_t index);
/// Map "index" naming the inner-map template of map `outer` (a register's MapPtr after a map-in-map lookup).
inline constexpr std::uint32_t kInnerMapBit = 0x80000000u;

/// Register r must be initialised (R%d !read_ok).
Check check_reg_init(const State& s, int r, std::uint32_t pc);

/// A load or store of `size` bytes at reg r + off. On a permitted load, *loaded is what the
/// destination receives. `value` is the stored value for StoreReg (nullptr for stores of imm).
/// A privileged read of stack bytes no store wrote (the kernel's allow_uninit_stack) is permitted,
/// yields unknown bytes and sets `reads_uninit_stack`; unprivileged, it is refused.
Check check_mem_access(const VerifierOptions& opts, State& s, std::uint32_t pc, int r, std::int32_t off,
                       int size, bool write, const RegValue* value, RegValue* loaded, bool& reads_uninit_stack);

/// Helper memory argument: [ptr, ptr + size_max) readable (and initialised, or `reads_uninit_stack`
/// as for check_mem_access) or writable. Marks stack bytes [ptr, ptr + size_min) initialised when
/// `write`. Size 0 still checks the pointer's bounds (the kernel's check_stack_access_within_bounds).
Check check_helper_mem(const VerifierOptions& opts, State& s, std::uint32_t pc, int r, std::int64_t size_min,
                       std::int64_t size_max, bool write, std::uint32_t helper, int arg, bool& reads_uninit_stack);

}  // namespace bpfvm::verifier
