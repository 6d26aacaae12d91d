// ArrayMap: BPF_MAP_TYPE_ARRAY — max_entries preallocated values indexed by a u32 key.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "maps/map.hpp"
#include "maps/zeroed_block.hpp"

namespace bpfvm::maps {

/// Values live in one zeroed block for the map's lifetime (pages no write touched use no memory);
/// lookups are lock-free (a bounds check and an add). Updates copy in place with relaxed word
/// stores, so a concurrent reader may see a torn value, exactly as in the kernel. Elements cannot be
/// deleted (-EINVAL).
class ArrayMap : public Map {
 public:
  ArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain, unsigned slots = 1);

  void* lookup(const void* key) override;
  int update(const void* key, const void* value, std::uint64_t flags) override;
  int erase(const void* key) override;
  unsigned batch_ops() const override { return kBatchLookup | kBatchUpdate; }
  std::optional<vm::DirectArray> direct_array() const override;
  /// Every value in place (the host's read-only view, as the kernel's BPF_F_MMAPABLE mmap): index
  /// i's slots (one per CPU for the per-CPU variant, each round_up(value_size, 8) bytes) start at
  /// i * index_stride_bytes().
  std::span<const std::byte> values() const {
    return {base_, std::size_t{spec_.max_entries} * index_stride_bytes()};
  }
  std::size_t index_stride_bytes() const { return std::size_t{slots_} * stride_; }

  bool key_of_value(const void* value, void* key) const override;

 protected:
  int next_key(const void* key, void* next) override;
  bool owns_value(std::uintptr_t addr, std::size_t size_bytes) const override;
  /// Checks shared by program and host updates: flags, bounds, NOEXIST. Returns 0 or errno.
  int check_update(std::uint32_t index, std::uint64_t flags) const;
  std::byte* slot(std::uint32_t index, unsigned cpu) const {
    return base_ + (std::size_t{index} * slots_ + cpu) * stride_;
  }
  static std::uint32_t key_index(const void* key);

  unsigned slots_;         // values per index: 1, or nr_cpus for the per-CPU variant
  std::uint32_t stride_;   // round_up(value_size, 8)
  ZeroedBlock storage_;
  std::byte* base_;
};

}  // namespace bpfvm::maps
