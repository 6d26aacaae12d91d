// Tnum: the known-bits domain. Each bit is known 0, known 1 or unknown; a concrete value x is in
// the element when (x & ~mask) == value.
#pragma once

#include <cstdint>

namespace bpfvm::verifier {

class Tnum {
 public:
  constexpr Tnum() = default;  // the unknown 64-bit value
  static constexpr Tnum constant(std::uint64_t v) { return Tnum{v, 0}; }
  static constexpr Tnum unknown() { return Tnum{0, ~std::uint64_t{0}}; }
  static constexpr Tnum make(std::uint64_t value, std::uint64_t mask) { return Tnum{value & ~mask, mask}; }
  /// The smallest element holding every value of [min, max] (unsigned).
  static Tnum range(std::uint64_t min, std::uint64_t max);

  std::uint64_t value() const { return value_; }
  std::uint64_t mask() const { return mask_; }
  bool is_const() const { return mask_ == 0; }
  bool contains(std::uint64_t x) const { return (x & ~mask_) == value_; }
  /// Every value of *this lies in other.
  bool leq(const Tnum& other) const {
    return (mask_ & ~other.mask_) == 0 && (value_ & ~other.mask_) == other.value_;
  }
  /// False when no value lies in both (the meet is bottom).
  bool compatible(const Tnum& other) const {
    return ((value_ ^ other.value_) & ~(mask_ | other.mask_)) == 0;
  }
  Tnum meet(const Tnum& other) const;  // precondition: compatible(other)
  Tnum join(const Tnum& other) const;

  std::uint64_t umin() const { return value_; }
  std::uint64_t umax() const { return value_ | mask_; }
  std::int64_t smin() const;
  std::int64_t smax() const;

  Tnum add(const Tnum& rhs) const;
  Tnum sub(const Tnum& rhs) const;
  Tnum mul(const Tnum& rhs) const;
  Tnum bit_and(const Tnum& rhs) const;
  Tnum bit_or(const Tnum& rhs) const;
  Tnum bit_xor(const Tnum& rhs) const;
  Tnum lsh(unsigned k) const;   // k < 64
  Tnum rsh(unsigned k) const;   // k < 64
  Tnum arsh(unsigned k) const;  // k < 64, 64-bit arithmetic shift
  /// Low `bits` bits, zero-extended.
  Tnum truncate(unsigned bits) const;
  /// Low `bits` bits, sign-extended from bit bits-1.
  Tnum sign_extend(unsigned bits) const;
  /// Byte swap of the low `bits` bits (16, 32, 64), upper bits zero.
  Tnum byte_swap(unsigned bits) const;

  friend bool operator==(const Tnum&, const Tnum&) = default;

 private:
  constexpr Tnum(std::uint64_t v, std::uint64_t m) : value_(v), mask_(m) {}
  std::uint64_t value_ = 0;
  std::uint64_t mask_ = ~std::uint64_t{0};
};

}  // namespace bpfvm::verifier
