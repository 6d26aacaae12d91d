// ALU transfer functions: scalar arithmetic through ScalarDomain, pointer arithmetic on offsets.
#include <algorithm>

#include "verifier/transfer.hpp"

namespace bpfvm::verifier {

using isa::Form;
using isa::Kind;
using isa::Operand;

namespace {

ScalarDomain apply64(Kind k, const ScalarDomain& a, const ScalarDomain& b) {
  switch (k) {
    case Kind::Add: return a.add(b);
    case Kind::Sub: return a.sub(b);
    case Kind::Mul: return a.mul(b);
    case Kind::Div: return a.udiv(b);
    case Kind::SDiv: return a.sdiv(b);
    case Kind::Mod: return a.umod(b);
    case Kind::SMod: return a.smod(b);
    case Kind::Or: return a.bit_or(b);
    case Kind::And: return a.bit_and(b);
    case Kind::Xor: return a.bit_xor(b);
    case Kind::Lsh: return a.lsh(b);
    case Kind::Rsh: return a.rsh(b);
    case Kind::Arsh: return a.arsh(b);
    case Kind::Mov: return b;
    default: return ScalarDomain::top();
  }
}

ScalarDomain apply32(Kind k, const ScalarDomain& a, const ScalarDomain& b) {
  const ScalarDomain count = b.truncate(32).bit_and(ScalarDomain::constant(31));
  switch (k) {
    case Kind::Lsh: return a.truncate(32).lsh(count).truncate(32);
    case Kind::Rsh: return a.truncate(32).rsh(count).truncate(32);
    case Kind::Arsh: return a.sign_extend(32).arsh(count).truncate(32);
    case Kind::SDiv: return a.sign_extend(32).sdiv(b.sign_extend(32)).truncate(32);
    case Kind::SMod: return a.sign_extend(32).smod(b.sign_extend(32)).truncate(32);
    default: return a.alu32(b, [k](const ScalarDomain& x, const ScalarDomain& y) { return apply64(k, x, y); });
  }
}

}  // namespace

ScalarDomain scalar_alu(Kind kind, int width, const ScalarDomain& a, const ScalarDomain& b) {
  return width == 64 ? apply64(kind, a, b) : apply32(kind, a, b);
}

namespace {

bool arithmetic_allowed(const RegValue& p) {
  switch (p.type) {
    case RegType::Ctx: case RegType::Stack: case RegType::Packet: case RegType::PacketMeta:
    case RegType::BtfId:  // the kernel's adjust_ptr_min_max_vals: loads then need a constant offset
    case RegType::TpBuffer:
    case RegType::FlowKeys:  // a known offset only (pointer_alu)
    case RegType::Dynptr:    // allowed, but a helper then refuses the moved pointer (check_dynptr_arg)
      return true;
    case RegType::MapValue: case RegType::Mem: case RegType::RingbufMem:
      return !p.maybe_null;
    case RegType::NotInit: case RegType::Scalar: case RegType::MapPtr: case RegType::PacketEnd:
    case RegType::FuncPtr: case RegType::SockCommon: case RegType::Socket: case RegType::TcpSock:
      return false;
  }
  return false;
}

// The kernel's check_reg_sane_offset (BPF_MAX_VAR_OFF = 2^29): pointer arithmetic is refused, even
// with no access after it, when the scalar operand is a known value outside (-2^29, 2^29) or its
// minimum is unbounded or outside that range, and when the pointer's offset (before or after) is.
// bpfvm keeps a pointer's fixed and variable offset in one value: a known one is the fixed offset.
constexpr std::int64_t kMaxVarOff = std::int64_t{1} << 29;

Check sane_offset(std::uint32_t pc, ViolationDetail d, const ScalarDomain& v, bool pointer) {
  auto out_of_range = [](std::int64_t x) { return x >= kMaxVarOff || x <= -kMaxVarOff; };
  if (v.is_const()) {
    d.limit = static_cast<std::int64_t>(v.const_value());
    if (!out_of_range(d.limit)) return std::nullopt;
    d.note = pointer ? kPointerOffsetNotAllowed : kPointerMathNotAllowed;
    return violation(pc, ViolationKind::PointerOffsetRange, d);
  }
  d.limit = v.smin();
  if (d.limit == INT64_MIN) {
    d.note = kPointerMathUnboundedMin;
    return violation(pc, ViolationKind::PointerOffsetRange, d);
  }
  if (!out_of_range(d.limit)) return std::nullopt;
  d.note = kPointerOutOfBounds;
  return violation(pc, ViolationKind::PointerOffsetRange, d);
}

Check pointer_alu(Env& env, State& s, std::uint32_t pc, const isa::OpInfo& op, int dst, int src,
                  const RegValue& a, const RegValue& b) {
  ViolationDetail d;
  d.reg = dst;
  d.reg2 = src;
  const bool unpriv = env.options.unprivileged;
  if (a.is_pointer() && b.is_pointer()) {
    // ptr - ptr into the same object is a distance; anything else only in privileged mode, and then
    // an unknown number. Two lookups in one map are two objects: map values (and helper memory) are
    // the same object only with the same id (copies of one lookup); ring buffer reservations with
    // the same reference.
    // The kernel's adjust_reg_min_max_vals refuses every other op on two pointers, 32-bit ones too,
    // and a subtraction without allow_ptr_leaks, "R1 pointer += pointer prohibited".
    if (op.kind != Kind::Sub || unpriv) {
      d.note = kPointerWithPointer;
      d.limit = static_cast<std::int64_t>(op.kind);
      return violation(pc, ViolationKind::PointerArithmetic, d);
    }
    bool same = a.type == b.type && a.aux == b.aux && a.frame == b.frame;
    if (a.type == RegType::MapValue || a.type == RegType::Mem) same = same && a.id == b.id;
    if (a.type == RegType::RingbufMem) same = same && a.ref == b.ref && a.ref != 0;
    if (op.width == 64 && op.kind == Kind::Sub && same) {
      s.reg(dst) = RegValue::scalar(a.value.sub(b.value));
      return std::nullopt;
    }
    s.reg(dst) = RegValue::unknown();
    return std::nullopt;
  }
  const RegValue& ptr = a.is_pointer() ? a : b;
  const RegValue& off = a.is_pointer() ? b : a;
  // adjust_ptr_min_max_vals: CONST_PTR_TO_MAP plus a known 0 (either operand order) is the map
  // pointer unchanged; unprivileged, sanitize_ptr_alu still refuses it (no limit for a map pointer).
  if (ptr.type == RegType::MapPtr && !ptr.maybe_null && op.width == 64 && op.kind == Kind::Add && !unpriv &&
      off.value.is_const() && off.value.const_value() == 0) {
    s.reg(dst) = ptr;
    return std::nullopt;
  }
  const bool ok_op = op.width == 64 && (op.kind == Kind::Add || (op.kind == Kind::Sub && a.is_pointer()));
  if (!ok_op || !arithmetic_allowed(ptr)) {
    d.reg = a.is_pointer() ? dst : src;
    // The kernel's adjust_ptr_min_max_vals names `scalar -= pointer` once the pointer's type allows arithmetic.
    if (op.width == 64 && op.kind == Kind::Sub && !a.is_pointer() && arithmetic_allowed(ptr)) {
      d.reg = dst;
      d.note = kPointerFromScalar;
    }
    return violation(pc, ViolationKind::PointerArithmetic, d);
  }
  d.reg = a.is_pointer() ? dst : src;  // the pointer, for its type in the message
  if (ptr.type == RegType::FlowKeys && !off.value.is_const()) return violation(pc, ViolationKind::PointerArithmetic, d);
  if (auto c = sane_offset(pc, d, off.value, false)) return c;
  if (auto c = sane_offset(pc, d, ptr.value, true)) return c;
  if (op.kind == Kind::Sub && ptr.type == RegType::Stack) {
    d.note = kStackSubtraction;
    return violation(pc, ViolationKind::PointerArithmetic, d);
  }
  RegValue r = ptr;
  r.value = op.kind == Kind::Add ? ptr.value.add(off.value) : ptr.value.sub(off.value);
  if (auto c = sane_offset(pc, d, r.value, true)) return c;
  if (ptr.type == RegType::Packet || ptr.type == RegType::PacketMeta) {
    // Track the constant part separately, so a range proven for one pointer covers its siblings.
    if (!off.value.is_const()) {
      r.id = env.new_id();
      r.aux = 0;
    } else if (r.id != 0) {
      const std::int64_t c = static_cast<std::int64_t>(off.value.const_value());
      const std::int64_t fixed = static_cast<std::int32_t>(r.aux) + (op.kind == Kind::Add ? c : -c);
      if (fixed < -(1 << 29) || fixed > (1 << 29)) r.id = 0;  // far outside any packet: forget the sibling link
      r.aux = r.id ? static_cast<std::uint32_t>(static_cast<std::int32_t>(fixed)) : 0;
    }
  }
  s.reg(dst) = r;
  return std::nullopt;
}

}  // namespace

Check transfer_alu(Env& env, State& s, std::uint32_t pc) {
  const auto& op = env.program.op(pc);
  const auto& in = env.program.insns[pc];
  const int dst = in.dst;
  ViolationDetail d;
  d.reg = dst;
  if (dst == isa::kFramePointer) return violation(pc, ViolationKind::FramePointerWrite, d);
  const bool w64 = op.width == 64;

  if (op.form == Form::AluUnary) {
    if (auto c = check_reg_init(s, dst, pc)) return c;
    const RegValue a = s.reg(dst);
    if (!a.is_scalar()) {
      if (env.options.unprivileged) return violation(pc, ViolationKind::PointerLeak, d);
      return violation(pc, ViolationKind::PointerArithmetic, d);
    }
    ScalarDomain v = a.value;
    switch (op.kind) {
      case Kind::Neg: v = w64 ? v.neg() : v.truncate(32).neg().truncate(32); break;
      case Kind::ToLe: v = v.truncate(op.width); break;
      case Kind::ToBe: case Kind::Bswap: v = v.byte_swap(op.width); break;
      default: break;
    }
    s.reg(dst) = RegValue::scalar(v);
    return std::nullopt;
  }

  // Second operand.
  RegValue b;
  const int src = op.operand == Operand::Reg ? in.src : -1;
  if (src >= 0) {
    if (auto c = check_reg_init(s, src, pc)) return c;
    b = s.reg(src);
  } else {
    b = RegValue::scalar(ScalarDomain::constant(static_cast<std::uint64_t>(static_cast<std::int64_t>(in.imm))));
    // The kernel's check_alu_op refuses these immediate forms only; RFC 9669 defines them, and
    // VerifierOptions::permissive_constant_operands accepts them (a masked shift warns).
    const bool shift = op.kind == Kind::Lsh || op.kind == Kind::Rsh || op.kind == Kind::Arsh;
    const bool div = op.kind == Kind::Div || op.kind == Kind::SDiv || op.kind == Kind::Mod || op.kind == Kind::SMod;
    if (shift && (in.imm < 0 || in.imm >= op.width)) {
      d.limit = in.imm;
      if (!env.options.permissive_constant_operands) return violation(pc, ViolationKind::InvalidShift, d);
      env.warnings.push_back({pc, WarningKind::ShiftOutOfRange, in.imm});
    }
    if (div && in.imm == 0 && !env.options.permissive_constant_operands)
      return violation(pc, ViolationKind::DivByZero, d);
  }
  d.reg2 = src;

  if (op.kind == Kind::Mov || op.kind == Kind::MovSx) {
    if (b.is_pointer() && (op.kind == Kind::MovSx || !w64)) {
      // A partial copy of a pointer is a number derived from an address.
      if (env.options.unprivileged) return violation(pc, ViolationKind::PointerLeak, d);
      s.reg(dst) = RegValue::scalar(w64 ? ScalarDomain::top() : ScalarDomain::unsigned_range(0, 0xffffffffu));
      return std::nullopt;
    }
    if (op.kind == Kind::MovSx) {
      const ScalarDomain v = b.value.sign_extend(static_cast<unsigned>(in.off));
      s.reg(dst) = RegValue::scalar(w64 ? v : v.truncate(32));
    } else if (w64 && src >= 0 && b.is_scalar() && !b.value.is_const()) {
      // Link the copy to its source: a later comparison of either narrows both.
      if (b.id == 0) s.reg(src).id = env.new_id();
      s.reg(dst) = s.reg(src);
    } else {
      s.reg(dst) = w64 ? b : RegValue::scalar(b.value.truncate(32));
    }
    return std::nullopt;
  }

  if (auto c = check_reg_init(s, dst, pc)) return c;
  const RegValue a = s.reg(dst);
  if (a.is_pointer() || b.is_pointer()) return pointer_alu(env, s, pc, op, dst, src, a, b);
  RegValue result = RegValue::scalar(w64 ? apply64(op.kind, a.value, b.value) : apply32(op.kind, a.value, b.value));
  // The kernel's is_safe_to_compute_dst_reg_range: a shift by a register computes bounds only for a
  // known count below the width; else the result is an unknown 64-bit scalar (engines still mask).
  const bool shift = op.kind == Kind::Lsh || op.kind == Kind::Rsh || op.kind == Kind::Arsh;
  if (shift && src >= 0 && !(b.value.is_const() && b.value.const_value() < std::uint64_t{op.width})) result = RegValue::unknown();
  // Linked scalars with a constant delta (the kernel's BPF_ADD_CONST, 6.11): `r3 = r2; r3 += 8` keeps
  // r3 linked to r2 as r2 + 8, so a bound learned on either bounds the other (RegValue::aux = delta).
  if (w64 && a.id != 0 && (op.kind == Kind::Add || op.kind == Kind::Sub) && b.value.is_const()) {
    const auto c = static_cast<std::int64_t>(b.value.const_value());
    const std::int64_t delta = static_cast<std::int32_t>(a.aux) + (op.kind == Kind::Add ? c : -c);
    if (c >= INT32_MIN && c <= INT32_MAX && delta >= INT32_MIN && delta <= INT32_MAX) {
      result.id = a.id;
      result.aux = static_cast<std::uint32_t>(static_cast<std::int32_t>(delta));
    }
  }
  s.reg(dst) = result;
  return std::nullopt;
}

}  // namespace bpfvm::verifier
