// ScalarDomain transfer functions and the reduction between known bits and bounds.
#include "verifier/domains/scalar_domain.hpp"

#include <algorithm>
#include <array>

#include "vm/alu_semantics.hpp"

namespace bpfvm::verifier {

namespace {
using u64 = std::uint64_t;
using s64 = std::int64_t;
constexpr u64 kHigh32 = 0xffffffff00000000ull;

u64 low_mask(unsigned bits) { return bits >= 64 ? ~u64{0} : (u64{1} << bits) - 1; }

// The possible shift counts of rhs after the VM masks them to `width` bits: [lo, hi].
struct ShiftRange {
  unsigned lo, hi;
};
ShiftRange shift_range(const ScalarDomain& rhs, unsigned width) {
  const ScalarDomain masked = rhs.bit_and(ScalarDomain::constant(width - 1));
  return {static_cast<unsigned>(masked.umin()), static_cast<unsigned>(masked.umax())};
}
}  // namespace

// Every RegValue starts as top and every immediate operand is a constant: both skip the reduction.
ScalarDomain ScalarDomain::top() { return ScalarDomain(Tnum::unknown(), IntervalDomain::top(), Reduced{}); }
ScalarDomain ScalarDomain::constant(u64 v) {
  return ScalarDomain(Tnum::constant(v), IntervalDomain::constant(v), Reduced{});
}
ScalarDomain ScalarDomain::unsigned_range(u64 min, u64 max) {
  return ScalarDomain(Tnum::unknown(), IntervalDomain::unsigned_range(min, max));
}
ScalarDomain ScalarDomain::signed_range(s64 min, s64 max) {
  return ScalarDomain(Tnum::unknown(), IntervalDomain::signed_range(min, max));
}
ScalarDomain ScalarDomain::from_bits(const Tnum& bits) { return ScalarDomain(bits, IntervalDomain::top()); }
ScalarDomain ScalarDomain::bottom() {
  ScalarDomain d = constant(0);
  d.bottom_ = true;
  return d;
}

void ScalarDomain::normalize() {
  for (int round = 0; round < 2; ++round) {
    if (bounds_.is_bottom()) break;
    const Tnum bits_before = bits_;
    const IntervalDomain bounds_before = bounds_;
    bounds_.meet_unsigned(bits_.umin(), bits_.umax());
    bounds_.meet_signed(bits_.smin(), bits_.smax());
    const Tnum low = bits_.truncate(32);
    bounds_.meet_unsigned32(static_cast<std::uint32_t>(low.umin()), static_cast<std::uint32_t>(low.umax()));
    const Tnum low_signed = bits_.sign_extend(32);
    // A sign-extended 32-bit value lies in [INT32_MIN, INT32_MAX]; the tnum's bounds may be wider.
    bounds_.meet_signed32(static_cast<std::int32_t>(std::max<s64>(low_signed.smin(), INT32_MIN)),
                          static_cast<std::int32_t>(std::min<s64>(low_signed.smax(), INT32_MAX)));
    bounds_.sync();
    if (bounds_.is_bottom()) break;
    const Tnum from_range = Tnum::range(bounds_.umin(), bounds_.umax());
    const Tnum from_low = Tnum::range(bounds_.u32min(), bounds_.u32max());
    const Tnum low_facts = Tnum::make(from_low.value(), from_low.mask() | kHigh32);
    if (!bits_.compatible(from_range) || !bits_.compatible(low_facts)) {
      *this = bottom();
      return;
    }
    bits_ = bits_.meet(from_range);
    if (!bits_.compatible(low_facts)) {
      *this = bottom();
      return;
    }
    bits_ = bits_.meet(low_facts);
    if (bits_ == bits_before && bounds_ == bounds_before) break;  // a fixpoint: round 2 would repeat it
  }
  if (bounds_.is_bottom()) *this = bottom();
}

bool ScalarDomain::leq(const ScalarDomain& o) const {
  if (bottom_) return true;
  if (o.bottom_) return false;
  return bits_.leq(o.bits_) && bounds_.leq(o.bounds_);
}

ScalarDomain ScalarDomain::join(const ScalarDomain& o) const {
  if (bottom_) return o;
  if (o.bottom_) return *this;
  return ScalarDomain(bits_.join(o.bits_), bounds_.join(o.bounds_));
}

ScalarDomain ScalarDomain::meet(const ScalarDomain& o) const {
  if (bottom_ || o.bottom_ || !bits_.compatible(o.bits_)) return bottom();
  const IntervalDomain b = bounds_.meet(o.bounds_);
  if (b.is_bottom()) return bottom();
  return ScalarDomain(bits_.meet(o.bits_), b);
}

ScalarDomain ScalarDomain::widen(const ScalarDomain& next) const {
  if (bottom_) return next;
  if (next.bottom_) return *this;
  return ScalarDomain(bits_.join(next.bits_), bounds_.widen(next.bounds_));
}

ScalarDomain ScalarDomain::add(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  return ScalarDomain(bits_.add(r.bits_), bounds_.add(r.bounds_));
}

ScalarDomain ScalarDomain::sub(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  return ScalarDomain(bits_.sub(r.bits_), bounds_.sub(r.bounds_));
}

ScalarDomain ScalarDomain::mul(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  IntervalDomain b = bounds_.mul(r.bounds_);
  // Signed: the extremes of a product of two intervals sit at its corners.
  const std::array<std::pair<s64, s64>, 4> corners{{{smin(), r.smin()}, {smin(), r.smax()},
                                                    {smax(), r.smin()}, {smax(), r.smax()}}};
  s64 lo = 0, hi = 0;
  bool overflow = false;
  for (std::size_t i = 0; i < corners.size(); ++i) {
    s64 p;
    overflow |= __builtin_mul_overflow(corners[i].first, corners[i].second, &p);
    lo = i == 0 ? p : std::min(lo, p);
    hi = i == 0 ? p : std::max(hi, p);
  }
  if (!overflow) {
    b.meet_signed(lo, hi);
    b.sync();
  }
  return ScalarDomain(bits_.mul(r.bits_), b);
}

ScalarDomain ScalarDomain::udiv(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  if (is_const() && r.is_const()) return constant(vm::alu::div64(const_value(), r.const_value()));
  if (r.umax() == 0) return constant(0);
  if (r.umin() > 0) return unsigned_range(umin() / r.umax(), umax() / r.umin());
  return unsigned_range(0, umax());  // x / 0 == 0, x / d <= x
}

ScalarDomain ScalarDomain::umod(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  if (is_const() && r.is_const()) return constant(vm::alu::mod64(const_value(), r.const_value()));
  if (r.umax() == 0) return *this;  // x % 0 == x
  if (r.umin() > 0 && umax() < r.umin()) return *this;
  if (r.umin() > 0) return unsigned_range(0, std::min(umax(), r.umax() - 1));
  return unsigned_range(0, umax());
}

ScalarDomain ScalarDomain::sdiv(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  if (is_const() && r.is_const()) return constant(vm::alu::sdiv64(const_value(), r.const_value()));
  return top();
}

ScalarDomain ScalarDomain::smod(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  if (is_const() && r.is_const()) return constant(vm::alu::smod64(const_value(), r.const_value()));
  return top();
}

ScalarDomain ScalarDomain::bit_and(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  IntervalDomain b = IntervalDomain::unsigned_range(0, std::min(umax(), r.umax()));
  if (smin() >= 0 || r.smin() >= 0) {
    // x & y with a non-negative operand is non-negative and at most that operand.
    const s64 hi = smin() >= 0 && r.smin() >= 0 ? std::min(smax(), r.smax()) : smin() >= 0 ? smax() : r.smax();
    b.meet_signed(0, hi);
    b.sync();
  }
  return ScalarDomain(bits_.bit_and(r.bits_), b);
}

ScalarDomain ScalarDomain::bit_or(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  return ScalarDomain(bits_.bit_or(r.bits_), IntervalDomain::unsigned_range(std::max(umin(), r.umin()), ~u64{0}));
}

ScalarDomain ScalarDomain::bit_xor(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  return ScalarDomain(bits_.bit_xor(r.bits_), IntervalDomain::top());
}

ScalarDomain ScalarDomain::lsh(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  const auto [lo, hi] = shift_range(r, 64);
  Tnum t = bits_.lsh(lo);
  for (unsigned k = lo + 1; k <= hi; ++k) t = t.join(bits_.lsh(k));
  IntervalDomain b;
  if (hi == 0 || (umax() >> (64 - hi)) == 0) b = IntervalDomain::unsigned_range(umin() << lo, umax() << hi);
  return ScalarDomain(t, b);
}

ScalarDomain ScalarDomain::rsh(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  const auto [lo, hi] = shift_range(r, 64);
  Tnum t = bits_.rsh(lo);
  for (unsigned k = lo + 1; k <= hi; ++k) t = t.join(bits_.rsh(k));
  return ScalarDomain(t, IntervalDomain::unsigned_range(umin() >> hi, umax() >> lo));
}

ScalarDomain ScalarDomain::arsh(const ScalarDomain& r) const {
  if (bottom_ || r.bottom_) return bottom();
  const auto [lo, hi] = shift_range(r, 64);
  Tnum t = bits_.arsh(lo);
  for (unsigned k = lo + 1; k <= hi; ++k) t = t.join(bits_.arsh(k));
  const std::array<s64, 4> c{smin() >> lo, smin() >> hi, smax() >> lo, smax() >> hi};
  return ScalarDomain(t, IntervalDomain::signed_range(*std::min_element(c.begin(), c.end()),
                                                      *std::max_element(c.begin(), c.end())));
}

ScalarDomain ScalarDomain::neg() const { return constant(0).sub(*this); }

ScalarDomain ScalarDomain::truncate(unsigned bits) const {
  if (bottom_) return bottom();
  if (bits >= 64) return *this;
  IntervalDomain b;
  if (bits == 32) {
    // The low half keeps every 32-bit bound; only the upper half becomes zero.
    b = IntervalDomain::unsigned_range(bounds_.u32min(), bounds_.u32max());
    b.meet_signed32(bounds_.s32min(), bounds_.s32max());
    b.sync();
  } else {
    const u64 m = low_mask(bits);
    b = (umin() >> bits) == (umax() >> bits) ? IntervalDomain::unsigned_range(umin() & m, umax() & m)
                                             : IntervalDomain::unsigned_range(0, m);
  }
  return ScalarDomain(bits_.truncate(bits), b);
}

ScalarDomain ScalarDomain::sign_extend(unsigned bits) const {
  if (bottom_) return bottom();
  if (bits >= 64) return *this;
  IntervalDomain b;
  if (bits == 32) {
    b = IntervalDomain::signed_range(bounds_.s32min(), bounds_.s32max());
  } else {
    const ScalarDomain t = truncate(bits);
    const u64 half = u64{1} << (bits - 1);
    const s64 full = s64{1} << bits;
    if (t.umax() < half)
      b = t.bounds_;
    else if (t.umin() >= half)
      b = IntervalDomain::signed_range(static_cast<s64>(t.umin()) - full, static_cast<s64>(t.umax()) - full);
    else
      b = IntervalDomain::signed_range(-static_cast<s64>(half), static_cast<s64>(half) - 1);
  }
  return ScalarDomain(bits_.sign_extend(bits), b);
}

ScalarDomain ScalarDomain::byte_swap(unsigned bits) const {
  if (bottom_) return bottom();
  if (is_const()) return constant(vm::alu::bswap(const_value(), static_cast<int>(bits)));
  return ScalarDomain(bits_.byte_swap(bits), IntervalDomain::unsigned_range(0, low_mask(bits)));
}

ScalarDomain ScalarDomain::with_low32(const ScalarDomain& low) const {
  if (bottom_ || low.bottom_) return bottom();
  const Tnum low_facts = Tnum::make(low.bits_.value(), low.bits_.mask() | kHigh32);
  if (!bits_.compatible(low_facts)) return bottom();
  IntervalDomain b = bounds_;
  b.meet_unsigned32(low.bounds_.u32min(), low.bounds_.u32max());
  b.meet_signed32(low.bounds_.s32min(), low.bounds_.s32max());
  b.sync();
  if (b.is_bottom()) return bottom();
  return ScalarDomain(bits_.meet(low_facts), b);
}

}  // namespace bpfvm::verifier
