// ScalarDomain: the reduced product of Tnum and IntervalDomain. Every operation computes both
// halves and then lets each narrow the other (normalize), so a bit fact tightens a bound and back.
#pragma once

#include <cstdint>

#include "verifier/domains/interval_domain.hpp"
#include "verifier/domains/tnum.hpp"

namespace bpfvm::verifier {

class ScalarDomain {
 public:
  static ScalarDomain top();
  static ScalarDomain constant(std::uint64_t v);
  static ScalarDomain unsigned_range(std::uint64_t min, std::uint64_t max);
  static ScalarDomain signed_range(std::int64_t min, std::int64_t max);
  static ScalarDomain bottom();
  static ScalarDomain from_bits(const Tnum& bits);

  const Tnum& bits() const { return bits_; }
  const IntervalDomain& bounds() const { return bounds_; }
  std::uint64_t umin() const { return bounds_.umin(); }
  std::uint64_t umax() const { return bounds_.umax(); }
  std::int64_t smin() const { return bounds_.smin(); }
  std::int64_t smax() const { return bounds_.smax(); }

  bool is_bottom() const { return bottom_; }
  bool is_const() const { return !bottom_ && bits_.is_const(); }
  std::uint64_t const_value() const { return bits_.value(); }
  bool is_top() const { return *this == top(); }
  bool contains(std::uint64_t v) const { return !bottom_ && bits_.contains(v) && bounds_.contains(v); }
  bool leq(const ScalarDomain& other) const;
  ScalarDomain join(const ScalarDomain& other) const;
  ScalarDomain meet(const ScalarDomain& other) const;
  ScalarDomain widen(const ScalarDomain& next) const;

  // 64-bit operations, RFC 9669 semantics (division by zero defined, shift counts masked).
  ScalarDomain add(const ScalarDomain& rhs) const;
  ScalarDomain sub(const ScalarDomain& rhs) const;
  ScalarDomain mul(const ScalarDomain& rhs) const;
  ScalarDomain udiv(const ScalarDomain& rhs) const;
  ScalarDomain umod(const ScalarDomain& rhs) const;
  ScalarDomain sdiv(const ScalarDomain& rhs) const;
  ScalarDomain smod(const ScalarDomain& rhs) const;
  ScalarDomain bit_and(const ScalarDomain& rhs) const;
  ScalarDomain bit_or(const ScalarDomain& rhs) const;
  ScalarDomain bit_xor(const ScalarDomain& rhs) const;
  ScalarDomain lsh(const ScalarDomain& rhs) const;
  ScalarDomain rsh(const ScalarDomain& rhs) const;
  ScalarDomain arsh(const ScalarDomain& rhs) const;
  ScalarDomain neg() const;

  /// Low `bits` bits zero-extended (8, 16, 32).
  ScalarDomain truncate(unsigned bits) const;
  /// Low `bits` bits sign-extended to 64 (8, 16, 32).
  ScalarDomain sign_extend(unsigned bits) const;
  /// Byte swap of the low `bits` bits (16, 32, 64).
  ScalarDomain byte_swap(unsigned bits) const;
  /// 32-bit ALU: apply a 64-bit operation to the zero-extended low halves, keep the low half.
  template <class Op>
  ScalarDomain alu32(const ScalarDomain& rhs, Op op) const {
    return op(truncate(32), rhs.truncate(32)).truncate(32);
  }

  /// Replace what is known of the low 32 bits by `low` (a refined truncate(32) of *this).
  ScalarDomain with_low32(const ScalarDomain& low) const;

  friend bool operator==(const ScalarDomain&, const ScalarDomain&) = default;

 private:
  ScalarDomain(Tnum bits, IntervalDomain bounds) : bits_(bits), bounds_(bounds) { normalize(); }
  /// For bits and bounds that already agree (top, a constant): normalize() would change nothing.
  struct Reduced {};
  ScalarDomain(Tnum bits, IntervalDomain bounds, Reduced) : bits_(bits), bounds_(bounds) {}
  void normalize();

  Tnum bits_;
  IntervalDomain bounds_;
  bool bottom_ = false;
};

}  // namespace bpfvm::verifier
