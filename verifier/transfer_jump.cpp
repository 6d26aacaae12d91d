// Jump transfer functions: decide which edges are feasible and refine both sides of a comparison
// (scalar bounds, null checks after map lookups, packet ranges from `pkt + N > pkt_end`).
#include <limits>

#include "verifier/transfer.hpp"

namespace bpfvm::verifier {

using isa::Form;
using isa::Kind;
using isa::Operand;

namespace {

using u64 = std::uint64_t;
using s64 = std::int64_t;
constexpr u64 kU64Max = std::numeric_limits<u64>::max();
constexpr s64 kS64Min = std::numeric_limits<s64>::min();
constexpr s64 kS64Max = std::numeric_limits<s64>::max();

struct Pair {
  ScalarDomain a, b;
  bool feasible() const { return !a.is_bottom() && !b.is_bottom(); }
};

Kind negate(Kind k) {
  switch (k) {
    case Kind::Jeq: return Kind::Jne;
    case Kind::Jne: return Kind::Jeq;
    case Kind::Jgt: return Kind::Jle;
    case Kind::Jle: return Kind::Jgt;
    case Kind::Jge: return Kind::Jlt;
    case Kind::Jlt: return Kind::Jge;
    case Kind::Jsgt: return Kind::Jsle;
    case Kind::Jsle: return Kind::Jsgt;
    case Kind::Jsge: return Kind::Jslt;
    case Kind::Jslt: return Kind::Jsge;
    default: return k;
  }
}

Kind swap_operands(Kind k) {
  switch (k) {
    case Kind::Jgt: return Kind::Jlt;
    case Kind::Jlt: return Kind::Jgt;
    case Kind::Jge: return Kind::Jle;
    case Kind::Jle: return Kind::Jge;
    case Kind::Jsgt: return Kind::Jslt;
    case Kind::Jslt: return Kind::Jsgt;
    case Kind::Jsge: return Kind::Jsle;
    case Kind::Jsle: return Kind::Jsge;
    default: return k;
  }
}

ScalarDomain urange(u64 lo, u64 hi) { return lo > hi ? ScalarDomain::bottom() : ScalarDomain::unsigned_range(lo, hi); }
ScalarDomain srange(s64 lo, s64 hi) { return lo > hi ? ScalarDomain::bottom() : ScalarDomain::signed_range(lo, hi); }

ScalarDomain without(const ScalarDomain& a, u64 c) {
  if (a.is_const() && a.const_value() == c) return ScalarDomain::bottom();
  ScalarDomain r = a;
  if (r.umin() == c) r = r.meet(urange(c + 1, kU64Max));
  if (!r.is_bottom() && r.umax() == c) r = r.meet(urange(0, c - 1));
  const auto sc = static_cast<s64>(c);
  if (!r.is_bottom() && r.smin() == sc) r = r.meet(srange(sc + 1, kS64Max));
  if (!r.is_bottom() && r.smax() == sc) r = r.meet(srange(kS64Min, sc - 1));
  return r;
}

// The values of (a, b) for which `a k b` holds, compared as 64-bit numbers.
Pair refine(Kind k, const ScalarDomain& a, const ScalarDomain& b) {
  switch (k) {
    case Kind::Jeq: {
      const ScalarDomain m = a.meet(b);
      return {m, m};
    }
    case Kind::Jne: {
      Pair p{a, b};
      if (b.is_const()) p.a = without(a, b.const_value());
      if (a.is_const()) p.b = without(b, a.const_value());
      return p;
    }
    case Kind::Jgt:
      if (b.umin() == kU64Max || a.umax() == 0) return {ScalarDomain::bottom(), ScalarDomain::bottom()};
      return {a.meet(urange(b.umin() + 1, kU64Max)), b.meet(urange(0, a.umax() - 1))};
    case Kind::Jge: return {a.meet(urange(b.umin(), kU64Max)), b.meet(urange(0, a.umax()))};
    case Kind::Jsgt:
      if (b.smin() == kS64Max || a.smax() == kS64Min) return {ScalarDomain::bottom(), ScalarDomain::bottom()};
      return {a.meet(srange(b.smin() + 1, kS64Max)), b.meet(srange(kS64Min, a.smax() - 1))};
    case Kind::Jsge: return {a.meet(srange(b.smin(), kS64Max)), b.meet(srange(kS64Min, a.smax()))};
    case Kind::Jlt: case Kind::Jle: case Kind::Jslt: case Kind::Jsle: {
      const Pair p = refine(swap_operands(k), b, a);
      return {p.b, p.a};
    }
    case Kind::Jset: {
      if (((a.bits().value() | a.bits().mask()) & (b.bits().value() | b.bits().mask())) == 0)
        return {ScalarDomain::bottom(), ScalarDomain::bottom()};
      // A single-bit mask: that bit is set (the kernel's reg_set_min_max for BPF_JSET), so a later
      // test of the same bit is decided and the paths through a loop do not multiply.
      auto single_bit = [](const ScalarDomain& v) {
        return v.is_const() && v.const_value() != 0 && (v.const_value() & (v.const_value() - 1)) == 0;
      };
      Pair p{a, b};
      if (single_bit(b)) p.a = a.meet(ScalarDomain::from_bits(Tnum::make(b.const_value(), ~b.const_value())));
      if (single_bit(a)) p.b = b.meet(ScalarDomain::from_bits(Tnum::make(a.const_value(), ~a.const_value())));
      return p;
    }
    default: return {a, b};
  }
}

Pair refine_false(Kind k, const ScalarDomain& a, const ScalarDomain& b) {
  if (k == Kind::Jset) {
    if (!b.is_const()) {
      if (a.is_const() && b.bits().value() & a.const_value()) return {ScalarDomain::bottom(), ScalarDomain::bottom()};
      return {a, b};
    }
    return {a.meet(ScalarDomain::from_bits(Tnum::make(0, ~b.const_value()))), b};
  }
  return refine(negate(k), a, b);
}

bool is_signed(Kind k) { return k == Kind::Jsgt || k == Kind::Jsge || k == Kind::Jslt || k == Kind::Jsle; }

// Refinement for either width: JMP32 compares the low halves, so refine those and put them back.
Pair refine_width(Kind k, bool taken, int width, const ScalarDomain& a, const ScalarDomain& b) {
  if (width == 64) return taken ? refine(k, a, b) : refine_false(k, a, b);
  const bool sgn = is_signed(k);
  const ScalarDomain a32 = sgn ? a.sign_extend(32) : a.truncate(32);
  const ScalarDomain b32 = sgn ? b.sign_extend(32) : b.truncate(32);
  const Pair p = taken ? refine(k, a32, b32) : refine_false(k, a32, b32);
  if (!p.feasible()) return p;
  return {a.with_low32(p.a.truncate(32)), b.with_low32(p.b.truncate(32))};
}

}  // namespace

std::pair<ScalarDomain, ScalarDomain> refine_branch(Kind kind, int width, bool taken, const ScalarDomain& a,
                                                    const ScalarDomain& b) {
  const Pair p = refine_width(kind, taken, width, a, b);
  return {p.a, p.b};
}

namespace {

bool maybe_null_type(const RegValue& v) {
  return v.maybe_null && (v.type == RegType::MapValue || v.type == RegType::Mem || v.type == RegType::RingbufMem ||
                          v.type == RegType::MapPtr || v.type == RegType::SockCommon || v.type == RegType::Socket ||
                          v.type == RegType::TcpSock || v.type == RegType::BtfId);
}

// After `if rX == 0`: every copy of the pointer with this id is null, or none is. A null acquired
// pointer (id == ref) holds no reference; a null cast of one (bpf_sk_fullsock, bpf_tcp_sock: another
// id, the same ref) says nothing of it (the kernel's mark_ptr_or_null_regs).
void mark_null_check(State& s, std::uint32_t id, bool is_null) {
  std::uint32_t released_ref = 0;
  auto copy_of_checked = [id](const RegValue& v) { return v.maybe_null && v.id == id && v.is_pointer(); };
  auto fix = [&](RegValue& v) {
    if (is_null) {
      if (v.ref && v.ref == v.id) released_ref = v.ref;
      v = RegValue::scalar(ScalarDomain::constant(0));
    } else {
      v.maybe_null = false;
    }
  };
  s.frames.update_values(copy_of_checked, fix, fix);
  if (released_ref) std::erase(s.refs, released_ref);
}

// `p <= end` (or, with `strict`, `p < end`: one byte more) holds on this edge.
void learn_packet_range(State& s, const RegValue& p, bool meta, bool strict) {
  const std::int64_t fixed = static_cast<std::int32_t>(p.aux) + (strict ? 1 : 0);
  if (p.id != 0 && fixed >= 0 && fixed <= kMaxPacketOff) s.learn_packet_range(p.id, static_cast<std::uint32_t>(fixed));
  const s64 lo = p.value.smin() + (strict && p.value.smin() < kMaxPacketOff ? 1 : 0);
  if (lo < 0 || lo > kMaxPacketOff) return;
  auto& bytes = meta ? s.meta_bytes : s.packet_bytes;
  if (static_cast<std::uint32_t>(lo) > bytes) bytes = static_cast<std::uint32_t>(lo);
}

// After a comparison narrowed reg r, every linked copy (same scalar id) holds the same value plus the
// difference of the constant deltas (RegValue::aux of a linked scalar).
void propagate_linked(State& s, int r) {
  const RegValue& v = s.reg(r);
  if (!v.is_scalar() || v.id == 0) return;
  const std::uint32_t id = v.id;
  const ScalarDomain value = v.value;
  const std::int64_t delta = static_cast<std::int32_t>(v.aux);
  auto linked = [id](const RegValue& x) { return x.is_scalar() && x.id == id; };
  auto narrow = [&](RegValue& x) {
    const std::int64_t diff = static_cast<std::int32_t>(x.aux) - delta;
    x.value = x.value.meet(diff == 0 ? value : value.add(ScalarDomain::constant(static_cast<std::uint64_t>(diff))));
  };
  s.frames.update_values(linked, narrow, narrow);
}

struct Edges {
  bool taken = true, fallthrough = true;
};

// `p k end` where p points into a region that ends at `end`. Learns which edge proves p <= end.
void packet_compare(State& taken, State& fall, Kind k, const RegValue& p, bool meta) {
  switch (k) {
    // The kernel's find_good_pkt_pointers with range_right_open: `p >= end` false means p < end.
    case Kind::Jgt: learn_packet_range(fall, p, meta, false); break;    // else: p <= end
    case Kind::Jge: learn_packet_range(fall, p, meta, true); break;     // else: p < end
    case Kind::Jle: learn_packet_range(taken, p, meta, false); break;   // then: p <= end
    case Kind::Jlt: learn_packet_range(taken, p, meta, true); break;    // then: p < end
    default: break;
  }
}

}  // namespace

// The kernel's is_branch_taken decides `ptr == 0` only for the types its reg_not_null lists: sockets,
// map values, ring buffer memory, trusted kernel objects. A context, stack or packet pointer compared
// with 0 explores both edges there (a loop on the dead edge is "infinite loop detected"), so here too.
// (Plain programs' input memory may be a null pointer when it is empty, so Mem is never decided.)
namespace {

bool decided_against_zero(const RegValue& ptr) {
  switch (ptr.type) {
    case RegType::Socket: case RegType::TcpSock: case RegType::SockCommon: case RegType::MapValue:
    case RegType::RingbufMem:
      return true;
    case RegType::BtfId:
      return !ptr.untrusted;
    default:
      return false;
  }
}

}  // namespace

Check transfer_jump(Env& env, State& s, std::uint32_t pc, Successors& out) {
  const auto& op = env.program.op(pc);
  const auto& in = env.program.insns[pc];
  const auto target = static_cast<std::uint32_t>(vm::branch_target(in, op, pc));
  if (op.form == Form::Ja || op.form == Form::Ja32) {
    out.next_pc = target;
    return std::nullopt;
  }
  out.next_pc = pc + 1;
  const int dst = in.dst;
  const int src = op.operand == Operand::Reg ? in.src : -1;
  if (auto c = check_reg_init(s, dst, pc)) return c;
  if (src >= 0)
    if (auto c = check_reg_init(s, src, pc)) return c;
  const RegValue a = s.reg(dst);
  const RegValue b = src >= 0 ? s.reg(src)
                              : RegValue::scalar(ScalarDomain::constant(static_cast<u64>(static_cast<s64>(in.imm))));
  const Kind k = op.kind;
  ViolationDetail d;
  d.reg = dst;
  d.reg2 = src;

  State taken = s;
  Edges e;
  if (a.is_scalar() && b.is_scalar()) {
    const Pair t = refine_width(k, true, op.width, a.value, b.value);
    const Pair f = refine_width(k, false, op.width, a.value, b.value);
    e.taken = t.feasible();
    e.fallthrough = f.feasible();
    if (e.taken) {
      taken.reg(dst).value = t.a;
      if (src >= 0 && src != dst) taken.reg(src).value = t.b;
      propagate_linked(taken, dst);
      if (src >= 0) propagate_linked(taken, src);
    }
    if (e.fallthrough) {
      s.reg(dst).value = f.a;
      if (src >= 0 && src != dst) s.reg(src).value = f.b;
      propagate_linked(s, dst);
      if (src >= 0) propagate_linked(s, src);
    }
  } else {
    const RegValue& ptr = a.is_pointer() ? a : b;
    const RegValue& other = a.is_pointer() ? b : a;
    const bool against_zero = other.is_scalar() && other.value.is_const() && other.value.const_value() == 0 &&
                              op.width == 64 && (k == Kind::Jeq || k == Kind::Jne);
    const Kind kp = a.is_pointer() ? k : swap_operands(k);  // as `ptr kp other`
    if (against_zero && maybe_null_type(ptr)) {
      State& null_side = k == Kind::Jeq ? taken : s;
      State& ptr_side = k == Kind::Jeq ? s : taken;
      mark_null_check(null_side, ptr.id, true);
      mark_null_check(ptr_side, ptr.id, false);
    } else if (against_zero && decided_against_zero(ptr)) {
      // A pointer that cannot be null: the comparison with 0 is decided.
      (k == Kind::Jeq ? e.taken : e.fallthrough) = false;
    } else if (a.is_pointer() && b.is_pointer() && op.width == 64 && (k == Kind::Jeq || k == Kind::Jne) &&
               maybe_null_type(a) != maybe_null_type(b)) {
      // The kernel's check_cond_jmp_op: a maybe-null pointer equal to one that cannot be null is not
      // null either (on the equal edge only).
      const RegValue& maybe = maybe_null_type(a) ? a : b;
      mark_null_check(k == Kind::Jeq ? taken : s, maybe.id, false);
      if (env.options.unprivileged && a.type != b.type) return violation(pc, ViolationKind::PointerComparison, d);
    } else if (a.is_pointer() && b.is_pointer() && op.width == 64 &&
               ((ptr.type == RegType::Packet && other.type == RegType::PacketEnd) ||
                (ptr.type == RegType::PacketEnd && other.type == RegType::Packet))) {
      const RegValue& pkt = ptr.type == RegType::Packet ? ptr : other;
      const Kind kk = ptr.type == RegType::Packet ? kp : swap_operands(kp);
      packet_compare(taken, s, kk, pkt, false);
    } else if (a.is_pointer() && b.is_pointer() && op.width == 64 &&
               ((a.type == RegType::PacketMeta && b.type == RegType::Packet) ||
                (a.type == RegType::Packet && b.type == RegType::PacketMeta))) {
      const RegValue& meta = a.type == RegType::PacketMeta ? a : b;
      const RegValue& data = a.type == RegType::PacketMeta ? b : a;
      if (data.value.is_const() && data.value.const_value() == 0)
        packet_compare(taken, s, a.type == RegType::PacketMeta ? k : swap_operands(k), meta, true);
    } else if (env.options.unprivileged && (!a.is_pointer() || !b.is_pointer() || a.type != b.type)) {
      return violation(pc, ViolationKind::PointerComparison, d);
    }
  }
  if (e.taken && e.fallthrough) {
    out.forks.push_back(Fork{std::move(taken), target});
  } else if (e.taken) {
    s = std::move(taken);
    out.next_pc = target;
  } else if (!e.fallthrough) {
    out.ends = true;  // both edges infeasible: the state itself was empty
  }
  return std::nullopt;
}

}  // namespace bpfvm::verifier
