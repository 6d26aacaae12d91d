// ArrayOfMapsMap: BPF_MAP_TYPE_ARRAY_OF_MAPS — an array whose values are inner maps.
#pragma once

#include <atomic>
#include <memory>

#include "maps/map_in_map.hpp"

namespace bpfvm::maps {

/// Programs look up an index and get the inner Map* itself (as the kernel returns the inner
/// struct bpf_map*); bpf() lookups report the inner map's id. Inner maps are not owned: the host
/// (MapTable) keeps them alive until teardown.
class ArrayOfMapsMap final : public Map {
 public:
  ArrayOfMapsMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  void set_resolver(MapResolver resolver) { resolver_ = std::move(resolver); }
  /// Direct host store after the ABI check: 0, -E2BIG or -EINVAL. nullptr clears the slot.
  int set_inner(std::uint32_t index, Map* inner);

  /// Returns the inner Map* (cast to void*) or nullptr.
  void* lookup(const void* key) override;
  int erase(const void* key) override;

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;

 private:
  std::unique_ptr<std::atomic<Map*>[]> slots_;
  MapResolver resolver_;
};

}  // namespace bpfvm::maps
