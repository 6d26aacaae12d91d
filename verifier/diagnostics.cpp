// Diagnostics: messages in a kernel engineer's words, naming the insn, the reason and the
// abstract state of the registers involved.
#include "verifier/diagnostics.hpp"

#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "vm/disassembler.hpp"

namespace bpfvm::verifier {

namespace {

// The kernel's bpf_alu_string spelling of an ALU op (an isa::Kind stored in ViolationDetail::limit).
std::string alu_op_text(std::int64_t kind) {
  using isa::Kind;
  switch (static_cast<Kind>(kind)) {
    case Kind::Add: return "+=";
    case Kind::Sub: return "-=";
    case Kind::Mul: return "*=";
    case Kind::Div: case Kind::SDiv: return "/=";
    case Kind::Or: return "|=";
    case Kind::And: return "&=";
    case Kind::Lsh: return "<<=";
    case Kind::Rsh: return ">>=";
    case Kind::Mod: case Kind::SMod: return "%=";
    case Kind::Xor: return "^=";
    case Kind::Arsh: return "s>>=";
    default: return "op";
  }
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#" PRIx64, v);
  return buf;
}

std::string type_name(const RegValue& v) {
  const std::string null = v.maybe_null ? "_or_null" : "";
  switch (v.type) {
    case RegType::NotInit: return "not_init";
    case RegType::Scalar: return "scalar";
    case RegType::Ctx: return "ctx";
    case RegType::Stack: return "fp";
    case RegType::MapPtr: return "map_ptr" + null;
    case RegType::MapValue: return "map_value" + null;
    case RegType::Packet: return "pkt";
    case RegType::PacketEnd: return "pkt_end";
    case RegType::PacketMeta: return "pkt_meta";
    case RegType::Mem: return std::string(v.read_only ? "rdonly_" : "") + (v.packet_slice ? "pkt_slice_mem" : "mem") + null;
    case RegType::RingbufMem: return "ringbuf_mem" + null;
    case RegType::FuncPtr: return "func";
    case RegType::SockCommon: return "sock_common" + null;
    case RegType::Socket: return "sock" + null;
    case RegType::TcpSock: return "tcp_sock" + null;
    case RegType::BtfId:
      return std::string(v.untrusted ? "untrusted_" : "") + (v.percpu ? "percpu_" : "") + "ptr_to_btf_id" + null;
    case RegType::FlowKeys: return "flow_keys";
    case RegType::TpBuffer: return "tp_buffer";
    case RegType::Dynptr: return "dynptr_ptr";
  }
  return "?";
}

std::string describe_scalar(const ScalarDomain& d) {
  if (d.is_bottom()) return "bottom";
  if (d.is_const()) {
    const auto v = static_cast<std::int64_t>(d.const_value());
    return v >= -4096 && v <= 4096 ? std::to_string(v) : hex(d.const_value());
  }
  std::ostringstream o;
  const auto& b = d.bounds();
  const char* sep = "";
  auto field = [&](const char* name, const std::string& value) {
    o << sep << name << "=" << value;
    sep = ",";
  };
  if (b.smin() != INT64_MIN) field("smin", std::to_string(b.smin()));
  if (b.smax() != INT64_MAX) field("smax", std::to_string(b.smax()));
  if (b.umin() != 0) field("umin", std::to_string(b.umin()));
  if (b.umax() != UINT64_MAX) field("umax", std::to_string(b.umax()));
  if (b.umax() > 0xffffffffu) {
    if (b.u32min() != 0) field("umin32", std::to_string(b.u32min()));
    if (b.u32max() != UINT32_MAX) field("umax32", std::to_string(b.u32max()));
  }
  if (d.bits().mask() != ~std::uint64_t{0})
    field("var_off", "(" + hex(d.bits().value()) + "; " + hex(d.bits().mask()) + ")");
  return "(" + o.str() + ")";
}

std::string reg_name(int r) { return "R" + std::to_string(r); }

const char* arg_type_name(vm::ArgType t) {
  switch (t) {
    case vm::ArgType::DontCare: return "any";
    case vm::ArgType::Anything: return "an initialised value";
    case vm::ArgType::ConstMapPtr: return "map_ptr";
    case vm::ArgType::PtrToMapKey: return "a pointer to the map key";
    case vm::ArgType::PtrToMapValue: return "a pointer to a map value";
    case vm::ArgType::PtrToMem: return "a pointer to readable memory";
    case vm::ArgType::PtrToUninitMem: return "a pointer to writable memory";
    case vm::ArgType::ConstSize: return "a bounded size > 0";
    case vm::ArgType::ConstSizeOrZero: return "a bounded size";
    case vm::ArgType::PtrToCtx: return "ctx";
    case vm::ArgType::PtrToStack: return "fp or NULL";
    case vm::ArgType::PtrToFunc: return "func";
    case vm::ArgType::PtrToRingbufMem: return "ringbuf_mem (a checked bpf_ringbuf_reserve result)";
    case vm::ArgType::PtrToSpinLock: return "spin_lock";
    case vm::ArgType::PtrToLong: return "a pointer to 8 writable bytes";
    case vm::ArgType::PtrToConstStr: return "const_str";
    case vm::ArgType::ConstAllocSizeOrZero: return "a constant size";
    case vm::ArgType::PtrToUninitMapValue: return "a pointer to a writable map value buffer";
    case vm::ArgType::PtrToInt: return "a pointer to 4 writable bytes";
    case vm::ArgType::PtrToSocket: return "sock (a checked full socket pointer)";
    case vm::ArgType::PtrToSockCommon:
    case vm::ArgType::PtrToBtfIdSockCommon: return "sock_common, sock or tcp_sock (a checked socket pointer)";
    case vm::ArgType::PtrToBtfId: return "ptr_to_btf_id (a kernel object)";
    case vm::ArgType::PtrToDynptr: return "dynptr";
    case vm::ArgType::PtrToTimer: return "timer (a map value's struct bpf_timer)";
    case vm::ArgType::PtrToKptr: return "kptr";
    case vm::ArgType::PtrToCtxOrNull: return "ctx or NULL";
    case vm::ArgType::PtrToMapValueOrNull: return "a pointer to a map value or NULL";
    case vm::ArgType::PtrToBtfIdOrNull: return "ptr_to_btf_id or NULL (a kernel object)";
    case vm::ArgType::PtrToSocketOrNull: return "sock or NULL (a full socket pointer)";
    case vm::ArgType::PtrToMemOrNull: return "a pointer to readable memory, or NULL with a zero size";
  }
  return "?";
}

std::string helper_name(const VerifierOptions& o, std::uint32_t id) {
  if (o.helpers)
    if (const auto* e = o.helpers->find(id); e && !e->name.empty()) return e->name + "#" + std::to_string(id);
  return "helper#" + std::to_string(id);
}

// The callee an argument message names: the kfunc, or the helper by id.
std::string callee_name(const VerifierOptions& o, const ViolationDetail& d) {
  return d.kfunc.empty() ? helper_name(o, d.helper) : "kfunc " + std::string(d.kfunc);
}

// The references a program can hold, by the helper that acquired them (the insn Env::note_ref
// recorded): a ring buffer record, a ring buffer dynptr, or a socket (bpf_sk_lookup_tcp/udp,
// bpf_skc_lookup_tcp, a SOCKMAP/SOCKHASH lookup).
constexpr std::uint32_t kRingbufReserve = 131, kRingbufReserveDynptr = 198;  // BPF_FUNC_ringbuf_reserve(_dynptr)

std::uint32_t acquiring_helper(const vm::Program& p, std::uint32_t pc) {
  if (pc >= p.size() || p.ops[pc] == isa::kNoOp || p.op(pc).form != isa::Form::Call) return 0;
  return static_cast<std::uint32_t>(p.insns[pc].imm);
}

std::string reference_kind(const vm::Program& p, const VerifierOptions& o, std::uint32_t pc) {
  const std::uint32_t helper = acquiring_helper(p, pc);
  if (helper == kRingbufReserve) return "the ring buffer record bpf_ringbuf_reserve returned";
  if (helper == kRingbufReserveDynptr) return "the ring buffer dynptr bpf_ringbuf_reserve_dynptr made";
  if (helper != 0) return "the socket " + helper_name(o, helper) + " returned";
  return "the acquired reference";
}

std::string reference_release(const vm::Program& p, std::uint32_t pc) {
  switch (acquiring_helper(p, pc)) {
    case kRingbufReserve: return "submitted or discarded (bpf_ringbuf_submit/discard)";
    case kRingbufReserveDynptr:
      return "submitted or discarded (bpf_ringbuf_submit_dynptr/discard_dynptr, even when the reservation failed)";
    case 0: return "released";
    default: return "released (bpf_sk_release)";
  }
}

std::string region_name(const State* s, int reg) {
  if (!s || reg < 0) return "memory";
  switch (s->reg(reg).type) {
    case RegType::Stack: return "stack";
    case RegType::MapValue: return "map value";
    case RegType::Packet: return "packet";
    case RegType::PacketMeta: return "packet metadata";
    case RegType::Mem: return "memory";
    case RegType::RingbufMem: return "ring buffer reservation";
    case RegType::Ctx: return "context";
    case RegType::SockCommon: case RegType::Socket: return "struct bpf_sock";
    case RegType::TcpSock: return "struct bpf_tcp_sock";
    case RegType::BtfId: return "kernel object";
    case RegType::FlowKeys: return "struct bpf_flow_keys";
    case RegType::TpBuffer: return "tracepoint buffer";
    case RegType::Dynptr: return "struct bpf_dynptr";
    case RegType::NotInit: case RegType::Scalar: case RegType::MapPtr: case RegType::PacketEnd:
    case RegType::FuncPtr: break;
  }
  return "memory";
}

std::string global_func_name(const VerifierOptions& o, std::uint32_t pc) {
  const GlobalFunc* g = o.global_func(pc);
  return g && !g->name.empty() ? g->name : "at insn " + std::to_string(pc);
}

std::string global_arg_expected(const VerifierOptions& o, std::uint32_t pc, int arg) {
  const GlobalFunc* g = o.global_func(pc);
  if (!g || arg < 0 || static_cast<std::size_t>(arg) >= g->params.size()) return "?";
  const auto& a = g->params[static_cast<std::size_t>(arg)];
  switch (a.kind) {
    case GlobalArgKind::Scalar: return "a scalar";
    case GlobalArgKind::Ctx: return "the unmodified ctx pointer";
    case GlobalArgKind::Mem: return "pointer to " + std::to_string(a.size_bytes) + " bytes of memory or NULL";
  }
  return "?";
}

std::string reason(const vm::Program& p, const VerifierOptions& o, const Violation& v, const State* s) {
  const auto& d = v.detail;
  const std::string r = reg_name(d.reg);
  const std::string access = std::to_string(d.size) + "-byte " + (d.write ? "store" : "load");
  const std::string offs = d.off_min == d.off_max ? "off=" + std::to_string(d.off_min)
                                                  : "off=[" + std::to_string(d.off_min) + "," + std::to_string(d.off_max) + "]";
  switch (v.kind) {
    case ViolationKind::UninitRegister:
      return r + " !read_ok: r" + std::to_string(d.reg) + " is read before any instruction wrote it";
    case ViolationKind::FramePointerWrite:
      return "frame pointer is read only: r10 cannot be written";
    case ViolationKind::UninitStackRead:
      return std::string(d.write ? "invalid write to stack " : "invalid read from stack ") + r + " " + offs + " size=" + std::to_string(d.size) + ": " +
             (d.note.empty() ? std::string("the bytes are read before they are written") : std::string(d.note));
    case ViolationKind::InvalidMemAccess:
      if (!d.note.empty()) return "invalid access to map value pointer: " + std::string(d.note);
      return r + " invalid mem access '" + (s ? type_name(s->reg(d.reg)) : std::string("scalar")) +
             "': r" + std::to_string(d.reg) + " is not a pointer to memory the program may " + (d.write ? "write" : "read");
    case ViolationKind::MaybeNullAccess:
      return r + " invalid mem access '" + (s ? type_name(s->reg(d.reg)) : std::string("ptr_or_null")) + "': r" +
             std::to_string(d.reg) + " may be null before " + access +
             "; compare it with 0 first (helpers return NULL on failure; a global function's pointer arguments may be "
             "NULL)";
    case ViolationKind::OutOfBounds: {
      const std::string what = region_name(s, d.reg);
      std::string text = "invalid access to " + what + " " + r + " " + offs + " size=" + std::to_string(d.size);
      if (what == "packet" || what == "packet metadata") {
        text += ": only " + std::to_string(d.limit) + " bytes are proven to lie before " +
                (what == "packet" ? "data_end" : "data");
        // No packet is 64 KiB or longer (the kernel's MAX_PACKET_OFF): past that, the offset itself
        // needs a bound before any comparison with the end can help.
        if (d.off_max > kMaxPacketOff - d.size) return text + "; the offset is not bounded: check it against a limit first";
        return text + "; check `if (ptr + " + std::to_string(d.off_max + d.size) + " > end)` first";
      }
      if (what == "stack") return text + ": outside the 512-byte stack frame [-512, 0)";
      if (what == "tracepoint buffer") return text + ": before the buffer's start";
      return text + ": the object has " + std::to_string(d.limit) + " bytes";
    }
    case ViolationKind::VariableOffset:
      return "variable ctx access prohibited: " + r + " " + offs + "; context offsets must be constants";
    case ViolationKind::ModifiedCtx:
      return std::string(d.limit < 0 ? "negative offset ctx ptr " : "dereference of modified ctx ptr ") + r +
             " off=" + std::to_string(d.limit) + " disallowed: load and store through the context pointer itself, "
             "the field's offset in the instruction";
    case ViolationKind::CtxFieldAccess:
      if (d.note == "socket")
        return "invalid " + (s ? type_name(s->reg(d.reg)) : std::string("sock")) + " access off=" +
               std::to_string(d.off_min) + " size=" + std::to_string(d.size) + ": no such readable field of " +
               region_name(s, d.reg);
      return "invalid bpf_context access off=" + std::to_string(d.off_min) + " size=" + std::to_string(d.size) +
             (d.write ? " (write)" : "") + ": no such " + (d.write ? "writable " : "") + "field of the " +
             o.program_type.name + " context";
    case ViolationKind::ReadOnlyWrite:
      return "write into read-only " + region_name(s, d.reg) + " through " + r +
             (d.arg > 0 ? " (argument " + std::to_string(d.arg) + " of " + callee_name(o, d) +
                              ", which the helper writes)"
                        : std::string());
    case ViolationKind::UnreleasedReference:
      if (!d.note.empty())
        return std::string(d.note) + ": reference id=" + std::to_string(d.limit) + " (" + reference_kind(p, o, d.other_pc) +
               ") is held; a successful tail call never returns to release it";
      return "Unreleased reference id=" + std::to_string(d.limit) + " alloc_insn=" + std::to_string(d.other_pc) + ": " +
             reference_kind(p, o, d.other_pc) + " must be " + reference_release(p, d.other_pc) + " on every path";
    case ViolationKind::PointerArithmetic:
      if (d.note == kPointerFromScalar) return r + " tried to subtract pointer from scalar";
      if (d.note == kPointerWithPointer) return r + " pointer " + alu_op_text(d.limit) + " pointer prohibited";
      if (d.note == kStackSubtraction) return r + " subtraction from stack pointer prohibited (add a negative offset)";
      return r + " pointer arithmetic on " + (s ? type_name(s->reg(d.reg)) : std::string("pointer")) +
             " prohibited (only 64-bit add/sub of a scalar to a non-null data pointer)";
    case ViolationKind::PointerOffsetRange: {
      const std::string t = s ? type_name(s->reg(d.reg)) : std::string("ptr");
      const std::string n = std::to_string(d.limit);
      if (d.note == kPointerMathNotAllowed) return r + " math between " + t + " pointer and " + n + " is not allowed";
      if (d.note == kPointerMathUnboundedMin)
        return r + " math between " + t + " pointer and register with unbounded min value is not allowed";
      if (d.note == kPointerOffsetNotAllowed) return r + " " + t + " pointer offset " + n + " is not allowed";
      return r + " value " + n + " makes " + t + " pointer be out of bounds";
    }
    case ViolationKind::PointerLeak:
      return r + " leaks addr" + (d.note.empty() ? std::string() : ": " + std::string(d.note)) +
             " (unprivileged programs may not expose pointer values)";
    case ViolationKind::PointerComparison:
      return r + " pointer comparison prohibited (unprivileged programs may compare pointers only with 0 "
                 "or packet pointers with pkt_end)";
    case ViolationKind::UnknownHelper:
      return "invalid func unknown#" + std::to_string(d.helper) + ": no helper with this id is registered";
    case ViolationKind::HelperNotAllowed:
      return "program of this type cannot use helper " + callee_name(o, d) + " (" +
             std::string(o.program_type.name) + " programs may not call it in the kernel)";
    case ViolationKind::MapFuncMismatch:
      return "cannot pass map_type " + std::to_string(d.limit) + " into func " + callee_name(o, d);
    case ViolationKind::DivByZero:
      return "div by zero: " + r + " divided by an immediate 0 (the kernel refuses the constant form)";
    case ViolationKind::InvalidShift:
      return "invalid shift " + std::to_string(d.limit) + ": the immediate count must be below the operand width";
    case ViolationKind::RecursiveCall:
      return "recursive call from insn " + std::to_string(v.pc) + " to the function at insn " +
             std::to_string(d.other_pc) + ": BPF-to-BPF calls may not recurse";
    case ViolationKind::HelperArgType:
      return r + " type=" + (s ? type_name(s->reg(d.reg)) : std::string("?")) + " expected " +
             arg_type_name(d.expected) + " (argument " + std::to_string(d.arg) + " of " + callee_name(o, d) + ")" +
             (d.note.empty() ? std::string() : ": " + std::string(d.note));
    case ViolationKind::HelperArgMemory:
      if (!d.note.empty())
        return "invalid indirect access to stack " + r + " " + offs + " size=" + std::to_string(d.size) + ": argument " +
               std::to_string(d.arg) + " of " + callee_name(o, d) + ": " + std::string(d.note);
      return "invalid indirect read from stack " + r + " " + offs + " size=" + std::to_string(d.size) +
             ": argument " + std::to_string(d.arg) + " of " + callee_name(o, d) +
             " points at stack bytes that are not initialised";
    case ViolationKind::HelperArgSize:
      return r + " invalid size u64=[" + std::to_string(d.off_min) + "," + std::to_string(d.off_max) +
             "] for argument " + std::to_string(d.arg) + " of " + callee_name(o, d) +
             ": it must be bounded" + (d.expected == vm::ArgType::ConstSize ? " and non-zero" : "");
    case ViolationKind::InvalidReturn:
      return std::string(d.note.empty() ? "At callback return" : d.note) + " the register R0 has value " +
             (s ? describe_reg(s->reg(0)) : std::string("?")) + " should have been in [" +
             std::to_string(d.off_min) + ", " + std::to_string(d.limit) + "]";
    case ViolationKind::BackEdge:
      return "back-edge from insn " + std::to_string(v.pc) + " to " + std::to_string(d.other_pc) +
             ": loops are not allowed in unprivileged programs";
    case ViolationKind::InfiniteLoop:
      return "infinite loop detected at insn " + std::to_string(v.pc) +
             ": the loop returns to the same state, so it cannot be proven to terminate";
    case ViolationKind::TooComplex:
      return "BPF program is too large. Processed " + std::to_string(d.limit) +
             " insn without covering every path (complexity limit); a loop whose bound the verifier cannot see "
             "is the usual cause";
    case ViolationKind::JumpSequence:
      return "The sequence of " + std::to_string(d.limit + 1) + " jumps is too complex: more than " +
             std::to_string(d.limit) + " branches wait to be explored (BPF_COMPLEXITY_LIMIT_JMP_SEQ)";
    case ViolationKind::HostBound:
      return "verification stopped: " + std::string(d.note) + " passed the bound of " + std::to_string(d.limit) +
             " the host set";
    case ViolationKind::Unreachable:
      return "unreachable insn " + std::to_string(v.pc);
    case ViolationKind::JumpOutOfFunction:
      return "jump out of range from insn " + std::to_string(v.pc) + " to " + std::to_string(d.other_pc) +
             ": control may not leave its function";
    case ViolationKind::FallThroughFunction:
      return "insn " + std::to_string(v.pc) + " falls through into the function at insn " +
             std::to_string(d.other_pc) + ": last insn is not an exit or jmp";
    case ViolationKind::CallDepth:
      if (!d.note.empty())
        return "combined stack size of calls is " + std::to_string(d.size) + ". Too large: the frames on the "
               "deepest chain of calls through this insn need more than " + std::to_string(d.limit) + " bytes together";
      return "the call stack of " + std::to_string(d.limit) + " frames is too deep";
    case ViolationKind::UnknownMap:
      return "map index " + std::to_string(d.limit) + " is not pointing to a valid bpf_map";
    case ViolationKind::StackPointerEscape:
      return "cannot return stack pointer to the caller";
    case ViolationKind::AtomicNotAllowed:
      return "BPF_ATOMIC stores into " + r + " " + (s ? type_name(s->reg(d.reg)) : std::string()) + " is not allowed";
    case ViolationKind::MisalignedAtomic:
      if (d.arg > 0)
        return "misaligned " + region_name(s, d.reg) + " access " + r + " " + offs + " size=" + std::to_string(d.size) +
               ": argument " + std::to_string(d.arg) + " of " + callee_name(o, d) + " must be aligned to its size";
      return "misaligned atomic access to " + region_name(s, d.reg) + " " + r + " " + offs + " size=" +
             std::to_string(d.size) + ": atomics need an address aligned to their width";
    case ViolationKind::MisalignedStack:
      return "misaligned stack access " + r + " " + offs + " size=" + std::to_string(d.size) + " (" + access +
             "): stack accesses must be aligned to their size";
    case ViolationKind::Timer:
      if (d.off_min != d.limit)  // a timer argument at another offset than the value's bpf_timer
        return std::string(d.note) + " (off " + std::to_string(d.off_min) + ", the timer is at " +
               std::to_string(d.limit) + ")" + (d.reg >= 0 && s ? " [" + r + "=" + describe_reg(s->reg(d.reg)) + "]" : std::string{});
      [[fallthrough]];
    case ViolationKind::SpinLock:
      return std::string(d.note) + (d.reg >= 0 && s ? " [" + r + "=" + describe_reg(s->reg(d.reg)) + "]" : std::string{});
    case ViolationKind::PacketLoadNotAllowed:
      return "BPF_LD_[ABS|IND] " + std::string(d.note) +
             (s ? " [r6=" + type_name(s->reg(isa::kPacketLoadCtxReg)) + "]" : std::string{});
    case ViolationKind::GlobalFuncArg:
      return "call to global function " + global_func_name(o, d.other_pc) + ": arg " + std::to_string(d.arg) + " (" + r +
             ") expected " + global_arg_expected(o, d.other_pc, d.arg) + ", got " +
             (s ? type_name(s->reg(d.reg)) : std::string("?")) +
             (d.note.empty() ? std::string() : ": " + std::string(d.note));
    case ViolationKind::GlobalFunc:
      return "global function " + global_func_name(o, d.other_pc) + ": " + std::string(d.note);
    case ViolationKind::BtfAccess: {
      std::string text = r + " invalid access to kernel object";
      if (o.kernel_types && s && d.reg >= 0 && s->reg(d.reg).type == RegType::BtfId)
        text += " 'struct " + o.kernel_types->struct_name(static_cast<std::uint32_t>(d.limit)) + "'";
      return text + " " + offs + " size=" + std::to_string(d.size) + ": " + std::string(d.note);
    }
    case ViolationKind::MixedPointerBase:
      return "same insn cannot be used with different pointers: " + r +
             " is the context on one path and other memory on another (context accesses are rewritten per insn)";
    case ViolationKind::KfuncNotAllowed:
      return "calling kernel function " + std::string(d.kfunc) + " is not allowed" +
             (d.note.empty() ? " (" + std::string(o.program_type.name) + " programs may not call it in the kernel)"
                             : ": " + std::string(d.note));
    case ViolationKind::Unsupported:
      if (!d.kfunc.empty())
        return "not supported yet by the verifier: kfunc " + std::string(d.kfunc) + (d.note.empty() ? "" : ": " + std::string(d.note));
      return "not supported yet by the verifier: " + std::string(d.note.empty() ? "this construct" : d.note);
    case ViolationKind::StackSpillSize:
      return std::string("invalid size of register ") + (d.write ? "spill" : "fill") + ": stack " + offs + " size=" +
             std::to_string(d.size) + ": a pointer is stored to and loaded from the stack only as a whole 8-byte register";
    case ViolationKind::AbnormalSubprogExit:
      return std::string(d.note) + " (subprogram at insn " + std::to_string(d.other_pc) + ")";
    case ViolationKind::MapForProgram:
      return std::string(d.note) + " (map index " + std::to_string(d.limit) + ")";
    case ViolationKind::WriteOnlyRead:
      return "read from map forbidden: " + r + " points into the value of a map created with BPF_F_WRONLY_PROG" +
             (d.arg > 0 ? " (argument " + std::to_string(d.arg) + " of " + callee_name(o, d) + ", which the helper reads)"
                        : std::string());
  }
  (void)p;
  return "rejected";
}

}  // namespace

std::string describe_reg(const RegValue& v) {
  switch (v.type) {
    case RegType::NotInit: return "not_init";
    case RegType::Scalar: {
      const std::string s = describe_scalar(v.value);
      return s.starts_with("(") ? "scalar" + s : s;
    }
    case RegType::Stack: {
      const std::string off = v.value.is_const() ? std::to_string(static_cast<std::int64_t>(v.value.const_value()))
                                                 : describe_scalar(v.value);
      return "fp" + (v.frame ? "[frame " + std::to_string(v.frame) + "]" : std::string()) +
             (off.starts_with("-") || off.starts_with("(") ? off : "+" + off);
    }
    case RegType::Ctx: case RegType::MapPtr: case RegType::MapValue: case RegType::Packet: case RegType::PacketEnd:
    case RegType::PacketMeta: case RegType::Mem: case RegType::RingbufMem: case RegType::FuncPtr:
    case RegType::SockCommon: case RegType::Socket: case RegType::TcpSock: case RegType::BtfId:
    case RegType::FlowKeys: case RegType::TpBuffer: case RegType::Dynptr:
      break;
  }
  std::string out = type_name(v) + "(";
  if (v.type == RegType::MapPtr || v.type == RegType::MapValue)
    out += (v.aux & kInnerMapBit ? "inner_of_map=" + std::to_string(v.aux & ~kInnerMapBit) : "map=" + std::to_string(v.aux)) + ",";
  if (v.type == RegType::Mem || v.type == RegType::RingbufMem) out += "size=" + std::to_string(v.aux) + ",";
  if (v.type == RegType::FuncPtr) out += "insn=" + std::to_string(v.aux) + ",";
  if (v.type == RegType::BtfId) out += "btf_id=" + std::to_string(v.aux) + ",";
  if (v.id) out += "id=" + std::to_string(v.id) + ",";
  if (v.id && (v.type == RegType::Packet || v.type == RegType::PacketMeta))
    out += "fixed=" + std::to_string(static_cast<std::int32_t>(v.aux)) + ",";
  if (v.ref) out += "ref=" + std::to_string(v.ref) + ",";
  out += "off=" + describe_scalar(v.value) + ")";
  return out;
}

std::string describe_state(const State& s) {
  std::string out;
  for (std::size_t f = 0; f < s.frames.size(); ++f) {
    const auto& fr = s.frames[f];
    if (s.frames.size() > 1) out += (f ? " | frame" : "frame") + std::to_string(f) + ":";
    for (int r = 0; r < isa::kNumRegs; ++r) {
      const auto& v = fr.regs[static_cast<std::size_t>(r)];
      if (!v.is_init()) continue;
      out += " R" + std::to_string(r) + "=" + describe_reg(v);
    }
    for (int off = -StackSlots::kBytes; off < 0; off += 8) {
      if (const RegValue* sp = fr.stack.spilled(off))
        out += " fp" + std::to_string(off) + "=" + describe_reg(*sp);
      else if (fr.stack.initialised(off, 8))
        out += " fp" + std::to_string(off) + "=mmmmmmmm";
      else {
        std::string mask;
        bool any = false;
        for (int b = 0; b < 8; ++b) {
          const bool init = fr.stack.initialised(off + b, 1);
          any |= init;
          mask.insert(mask.begin(), init ? 'm' : '?');
        }
        if (any) out += " fp" + std::to_string(off) + "=" + mask;
      }
    }
  }
  if (s.packet_bytes) out += " pkt_range=" + std::to_string(s.packet_bytes);
  if (s.meta_bytes) out += " meta_range=" + std::to_string(s.meta_bytes);
  for (auto ref : s.refs) out += " ref=" + std::to_string(ref);
  for (const auto& [id, n] : s.packet_ranges) out += " pkt_range(id=" + std::to_string(id) + ")=" + std::to_string(n);
  return out.empty() ? out : out.substr(out[0] == ' ' ? 1 : 0);
}

std::string violation_message(const vm::Program& program, const VerifierOptions& options, const Violation& v,
                              const State* state) {
  std::string text = reason(program, options, v, state);
  if (state) {
    std::string regs;
    for (int r : {v.detail.reg, v.detail.reg2}) {
      if (r < 0 || r >= isa::kNumRegs) continue;
      if (!regs.empty()) regs += ", ";
      regs += "r" + std::to_string(r) + "=" + describe_reg(state->reg(r));
    }
    if (!regs.empty()) text += " [" + regs + "]";
  }
  if (v.pc < program.size() && program.ops[v.pc] != isa::kNoOp) text += " at `" + vm::disassemble_insn(program, v.pc) + "`";
  if (options.line_info) {
    const std::string line = options.line_info(v.pc);
    if (!line.empty()) text += " (source: " + line + ")";
  }
  return text;
}

std::string warning_message(const WarningFact& w) {
  switch (w.kind) {
    case WarningKind::ShiftOutOfRange:
      return "shift by constant " + std::to_string(w.value) +
             " is outside the operand width; the VM masks the count (the kernel would reject it: invalid shift)";
  }
  return "warning";
}

std::string log_insn(const vm::Program& program, std::uint32_t pc, const State* state) {
  std::string out = std::to_string(pc) + ": " + vm::disassemble_insn(program, pc);
  if (state) out += "    ; " + describe_state(*state);
  return out + "\n";
}

std::string log_branch(std::uint32_t from, std::uint32_t to, const State& s) {
  return "from " + std::to_string(from) + " to " + std::to_string(to) + ": " + describe_state(s) + "\n";
}

std::string log_pruned(std::uint32_t pc) { return std::to_string(pc) + ": safe (state already explored)\n"; }

std::string log_summary(const VerifierStats& st, bool accepted) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%s: processed %" PRIu64 " insns, %" PRIu64 " states stored, peak %" PRIu64
                " pending, %" PRIu64 " pruned, stack depth %u bytes, %.1f us\n",
                accepted ? "verification passed" : "verification failed", st.insns_processed, st.states_stored,
                st.peak_states, st.states_pruned, st.stack_depth_bytes, st.time_us);
  return buf;
}

