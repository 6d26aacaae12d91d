// PercpuArrayMap: BPF_MAP_TYPE_PERCPU_ARRAY, per-CPU variants of arraymap.c's entry points.
#include "maps/percpu_array_map.hpp"

#include <cerrno>

#include "maps/value_copy.hpp"

namespace bpfvm::maps {

PercpuArrayMap::PercpuArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : ArrayMap(spec, domain, domain->nr_cpus()) {}

void* PercpuArrayMap::lookup(const void* key) {
  const std::uint32_t index = key_index(key);
  if (index >= spec_.max_entries) return nullptr;
  return slot(index, this_cpu());
}

// arraymap.c percpu_array_map_lookup_percpu_elem: NULL for a cpu at or past nr_cpu_ids or an index
// past the array.
void* PercpuArrayMap::lookup_percpu(const void* key, std::uint32_t cpu) {
  const std::uint32_t index = key_index(key);
  if (cpu >= slots_ || index >= spec_.max_entries) return nullptr;
  return slot(index, cpu);
}

int PercpuArrayMap::update(const void* key, const void* value, std::uint64_t flags) {
  const std::uint32_t index = key_index(key);
  if (int err = check_update(index, flags)) return err;
  store_value(slot(index, this_cpu()), value, spec_.value_size);
  return 0;
}

int PercpuArrayMap::copy_value(const void* key, void* out, std::uint64_t) {
  const std::uint32_t index = key_index(key);
  if (index >= spec_.max_entries) return -ENOENT;
  for (unsigned cpu = 0; cpu < slots_; ++cpu)
    load_value(percpu_slot(out, spec_.value_size, cpu), slot(index, cpu), stride_);
  return 0;
}

// arraymap.c bpf_percpu_array_update: any flag above BPF_EXIST (BPF_F_LOCK too) is -EINVAL.
int PercpuArrayMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  const std::uint32_t index = key_index(key);
  if (flags > kBpfExist) return -EINVAL;
  if (index >= spec_.max_entries) return -E2BIG;
  if (flags == kBpfNoexist) return -EEXIST;
  for (unsigned cpu = 0; cpu < slots_; ++cpu)
    store_value(slot(index, cpu), percpu_slot(const_cast<void*>(value), spec_.value_size, cpu), stride_);
  return 0;
}

}  // namespace bpfvm::maps
