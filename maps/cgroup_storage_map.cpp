// CgroupStorageMap: cgroup storage as a process sees it (nothing attached, storage per program run).
#include "maps/cgroup_storage_map.hpp"

#include <cerrno>

namespace bpfvm::maps {

SpecProblem check_cgroup_storage_spec(const MapSpec& s) {
  constexpr std::uint32_t kStorageKeyBytes = 16;       // struct bpf_cgroup_storage_key
  constexpr std::uint32_t kPercpuMaxValueBytes = 32768;  // PCPU_MIN_UNIT_SIZE
  constexpr std::uint64_t kMaxValueBytes = std::uint64_t{1} << 22;  // KMALLOC_MAX_SIZE
  const bool percpu = s.type == MapType::PercpuCgroupStorage;
  if (s.key_size != kStorageKeyBytes && s.key_size != 8)
    return {-EINVAL, "cgroup storage key_size must be 16 (struct bpf_cgroup_storage_key) or 8 (a cgroup id)"};
  if (s.value_size == 0) return {-EINVAL, "cgroup storage value_size must be > 0"};
  if (s.value_size > (percpu ? kPercpuMaxValueBytes : kMaxValueBytes))
    return {-E2BIG, "cgroup storage value_size too large"};
  if (s.map_flags & ~(kBpfFNumaNode | kBpfFAccessMask)) return {-EINVAL, "cgroup storage map_flags not supported"};
  if ((s.map_flags & (kBpfFRdonlyProg | kBpfFWronlyProg)) == (kBpfFRdonlyProg | kBpfFWronlyProg))
    return {-EINVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together"};
  if (s.max_entries != 0) return {-EINVAL, "cgroup storage max_entries must be 0 (storage is per cgroup)"};
  return {};
}

int CgroupStorageMap::copy_value(const void*, void*, std::uint64_t) { return -ENOENT; }

int CgroupStorageMap::update_from_host(const void*, const void*, std::uint64_t flags) {
  if (flags & ~(kBpfFLock | kBpfExist)) return -EINVAL;  // BPF_NOEXIST too: storage is never created this way
  return -ENOENT;
}

int CgroupStorageMap::next_key(const void*, void*) { return -ENOENT; }

}  // namespace bpfvm::maps