std::string cfg_to_dot(const vm::Program& program) {
  const auto n = static_cast<std::uint32_t>(program.size());
  // Block leaders: entry, jump targets, insns after jumps/calls/exits, call targets.
  std::vector<std::uint8_t> leader(n + 1, 0);
  leader[0] = 1;
  for (std::uint32_t pc = 0; pc < n; ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    const auto& op = program.op(pc);
    const auto next = pc + (isa::is_wide(op) ? 2 : 1);
    switch (op.form) {
      case isa::Form::Jump: case isa::Form::Ja: case isa::Form::Ja32: case isa::Form::CallLocal: {
        const auto t = vm::branch_target(program.insns[pc], op, pc);
        if (t >= 0 && t < static_cast<std::int64_t>(n)) leader[static_cast<std::size_t>(t)] = 1;
        leader[next] = 1;
        break;
      }
      case isa::Form::Exit: case isa::Form::Call: case isa::Form::CallKfunc: case isa::Form::CallReg: case isa::Form::PacketLoad:
        leader[next] = 1;
        break;
      case isa::Form::Alu: case isa::Form::AluUnary: case isa::Form::Load: case isa::Form::LoadSx:
      case isa::Form::Store: case isa::Form::StoreReg: case isa::Form::Atomic: case isa::Form::WideImm:
        break;
    }
  }
  std::ostringstream o;
  o << "digraph \"" << (program.name.empty() ? "program" : program.name) << "\" {\n  node [shape=box fontname=monospace];\n";
  std::uint32_t block = 0;
  for (std::uint32_t pc = 0; pc < n; ++pc) {
    if (leader[pc]) {
      if (pc) o << "\"];\n";
      block = pc;
      o << "  b" << block << " [label=\"";
    }
    if (program.ops[pc] == isa::kNoOp) continue;
    o << pc << ": " << vm::disassemble_insn(program, pc) << "\\l";
  }
  o << "\"];\n";
  // Edges from each block's last insn.
  for (std::uint32_t pc = 0; pc < n; ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    const auto& op = program.op(pc);
    const auto next = pc + (isa::is_wide(op) ? 2 : 1);
    std::uint32_t start = pc;
    while (!leader[start]) --start;
    const bool last = next >= n || leader[next];
    if (op.form == isa::Form::CallLocal)
      o << "  b" << start << " -> b" << vm::branch_target(program.insns[pc], op, pc) << " [style=dashed label=call];\n";
    if (!last) continue;
    switch (op.form) {
      case isa::Form::Jump:
        o << "  b" << start << " -> b" << vm::branch_target(program.insns[pc], op, pc) << " [label=T];\n";
        o << "  b" << start << " -> b" << next << " [label=F];\n";
        break;
      case isa::Form::Ja: case isa::Form::Ja32:
        o << "  b" << start << " -> b" << vm::branch_target(program.insns[pc], op, pc) << ";\n";
        break;
      case isa::Form::Exit: break;
      case isa::Form::Alu: case isa::Form::AluUnary: case isa::Form::Load: case isa::Form::LoadSx:
      case isa::Form::Store: case isa::Form::StoreReg: case isa::Form::Atomic: case isa::Form::WideImm:
      case isa::Form::Call: case isa::Form::CallKfunc: case isa::Form::CallLocal: case isa::Form::CallReg: case isa::Form::PacketLoad:
        if (next < n) o << "  b" << start << " -> b" << next << ";\n";
        break;
    }
  }
  o << "}\n";
  return o.str();
}

}  // namespace bpfvm::verifier
