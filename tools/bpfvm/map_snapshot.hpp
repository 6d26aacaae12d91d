// Map contents in a form two engines can be compared by: bpfvm's maps and the kernel's, walked with
// next_key/lookup, entries sorted by key, per-CPU values folded so that the CPU a run landed on does not
// matter.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"

namespace bpfvm::tools {

struct MapSnapshot {
  std::string name;
  std::uint32_t type = 0;  ///< BPF_MAP_TYPE_*
  /// False for maps whose values are not data the program computed (prog_array and other fd maps,
  /// ring buffers, queues): their contents are not compared.
  bool compared = false;
  std::map<std::vector<std::uint8_t>, std::vector<std::uint8_t>> entries;
};

/// True for the map types whose contents are compared (hash, array, their per-CPU and LRU forms).
bool comparable_map_type(std::uint32_t type);
/// True for per-CPU map types (values hold one 8-byte-rounded slot per CPU).
bool per_cpu_map_type(std::uint32_t type);
/// A per-CPU value as the list of its non-zero slots, sorted: equal whichever CPUs the runs used.
std::vector<std::uint8_t> fold_per_cpu(std::span<const std::uint8_t> value, std::uint32_t value_size);

/// Every map of a bpfvm object (at most max_entries + 1 next_key steps per map).
std::vector<MapSnapshot> snapshot_maps(const Object& object);

/// One line per difference between `a` (engine `a_name`) and `b`; empty when they agree.
std::vector<std::string> compare_maps(const std::vector<MapSnapshot>& a, const std::string& a_name,
                                      const std::vector<MapSnapshot>& b, const std::string& b_name);

}  // namespace bpfvm::tools
