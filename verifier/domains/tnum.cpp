// Tnum transfer functions. Carries are what make add/sub imprecise: any bit a carry may reach
// from an unknown bit becomes unknown.
#include "verifier/domains/tnum.hpp"

#include <bit>

namespace bpfvm::verifier {

namespace {
constexpr std::uint64_t kSign = std::uint64_t{1} << 63;
std::uint64_t low_mask(unsigned bits) { return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1; }
}  // namespace

Tnum Tnum::range(std::uint64_t min, std::uint64_t max) {
  const std::uint64_t differing = min ^ max;
  if (differing == 0) return constant(min);
  const unsigned bits = 64 - static_cast<unsigned>(std::countl_zero(differing));
  const std::uint64_t delta = low_mask(bits);
  return make(min & ~delta, delta);
}

Tnum Tnum::meet(const Tnum& other) const {
  const std::uint64_t v = value_ | other.value_;
  const std::uint64_t m = mask_ & other.mask_;
  return make(v, m);
}

Tnum Tnum::join(const Tnum& other) const {
  const std::uint64_t m = mask_ | other.mask_ | (value_ ^ other.value_);
  return make(value_, m);
}

std::int64_t Tnum::smin() const {
  return static_cast<std::int64_t>((mask_ & kSign) ? (value_ | kSign) : value_);
}

std::int64_t Tnum::smax() const {
  return static_cast<std::int64_t>((mask_ & kSign) ? ((value_ | mask_) & ~kSign) : (value_ | mask_));
}

Tnum Tnum::add(const Tnum& rhs) const {
  const std::uint64_t sum_values = value_ + rhs.value_;
  const std::uint64_t sum_masks = mask_ + rhs.mask_;
  const std::uint64_t carries = (sum_values + sum_masks) ^ sum_values;
  return make(sum_values, carries | mask_ | rhs.mask_);
}

Tnum Tnum::sub(const Tnum& rhs) const {
  const std::uint64_t diff = value_ - rhs.value_;
  const std::uint64_t borrows = (diff + mask_) ^ (diff - rhs.mask_);
  return make(diff, borrows | mask_ | rhs.mask_);
}

Tnum Tnum::mul(const Tnum& rhs) const {
  if (is_const() && rhs.is_const()) return constant(value_ * rhs.value_);
  // Long multiplication: each bit of *this adds a shifted copy of rhs, or an unknown one.
  Tnum acc = constant(0);
  Tnum a = *this;
  Tnum b = rhs;
  for (int i = 0; i < 64 && (a.value_ | a.mask_) != 0; ++i) {
    if (a.value_ & 1)
      acc = acc.add(b);
    else if (a.mask_ & 1)
      acc = acc.add(make(0, b.value_ | b.mask_));
    a = a.rsh(1);
    b = b.lsh(1);
  }
  return acc;
}

Tnum Tnum::bit_and(const Tnum& rhs) const {
  const std::uint64_t maybe_one_a = value_ | mask_;
  const std::uint64_t maybe_one_b = rhs.value_ | rhs.mask_;
  const std::uint64_t v = value_ & rhs.value_;
  return make(v, maybe_one_a & maybe_one_b & ~v);
}

Tnum Tnum::bit_or(const Tnum& rhs) const {
  const std::uint64_t v = value_ | rhs.value_;
  return make(v, (mask_ | rhs.mask_) & ~v);
}

Tnum Tnum::bit_xor(const Tnum& rhs) const {
  const std::uint64_t m = mask_ | rhs.mask_;
  return make(value_ ^ rhs.value_, m);
}

Tnum Tnum::lsh(unsigned k) const { return make(value_ << k, mask_ << k); }
Tnum Tnum::rsh(unsigned k) const { return make(value_ >> k, mask_ >> k); }
Tnum Tnum::arsh(unsigned k) const {
  // An unknown sign bit spreads as unknown bits, a known one as known bits.
  return make(static_cast<std::uint64_t>(static_cast<std::int64_t>(value_) >> k),
              static_cast<std::uint64_t>(static_cast<std::int64_t>(mask_) >> k));
}

Tnum Tnum::truncate(unsigned bits) const { return make(value_ & low_mask(bits), mask_ & low_mask(bits)); }

Tnum Tnum::sign_extend(unsigned bits) const {
  if (bits >= 64) return *this;
  const unsigned k = 64 - bits;
  return lsh(k).arsh(k);
}

Tnum Tnum::byte_swap(unsigned bits) const {
  const Tnum t = truncate(bits);
  auto swap = [bits](std::uint64_t x) -> std::uint64_t {
    return bits == 16 ? __builtin_bswap16(static_cast<std::uint16_t>(x))
         : bits == 32 ? __builtin_bswap32(static_cast<std::uint32_t>(x))
                      : __builtin_bswap64(x);
  };
  return make(swap(t.value_), swap(t.mask_));
}

}  // namespace bpfvm::verifier
