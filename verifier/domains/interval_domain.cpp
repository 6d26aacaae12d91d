// IntervalDomain lattice operations and overflow-checked arithmetic.
#include "verifier/domains/interval_domain.hpp"

#include <algorithm>

namespace bpfvm::verifier {

using u64 = IntervalDomain::u64;
using s64 = IntervalDomain::s64;
using u32 = IntervalDomain::u32;
using s32 = IntervalDomain::s32;

namespace {
constexpr u64 kU64Max = std::numeric_limits<u64>::max();
constexpr s64 kS64Min = std::numeric_limits<s64>::min();
constexpr s64 kS64Max = std::numeric_limits<s64>::max();
constexpr u32 kU32Max = std::numeric_limits<u32>::max();
constexpr s32 kS32Min = std::numeric_limits<s32>::min();
constexpr s32 kS32Max = std::numeric_limits<s32>::max();
}  // namespace

IntervalDomain IntervalDomain::top() { return IntervalDomain{}; }

IntervalDomain IntervalDomain::constant(u64 v) {
  IntervalDomain d;
  d.umin_ = d.umax_ = v;
  d.smin_ = d.smax_ = static_cast<s64>(v);
  d.u32min_ = d.u32max_ = static_cast<u32>(v);
  d.s32min_ = d.s32max_ = static_cast<s32>(v);
  return d;
}

IntervalDomain IntervalDomain::unsigned_range(u64 min, u64 max) {
  IntervalDomain d;
  d.meet_unsigned(min, max);
  d.sync();
  return d;
}

IntervalDomain IntervalDomain::signed_range(s64 min, s64 max) {
  IntervalDomain d;
  d.meet_signed(min, max);
  d.sync();
  return d;
}

bool IntervalDomain::contains(u64 v) const {
  const auto s = static_cast<s64>(v);
  const auto lo = static_cast<u32>(v);
  const auto slo = static_cast<s32>(v);
  return umin_ <= v && v <= umax_ && smin_ <= s && s <= smax_ && u32min_ <= lo && lo <= u32max_ &&
         s32min_ <= slo && slo <= s32max_;
}

bool IntervalDomain::leq(const IntervalDomain& o) const {
  return o.umin_ <= umin_ && umax_ <= o.umax_ && o.smin_ <= smin_ && smax_ <= o.smax_ &&
         o.u32min_ <= u32min_ && u32max_ <= o.u32max_ && o.s32min_ <= s32min_ && s32max_ <= o.s32max_;
}

IntervalDomain IntervalDomain::join(const IntervalDomain& o) const {
  IntervalDomain d;
  d.umin_ = std::min(umin_, o.umin_);
  d.umax_ = std::max(umax_, o.umax_);
  d.smin_ = std::min(smin_, o.smin_);
  d.smax_ = std::max(smax_, o.smax_);
  d.u32min_ = std::min(u32min_, o.u32min_);
  d.u32max_ = std::max(u32max_, o.u32max_);
  d.s32min_ = std::min(s32min_, o.s32min_);
  d.s32max_ = std::max(s32max_, o.s32max_);
  return d;
}

IntervalDomain IntervalDomain::meet(const IntervalDomain& o) const {
  IntervalDomain d = *this;
  d.meet_unsigned(o.umin_, o.umax_);
  d.meet_signed(o.smin_, o.smax_);
  d.meet_unsigned32(o.u32min_, o.u32max_);
  d.meet_signed32(o.s32min_, o.s32max_);
  d.sync();
  return d;
}

IntervalDomain IntervalDomain::widen(const IntervalDomain& next) const {
  IntervalDomain d;
  d.umin_ = next.umin_ < umin_ ? 0 : umin_;
  d.umax_ = next.umax_ > umax_ ? kU64Max : umax_;
  d.smin_ = next.smin_ < smin_ ? kS64Min : smin_;
  d.smax_ = next.smax_ > smax_ ? kS64Max : smax_;
  d.u32min_ = next.u32min_ < u32min_ ? 0 : u32min_;
  d.u32max_ = next.u32max_ > u32max_ ? kU32Max : u32max_;
  d.s32min_ = next.s32min_ < s32min_ ? kS32Min : s32min_;
  d.s32max_ = next.s32max_ > s32max_ ? kS32Max : s32max_;
  d.sync();
  return d;
}

IntervalDomain IntervalDomain::add(const IntervalDomain& r) const {
  IntervalDomain d;
  u64 lo, hi;
  if (!__builtin_add_overflow(umin_, r.umin_, &lo) && !__builtin_add_overflow(umax_, r.umax_, &hi))
    d.meet_unsigned(lo, hi);
  s64 slo, shi;
  if (!__builtin_add_overflow(smin_, r.smin_, &slo) && !__builtin_add_overflow(smax_, r.smax_, &shi))
    d.meet_signed(slo, shi);
  d.sync();
  return d;
}

IntervalDomain IntervalDomain::sub(const IntervalDomain& r) const {
  IntervalDomain d;
  if (umin_ >= r.umax_) d.meet_unsigned(umin_ - r.umax_, umax_ - r.umin_);
  s64 slo, shi;
  if (!__builtin_sub_overflow(smin_, r.smax_, &slo) && !__builtin_sub_overflow(smax_, r.smin_, &shi))
    d.meet_signed(slo, shi);
  d.sync();
  return d;
}

IntervalDomain IntervalDomain::mul(const IntervalDomain& r) const {
  IntervalDomain d;
  u64 hi;
  if (!__builtin_mul_overflow(umax_, r.umax_, &hi)) d.meet_unsigned(umin_ * r.umin_, hi);
  d.sync();
  return d;
}

void IntervalDomain::sync() {
  for (int round = 0; round < 2 && !is_bottom(); ++round) {
    const IntervalDomain before = *this;
    // Signed and unsigned 64-bit views agree when the range does not cross the sign boundary.
    if (smin_ >= 0 || smax_ < 0) meet_unsigned(static_cast<u64>(smin_), static_cast<u64>(smax_));
    if (static_cast<s64>(umin_) <= static_cast<s64>(umax_))
      meet_signed(static_cast<s64>(umin_), static_cast<s64>(umax_));
    // Low 32 bits: exact when the 64-bit range stays inside one 2^32-aligned block.
    if ((umin_ >> 32) == (umax_ >> 32)) meet_unsigned32(static_cast<u32>(umin_), static_cast<u32>(umax_));
    if (smin_ >= kS32Min && smax_ <= kS32Max)
      meet_signed32(static_cast<s32>(smin_), static_cast<s32>(smax_));
    if ((umin_ >> 32) == (umax_ >> 32) && static_cast<s32>(umin_) <= static_cast<s32>(umax_))
      meet_signed32(static_cast<s32>(umin_), static_cast<s32>(umax_));
    // Signed and unsigned 32-bit views.
    if (s32min_ >= 0 || s32max_ < 0) meet_unsigned32(static_cast<u32>(s32min_), static_cast<u32>(s32max_));
    if (static_cast<s32>(u32min_) <= static_cast<s32>(u32max_))
      meet_signed32(static_cast<s32>(u32min_), static_cast<s32>(u32max_));
    // Back from 32 to 64 bits when the upper half is fixed by the 64-bit range.
    if ((umin_ >> 32) == (umax_ >> 32)) {
      const u64 hi = umin_ & ~u64{kU32Max};
      meet_unsigned(hi | u32min_, hi | u32max_);
    }
    if (smin_ >= kS32Min && smax_ <= kS32Max) meet_signed(s32min_, s32max_);
    if (*this == before) return;  // a fixpoint: a second round would change nothing either
  }
}

}  // namespace bpfvm::verifier
