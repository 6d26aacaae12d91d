// CgroupArrayMap: BPF_MAP_TYPE_CGROUP_ARRAY — cgroups the host put in slots, for
// bpf_current_task_under_cgroup / bpf_skb_under_cgroup (kernel/bpf/arraymap.c cgroup_array_map_ops).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// A cgroup as bpfvm knows it: the host names it, and says whether the task that runs programs is
/// inside it (its hierarchy): the answer bpf_current_task_under_cgroup gives.
struct CgroupRef {
  std::uint64_t id = 0;
  bool holds_current_task = false;
};

/// Turns the u32 fd a host update carries into a cgroup: 0, or the kernel's errno (-EBADF: not an
/// open cgroup directory fd). Without a resolver every update is -EBADF: a process has no cgroups
/// to give bpfvm unless the embedder registers them.
using CgroupResolver = std::function<int(std::uint32_t fd, CgroupRef& out)>;

class CgroupArrayMap final : public Map {
 public:
  CgroupArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  void set_resolver(CgroupResolver resolver) { resolver_ = std::move(resolver); }
  /// Direct host store; -E2BIG if index is out of range.
  int set_cgroup(std::uint32_t index, CgroupRef ref);
  /// bpf_current_task_under_cgroup(map, index): -E2BIG out of range, -EAGAIN empty slot, else 1 or 0.
  int current_task_under(std::uint32_t index) const;

  int erase(const void* key) override;

 protected:
  int copy_value(const void*, void*, std::uint64_t) override { return -kENOTSUPP; }
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;

 private:
  // 0 = empty; else bit 63 set, bit 62 = holds_current_task, low bits = id.
  std::unique_ptr<std::atomic<std::uint64_t>[]> slots_;
  CgroupResolver resolver_;
};

}  // namespace bpfvm::maps
