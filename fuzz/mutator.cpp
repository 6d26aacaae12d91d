// Mutator: bit flips, byte sets, interesting values, arithmetic, insert/erase, dictionary tokens and
// splicing, AFL/libFuzzer style.
#include "fuzz/mutator.hpp"

#include <algorithm>

namespace bpfvm::fuzz {

namespace {

constexpr std::uint8_t kInteresting8[] = {0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x64};
constexpr std::uint16_t kInteresting16[] = {0, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x0800, 0x86dd, 1500, 14};
constexpr std::uint32_t kInteresting32[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0xffff};

void put(std::vector<std::uint8_t>& data, std::size_t at, std::uint64_t v, std::size_t bytes, bool big_endian) {
  for (std::size_t i = 0; i < bytes && at + i < data.size(); ++i) {
    const std::size_t shift = 8 * (big_endian ? bytes - 1 - i : i);
    data[at + i] = static_cast<std::uint8_t>(v >> shift);
  }
}

}  // namespace

Mutator::Mutator(std::uint64_t seed, std::vector<std::vector<std::uint8_t>> dictionary, std::size_t min_bytes,
                 std::size_t max_bytes)
    : rng_(seed), dictionary_(std::move(dictionary)), min_bytes_(min_bytes), max_bytes_(std::max(min_bytes, max_bytes)) {}

void Mutator::fit(std::vector<std::uint8_t>& data) const {
  if (data.size() < min_bytes_) data.resize(min_bytes_, 0);
  if (data.size() > max_bytes_) data.resize(max_bytes_);
}

void Mutator::mutate(std::vector<std::uint8_t>& data, std::span<const std::uint8_t> other) {
  const std::size_t stack = std::size_t{1} << rng_.below(4);  // 1, 2, 4 or 8
  for (std::size_t i = 0; i < stack; ++i) mutate_once(data, other);
  fit(data);
}

void Mutator::mutate_once(std::vector<std::uint8_t>& data, std::span<const std::uint8_t> other) {
  auto pos = [&] { return rng_.below(data.size()); };
  // Dictionary moves get extra weight: magic values are what byte-level mutation rarely guesses.
  const std::size_t kinds = dictionary_.empty() ? 13 : 17;
  const std::size_t kind = rng_.below(kinds);
  if (data.empty() && kind != 7 && kind < 13) {
    data.push_back(static_cast<std::uint8_t>(rng_.next()));
    return;
  }
  switch (kind) {
    case 0: {  // flip one bit
      data[pos()] ^= static_cast<std::uint8_t>(1u << rng_.below(8));
      break;
    }
    case 1: {  // random byte
      data[pos()] = static_cast<std::uint8_t>(rng_.next());
      break;
    }
    case 2: {  // interesting byte
      data[pos()] = kInteresting8[rng_.below(std::size(kInteresting8))];
      break;
    }
    case 3: {  // interesting 16-bit value, either byte order
      put(data, pos(), kInteresting16[rng_.below(std::size(kInteresting16))], 2, rng_.below(2));
      break;
    }
    case 4: {  // interesting 32-bit value, either byte order
      put(data, pos(), kInteresting32[rng_.below(std::size(kInteresting32))], 4, rng_.below(2));
      break;
    }
    case 5: {  // add or subtract a little to a byte
      const auto delta = static_cast<std::uint8_t>(1 + rng_.below(35));
      auto& b = data[pos()];
      b = static_cast<std::uint8_t>(rng_.below(2) ? b + delta : b - delta);
      break;
    }
    case 6: {  // add or subtract a little to a big-endian 16-bit field (lengths, ports)
      const std::size_t at = pos();
      if (at + 1 >= data.size()) break;
      auto v = static_cast<std::uint16_t>((data[at] << 8) | data[at + 1]);
      const auto delta = static_cast<std::uint16_t>(1 + rng_.below(35));
      v = static_cast<std::uint16_t>(rng_.below(2) ? v + delta : v - delta);
      put(data, at, v, 2, true);
      break;
    }
    case 7: {  // insert random or repeated bytes
      const std::size_t n = 1 + rng_.below(16);
      const std::size_t at = rng_.below(data.size() + 1);
      const auto fill = static_cast<std::uint8_t>(rng_.next());
      const bool same = rng_.below(2);
      std::vector<std::uint8_t> bytes(n);
      for (auto& b : bytes) b = same ? fill : static_cast<std::uint8_t>(rng_.next());
      data.insert(data.begin() + static_cast<std::ptrdiff_t>(at), bytes.begin(), bytes.end());
      break;
    }
    case 8: {  // erase a run of bytes
      const std::size_t at = pos();
      const std::size_t n = std::min(data.size() - at, 1 + rng_.below(16));
      data.erase(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + n));
      break;
    }
    case 9: {  // copy a chunk of the input over another place of it
      const std::size_t from = pos(), to = pos();
      const std::size_t n = std::min({data.size() - from, data.size() - to, 1 + rng_.below(16)});
      std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(from), n, data.begin() + static_cast<std::ptrdiff_t>(to));
      break;
    }
    case 10: {  // overwrite with a chunk of another corpus input
      if (other.empty()) break;
      const std::size_t from = rng_.below(other.size()), to = pos();
      const std::size_t n = std::min({other.size() - from, data.size() - to, 1 + rng_.below(32)});
      std::copy_n(other.begin() + static_cast<std::ptrdiff_t>(from), n, data.begin() + static_cast<std::ptrdiff_t>(to));
      break;
    }
    case 11: {  // crossover: our head, the other input's tail
      if (other.empty()) break;
      const std::size_t cut = rng_.below(data.size() + 1), from = rng_.below(other.size());
      data.resize(cut);
      data.insert(data.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
      break;
    }
    case 12: {  // change the length
      const std::size_t n = rng_.below(std::max<std::size_t>(max_bytes_, 1) + 1);
      data.resize(std::min(n, data.size() * 2 + 16), 0);
      break;
    }
    default: {  // 13..16: a dictionary token, overwritten (three in four) or inserted
      const auto& token = dictionary_[rng_.below(dictionary_.size())];
      if (kind != 16 && !data.empty()) {
        const std::size_t at = pos();
        for (std::size_t i = 0; i < token.size() && at + i < data.size(); ++i) data[at + i] = token[i];
      } else {
        const std::size_t at = rng_.below(data.size() + 1);
        data.insert(data.begin() + static_cast<std::ptrdiff_t>(at), token.begin(), token.end());
      }
      break;
    }
  }
}

}  // namespace bpfvm::fuzz
