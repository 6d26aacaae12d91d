// BloomFilterMap: BPF_MAP_TYPE_BLOOM_FILTER — push adds a value, peek tests membership.
#pragma once

#include <atomic>
#include <memory>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// A bit array of roundup_pow_of_two(max_entries * nr_hashes / ln 2) bits (at least 64), set with
/// atomic fetch_or; nr_hashes = map_extra & 0xf, 0 meaning 5 (kernel/bpf/bloom_filter.c). peek
/// returns 0 when every bit is set (maybe present) and -ENOENT otherwise (definitely absent).
class BloomFilterMap final : public Map {
 public:
  BloomFilterMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  void* lookup(const void* key) override;
  int update(const void* key, const void* value, std::uint64_t flags) override;
  int erase(const void* key) override;
  int push(const void* value, std::uint64_t flags) override;
  int pop(void* value) override;
  int peek(void* value) override;
  unsigned nr_hashes() const { return nr_hashes_; }

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;

 private:
  std::uint64_t bit_index(const void* value, unsigned i) const;

  unsigned nr_hashes_;
  std::uint64_t bit_mask_;  // nr_bits - 1
  std::unique_ptr<std::atomic<std::uint64_t>[]> words_;
};

}  // namespace bpfvm::maps
