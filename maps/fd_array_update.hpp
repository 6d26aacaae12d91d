// The host-side update of an fd array (prog_array, cgroup_array): kernel/bpf/arraymap.c
// bpf_fd_array_map_update_elem's checks before the new object is stored, in the kernel's order.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// Only BPF_ANY (-EINVAL), the index inside the array (-E2BIG), then the value's fd turned into the
/// slot's object by `resolver` (none: -EBADF, the errno of an fd that names nothing). On 0, `index`
/// and `ref` hold the slot and its new object.
template <class Ref, class Resolver>
int resolve_fd_array_update(const MapSpec& spec, const Resolver& resolver, const void* key, const void* value,
                            std::uint64_t flags, std::uint32_t& index, Ref& ref) {
  if (flags != kBpfAny) return -EINVAL;
  std::uint32_t fd;
  std::memcpy(&index, key, 4);
  std::memcpy(&fd, value, 4);
  if (index >= spec.max_entries) return -E2BIG;
  if (!resolver) return -EBADF;
  return resolver(fd, ref);
}

}  // namespace bpfvm::maps
