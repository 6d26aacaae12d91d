// Mutator: the byte-level changes the fuzzer makes to corpus inputs, driven by a seeded generator
// so a run is reproducible from its seed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace bpfvm::fuzz {

/// splitmix64: small, fast, and the whole state is the seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); 0 when n is 0.
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

class Mutator {
 public:
  Mutator(std::uint64_t seed, std::vector<std::vector<std::uint8_t>> dictionary, std::size_t min_bytes,
          std::size_t max_bytes);

  /// Applies one to eight stacked mutations, then fits the size into [min_bytes, max_bytes].
  /// `other` (another corpus input) feeds splicing.
  void mutate(std::vector<std::uint8_t>& data, std::span<const std::uint8_t> other);
  /// Pads or cuts `data` to the size bounds.
  void fit(std::vector<std::uint8_t>& data) const;
  Rng& rng() { return rng_; }

 private:
  void mutate_once(std::vector<std::uint8_t>& data, std::span<const std::uint8_t> other);

  Rng rng_;
  std::vector<std::vector<std::uint8_t>> dictionary_;
  std::size_t min_bytes_, max_bytes_;
};

}  // namespace bpfvm::fuzz
