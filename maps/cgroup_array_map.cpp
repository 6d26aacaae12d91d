// CgroupArrayMap: fd-array semantics of kernel/bpf/arraymap.c for cgroup slots.
#include "maps/cgroup_array_map.hpp"

#include <cerrno>
#include <cstring>

#include "maps/fd_array_update.hpp"
#include "maps/prog_array_map.hpp"

namespace bpfvm::maps {
namespace {
constexpr std::uint64_t kPresent = std::uint64_t{1} << 63;
constexpr std::uint64_t kHoldsTask = std::uint64_t{1} << 62;
}  // namespace

CgroupArrayMap::CgroupArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)), slots_(std::make_unique<std::atomic<std::uint64_t>[]>(spec.max_entries)) {}

int CgroupArrayMap::set_cgroup(std::uint32_t index, CgroupRef ref) {
  if (index >= spec_.max_entries) return -E2BIG;
  const std::uint64_t word = kPresent | (ref.holds_current_task ? kHoldsTask : 0) | (ref.id & (kHoldsTask - 1));
  slots_[index].store(word, std::memory_order_release);
  return 0;
}

int CgroupArrayMap::current_task_under(std::uint32_t index) const {
  if (index >= spec_.max_entries) return -E2BIG;
  const std::uint64_t word = slots_[index].load(std::memory_order_acquire);
  if (word == 0) return -EAGAIN;
  return (word & kHoldsTask) ? 1 : 0;
}

int CgroupArrayMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  std::uint32_t index;
  CgroupRef ref;
  if (int err = resolve_fd_array_update(spec_, resolver_, key, value, flags, index, ref)) return err;
  return set_cgroup(index, ref);
}

int CgroupArrayMap::erase(const void* key) {
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= spec_.max_entries) return -E2BIG;
  return slots_[index].exchange(0, std::memory_order_acq_rel) ? 0 : -ENOENT;
}

int CgroupArrayMap::next_key(const void* key, void* next) { return array_next_key(spec_.max_entries, key, next); }

}  // namespace bpfvm::maps
