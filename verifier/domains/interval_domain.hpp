// Signed and unsigned bounds of a 64-bit value and of its low 32 bits. An operation that may wrap
// returns top for that signedness, not a wrapped range: we trade precision for soundness.
#pragma once

#include <cstdint>
#include <limits>

namespace bpfvm::verifier {

class IntervalDomain {
 public:
  using u64 = std::uint64_t;
  using s64 = std::int64_t;
  using u32 = std::uint32_t;
  using s32 = std::int32_t;

  static IntervalDomain top();
  static IntervalDomain constant(u64 v);
  static IntervalDomain unsigned_range(u64 min, u64 max);
  static IntervalDomain signed_range(s64 min, s64 max);

  u64 umin() const { return umin_; }
  u64 umax() const { return umax_; }
  s64 smin() const { return smin_; }
  s64 smax() const { return smax_; }
  u32 u32min() const { return u32min_; }
  u32 u32max() const { return u32max_; }
  s32 s32min() const { return s32min_; }
  s32 s32max() const { return s32max_; }

  bool is_bottom() const { return umin_ > umax_ || smin_ > smax_ || u32min_ > u32max_ || s32min_ > s32max_; }
  bool contains(u64 v) const;
  bool leq(const IntervalDomain& other) const;
  IntervalDomain join(const IntervalDomain& other) const;
  IntervalDomain meet(const IntervalDomain& other) const;
  /// Bounds that moved between *this and next jump to their extreme.
  IntervalDomain widen(const IntervalDomain& next) const;

  IntervalDomain add(const IntervalDomain& rhs) const;
  IntervalDomain sub(const IntervalDomain& rhs) const;
  IntervalDomain mul(const IntervalDomain& rhs) const;

  /// Narrow one family of bounds (callers then sync()). Inline: the verifier's hottest code.
  void meet_unsigned(u64 min, u64 max) {
    if (min > umin_) umin_ = min;
    if (max < umax_) umax_ = max;
  }
  void meet_signed(s64 min, s64 max) {
    if (min > smin_) smin_ = min;
    if (max < smax_) smax_ = max;
  }
  void meet_unsigned32(u32 min, u32 max) {
    if (min > u32min_) u32min_ = min;
    if (max < u32max_) u32max_ = max;
  }
  void meet_signed32(s32 min, s32 max) {
    if (min > s32min_) s32min_ = min;
    if (max < s32max_) s32max_ = max;
  }

  /// Make the four families agree: signed with unsigned, 64-bit with 32-bit.
  void sync();

  friend bool operator==(const IntervalDomain&, const IntervalDomain&) = default;

 private:
  u64 umin_ = 0, umax_ = std::numeric_limits<u64>::max();
  s64 smin_ = std::numeric_limits<s64>::min(), smax_ = std::numeric_limits<s64>::max();
  u32 u32min_ = 0, u32max_ = std::numeric_limits<u32>::max();
  s32 s32min_ = std::numeric_limits<s32>::min(), s32max_ = std::numeric_limits<s32>::max();
};

}  // namespace bpfvm::verifier
