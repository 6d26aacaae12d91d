// Walking maps with next_key/lookup for the CLI's dumps.
#include "tools/bpfvm/map_dump.hpp"

#include <vector>

#include "tools/common/hex_text.hpp"

namespace bpfvm::tools {

namespace {

struct Entry {
  std::vector<std::uint8_t> key, value;
};

// Every entry of a keyed map; keyless maps (queue, stack, ring buffer) and maps whose walk fails
// report none.
std::vector<Entry> entries_of(const Map& map) {
  std::vector<Entry> out;
  if (map.key_size() == 0) return out;
  std::vector<std::uint8_t> key, next(map.key_size());
  for (std::uint32_t guard = 0; guard <= map.max_entries(); ++guard) {
    if (map.next_key(key, next) != 0) break;
    key = next;
    Entry e{key, std::vector<std::uint8_t>(map.host_value_size())};
    if (map.lookup(e.key, e.value) == 0) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::string maps_text(const Object& object) {
  std::string out;
  for (const auto& map : object.maps()) {
    const auto entries = entries_of(map);
    out += "map " + map.name() + " (type " + std::to_string(map.type()) + ", " + std::to_string(entries.size()) + " entries)\n";
    for (const auto& e : entries) out += "  " + hex_bytes(e.key) + ": " + hex_bytes(e.value) + "\n";
  }
  return out;
}

std::string maps_json(const Object& object) {
  std::string out = "[";
  bool first_map = true;
  for (const auto& map : object.maps()) {
    out += std::string(first_map ? "" : ", ") + "{\"name\": \"" + map.name() + "\", \"type\": " +
           std::to_string(map.type()) + ", \"entries\": [";
    first_map = false;
    bool first = true;
    for (const auto& e : entries_of(map)) {
      out += std::string(first ? "" : ", ") + "{\"key\": \"" + hex_bytes(e.key) + "\", \"value\": \"" + hex_bytes(e.value) + "\"}";
      first = false;
    }
    out += "]}";
  }
  return out + "]";
}

}  // namespace bpfvm::tools
