// Shared pieces of the map-in-map types: how a host value (fd) becomes an inner Map*, and the ABI check.
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// Turns the u32 a host update carries (a map fd, or a MapTable index) into a Map*, or nullptr (-EBADF).
using MapResolver = std::function<Map*(std::uint32_t fd)>;

/// map_in_map.c bpf_map_meta_equal (+ array_map_meta_equal): type, key/value size and flags must
/// match the template; arrays also max_entries unless the template has BPF_F_INNER_MAP.
/// 0 or -EINVAL. A map-in-map cannot be an inner map (-EINVAL).
inline int check_inner_map(const MapSpec& tmpl, const Map& inner) {
  const MapSpec& s = inner.spec();
  if (s.type == MapType::ArrayOfMaps || s.type == MapType::HashOfMaps) return -EINVAL;
  if (s.type != tmpl.type || s.key_size != tmpl.key_size || s.value_size != tmpl.value_size ||
      s.map_flags != tmpl.map_flags)
    return -EINVAL;
  const bool array_like = s.type == MapType::Array || s.type == MapType::PercpuArray;
  if (array_like && !(tmpl.map_flags & kBpfFInnerMap) && s.max_entries != tmpl.max_entries) return -EINVAL;
  return 0;
}

}  // namespace bpfvm::maps
