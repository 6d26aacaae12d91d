// Walking and comparing map contents across engines.
#include "tools/bpfvm/map_snapshot.hpp"

#include <algorithm>

#include "tools/common/hex_text.hpp"

namespace bpfvm::tools {

namespace {
// BPF_MAP_TYPE_* numbers (uapi linux/bpf.h), kept here so the CLI needs no kernel header for them.
constexpr std::uint32_t kHash = 1, kArray = 2, kPercpuHash = 5, kPercpuArray = 6, kLruHash = 9,
                        kLruPercpuHash = 10;
}  // namespace

bool comparable_map_type(std::uint32_t type) {
  return type == kHash || type == kArray || type == kPercpuHash || type == kPercpuArray || type == kLruHash ||
         type == kLruPercpuHash;
}

bool per_cpu_map_type(std::uint32_t type) {
  return type == kPercpuHash || type == kPercpuArray || type == kLruPercpuHash;
}

std::vector<std::uint8_t> fold_per_cpu(std::span<const std::uint8_t> value, std::uint32_t value_size) {
  const std::size_t slot = (value_size + 7u) & ~std::size_t{7};
  std::vector<std::vector<std::uint8_t>> slots;
  for (std::size_t at = 0; slot && at + slot <= value.size(); at += slot) {
    std::vector<std::uint8_t> s(value.begin() + static_cast<std::ptrdiff_t>(at),
                                value.begin() + static_cast<std::ptrdiff_t>(at + value_size));
    if (std::any_of(s.begin(), s.end(), [](std::uint8_t b) { return b != 0; })) slots.push_back(std::move(s));
  }
  std::sort(slots.begin(), slots.end());
  std::vector<std::uint8_t> out;
  for (const auto& s : slots) out.insert(out.end(), s.begin(), s.end());
  return out;
}

std::vector<MapSnapshot> snapshot_maps(const Object& object) {
  std::vector<MapSnapshot> out;
  for (const auto& map : object.maps()) {
    MapSnapshot snap{map.name(), map.type(), comparable_map_type(map.type()), {}};
    if (snap.compared && map.key_size() > 0) {
      std::vector<std::uint8_t> key, next(map.key_size());
      for (std::uint32_t guard = 0; guard <= map.max_entries(); ++guard) {
        if (map.next_key(key, next) != 0) break;
        key = next;
        std::vector<std::uint8_t> value(map.host_value_size());
        if (map.lookup(key, value) != 0) continue;
        snap.entries[key] = per_cpu_map_type(map.type()) ? fold_per_cpu(value, map.value_size()) : value;
      }
    }
    out.push_back(std::move(snap));
  }
  return out;
}

std::vector<std::string> compare_maps(const std::vector<MapSnapshot>& a, const std::string& a_name,
                                      const std::vector<MapSnapshot>& b, const std::string& b_name) {
  std::vector<std::string> out;
  if (a.size() != b.size()) {
    out.push_back(a_name + " has " + std::to_string(a.size()) + " maps, " + b_name + " " + std::to_string(b.size()));
    return out;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].compared || !b[i].compared) continue;
    // Arrays list every index; an all-zero value is the same as no entry written.
    auto nonzero = [](const MapSnapshot& m) {
      std::map<std::vector<std::uint8_t>, std::vector<std::uint8_t>> e;
      for (const auto& [k, v] : m.entries)
        if (std::any_of(v.begin(), v.end(), [](std::uint8_t x) { return x != 0; })) e.emplace(k, v);
      return e;
    };
    const auto ea = nonzero(a[i]), eb = nonzero(b[i]);
    if (ea == eb) continue;
    for (const auto& [k, v] : ea) {
      const auto it = eb.find(k);
      if (it == eb.end()) {
        out.push_back("map " + a[i].name + " key " + hex_bytes(k) + ": " + a_name + " " + hex_bytes(v) + ", " + b_name +
                      " has no such entry");
      } else if (it->second != v) {
        out.push_back("map " + a[i].name + " key " + hex_bytes(k) + ": " + a_name + " " + hex_bytes(v) + ", " +
                      b_name + " " + hex_bytes(it->second));
      }
      if (out.size() >= 8) return out;
    }
    for (const auto& [k, v] : eb)
      if (!ea.contains(k)) {
        out.push_back("map " + a[i].name + " key " + hex_bytes(k) + ": " + b_name + " " + hex_bytes(v) + ", " + a_name +
                      " has no such entry");
        if (out.size() >= 8) return out;
      }
  }
  return out;
}

}  // namespace bpfvm::tools
