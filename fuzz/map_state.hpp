// MapState: reads an object's maps and puts them back, so every fuzz run starts from the contents
// the object was loaded with, and two engines' runs can be compared map by map.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"

namespace bpfvm::fuzz {

/// One map's contents as key‖value records (all CPUs' values for per-CPU maps), in iteration order;
/// for arrays, the values as they sit in the map (Map::array_values; keys implicit): flat, so the
/// per-run read allocates nothing once warm and compares with one memcmp.
struct MapSnapshot {
  std::vector<std::uint8_t> records;
  friend bool operator==(const MapSnapshot&, const MapSnapshot&) = default;
};
using MapSnapshots = std::vector<MapSnapshot>;

class MapState {
 public:
  /// Tracks the hash, array and LPM-trie maps (and their LRU / per-CPU forms) of `object`; arrays of
  /// more than `max_entries` are left alone, as are rings, queues, prog and map-in-map arrays.
  MapState(const Object& object, std::size_t max_entries);

  bool empty() const { return maps_.empty(); }
  /// Current contents of every tracked map, in tracking order (reusing `out`'s buffers).
  void read(MapSnapshots& out) const;
  /// Puts the initial contents back, given the current ones (from read()).
  void restore(const MapSnapshots& current);
  /// Same contents (hash maps may list the same entries in another order).
  bool same(const MapSnapshots& a, const MapSnapshots& b) const;
  /// "map NAME: key 0a000000: ..." for the first difference, "" when equal.
  std::string describe_difference(const MapSnapshots& a, const MapSnapshots& b, const char* a_name,
                                  const char* b_name) const;
  /// Names of tracked maps whose contents `state` changed.
  std::vector<std::string> touched(const MapSnapshots& state) const;

 private:
  struct Tracked {
    Map map;
    bool array;
    std::size_t key_bytes, value_bytes;
    std::size_t array_stride;  // arrays: Map::array_stride_bytes(); their snapshot is the values in place
  };
  bool same_map(std::size_t i, const MapSnapshot& a, const MapSnapshot& b) const;

  std::vector<Tracked> maps_;
  MapSnapshots initial_;
};

}  // namespace bpfvm::fuzz
