// PercpuArrayMap: BPF_MAP_TYPE_PERCPU_ARRAY — an ArrayMap with one value per CPU slot per index.
#pragma once

#include "maps/array_map.hpp"

namespace bpfvm::maps {

/// Programs see the value of their RunGuard's slot; the host reads and writes all slots at once,
/// each value rounded up to 8 bytes (bpf_percpu_array_copy / bpf_percpu_array_update).
class PercpuArrayMap final : public ArrayMap {
 public:
  PercpuArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  void* lookup(const void* key) override;
  void* lookup_percpu(const void* key, std::uint32_t cpu) override;
  int update(const void* key, const void* value, std::uint64_t flags) override;

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
};

}  // namespace bpfvm::maps
