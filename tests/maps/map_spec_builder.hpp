// One-line maps for the map tests: spec(MapType::Hash, key, value, max_entries, flags), make(spec, cpus).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>

#include "maps/map.hpp"
#include "maps/map_spec.hpp"

namespace bpfvm::maps::testing {

inline MapSpec spec(MapType type, std::uint32_t key_size, std::uint32_t value_size, std::uint32_t max_entries,
                    std::uint32_t map_flags = 0) {
  MapSpec s;
  s.type = type;
  s.key_size = key_size;
  s.value_size = value_size;
  s.max_entries = max_entries;
  s.map_flags = map_flags;
  return s;
}

/// A map of `s` in its own run domain of `cpus` CPUs; throws (a test failure under Catch) when
/// create_map refuses the spec.
inline std::unique_ptr<Map> make(const MapSpec& s, unsigned cpus = 2) {
  auto m = create_map(s, std::make_shared<RunDomain>(cpus));
  if (!m.has_value()) throw std::runtime_error("create_map: " + m.error().message());
  return std::move(m).value();
}

}  // namespace bpfvm::maps::testing
