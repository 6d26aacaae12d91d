// CgroupStorageMap: BPF_MAP_TYPE_CGROUP_STORAGE and PERCPU_CGROUP_STORAGE (kernel/bpf/local_storage.c), the
// maps bpf_get_local_storage answers from.
#pragma once

#include <memory>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// In the kernel an entry exists per (cgroup, attach type) a program using the map is attached to, keyed by
/// struct bpf_cgroup_storage_key (16 bytes) or the cgroup id (8). A process attaches nothing, so the host
/// side always sees 6.18's answers on an unattached map: lookup and get_next_key -ENOENT, update -ENOENT
/// (flags other than BPF_ANY/BPF_EXIST, or BPF_F_LOCK on a value without a lock, -EINVAL), delete -EINVAL.
/// What a program's bpf_get_local_storage returns is the storage of the run (helpers/storage_helpers.cpp):
/// the kernel's BPF_PROG_TEST_RUN allocates zeroed storages for each run, and so does bpfvm.
class CgroupStorageMap final : public Map {
 public:
  CgroupStorageMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain) : Map(spec, std::move(domain)) {}

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;
};

/// cgroup_storage_map_alloc's checks (create_map's check_map_spec calls it).
SpecProblem check_cgroup_storage_spec(const MapSpec& spec);

}  // namespace bpfvm::maps
