// BloomFilterMap: bloom filter bits and the errnos of kernel/bpf/bloom_filter.c.
#include "maps/bloom_filter_map.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>

namespace bpfvm::maps {

BloomFilterMap::BloomFilterMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)) {
  nr_hashes_ = static_cast<unsigned>(spec.map_extra & 0xf);
  if (nr_hashes_ == 0) nr_hashes_ = 5;
  // bits = n * k / ln(2), rounded up to a power of two (7/5 over-approximates 1/ln 2 = 1.4427).
  std::uint64_t bits = std::uint64_t{spec.max_entries} * nr_hashes_ * 1443 / 1000;
  bits = std::clamp<std::uint64_t>(bits, 64, std::uint64_t{1} << 32);
  bits = std::bit_ceil(bits);
  bit_mask_ = bits - 1;
  words_ = std::make_unique<std::atomic<std::uint64_t>[]>(bits / 64);
}

// Double hashing: h1 + i * h2 over an FNV-1a/murmur mix of the value bytes.
std::uint64_t BloomFilterMap::bit_index(const void* value, unsigned i) const {
  const auto* p = static_cast<const unsigned char*>(value);
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::uint32_t j = 0; j < spec_.value_size; ++j) h = (h ^ p[j]) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  const std::uint64_t h1 = h;
  const std::uint64_t h2 = (h >> 32) | 1;
  return (h1 + i * h2) & bit_mask_;
}

// bloom_map_push_elem: only BPF_ANY.
int BloomFilterMap::push(const void* value, std::uint64_t flags) {
  if (flags != kBpfAny) return -EINVAL;
  for (unsigned i = 0; i < nr_hashes_; ++i) {
    const std::uint64_t bit = bit_index(value, i);
    words_[bit / 64].fetch_or(std::uint64_t{1} << (bit % 64), std::memory_order_relaxed);
  }
  return 0;
}

int BloomFilterMap::peek(void* value) {
  for (unsigned i = 0; i < nr_hashes_; ++i) {
    const std::uint64_t bit = bit_index(value, i);
    if (!(words_[bit / 64].load(std::memory_order_relaxed) & (std::uint64_t{1} << (bit % 64))))
      return -ENOENT;
  }
  return 0;
}

// The element operations the kernel refuses for bloom filters.
void* BloomFilterMap::lookup(const void*) { return nullptr; }  // ERR_PTR(-EOPNOTSUPP) in the kernel
int BloomFilterMap::update(const void*, const void*, std::uint64_t) { return -EINVAL; }
int BloomFilterMap::erase(const void*) { return -EOPNOTSUPP; }
int BloomFilterMap::pop(void*) { return -EOPNOTSUPP; }
int BloomFilterMap::next_key(const void*, void*) { return -EOPNOTSUPP; }

// syscall.c: BPF_MAP_LOOKUP_ELEM peeks and BPF_MAP_UPDATE_ELEM pushes.
int BloomFilterMap::copy_value(const void*, void* out, std::uint64_t) { return peek(out); }
int BloomFilterMap::update_from_host(const void*, const void* value, std::uint64_t flags) {
  return push(value, flags);
}

}  // namespace bpfvm::maps
