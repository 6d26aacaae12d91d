// MapState: reading and restoring map contents through the public Map calls.
#include "fuzz/map_state.hpp"

#include <cstring>
#include <map>

namespace bpfvm::fuzz {

namespace {

// BPF_MAP_TYPE_* numbers (include/uapi/linux/bpf.h).
enum : std::uint32_t {
  kHash = 1, kArray = 2, kPercpuHash = 5, kPercpuArray = 6, kLruHash = 9, kLruPercpuHash = 10, kLpmTrie = 11,
};

using Entries = std::map<std::vector<std::uint8_t>, std::vector<std::uint8_t>>;

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < bytes.size() && i < 32; ++i) {
    s += kDigits[bytes[i] >> 4];
    s += kDigits[bytes[i] & 15];
  }
  if (bytes.size() > 32) s += "..";
  return s;
}

// `array_stride` 0: key‖value records; else an array's values in place (Map::array_values), keys
// implicit.
Entries entries_of(const MapSnapshot& s, std::size_t key_bytes, std::size_t value_bytes, std::size_t array_stride) {
  Entries out;
  if (array_stride != 0) {
    for (std::uint32_t k = 0; std::size_t{k} * array_stride + value_bytes <= s.records.size(); ++k) {
      const auto* p = s.records.data() + std::size_t{k} * array_stride;
      const auto* key = reinterpret_cast<const std::uint8_t*>(&k);
      out.emplace(std::vector<std::uint8_t>(key, key + sizeof k), std::vector<std::uint8_t>(p, p + value_bytes));
    }
    return out;
  }
  const std::size_t record = key_bytes + value_bytes;
  for (std::size_t at = 0; at + record <= s.records.size(); at += record) {
    const auto* p = s.records.data() + at;
    out.emplace(std::vector<std::uint8_t>(p, p + key_bytes), std::vector<std::uint8_t>(p + key_bytes, p + record));
  }
  return out;
}

}  // namespace

MapState::MapState(const Object& object, std::size_t max_entries) {
  if (max_entries == 0) return;
  for (auto& map : object.maps()) {
    const auto type = map.type();
    const bool array = (type == kArray || type == kPercpuArray) && map.key_size() == 4;
    const bool hash = type == kHash || type == kPercpuHash || type == kLruHash || type == kLruPercpuHash || type == kLpmTrie;
    if (!array && !hash) continue;
    if (array && map.max_entries() > max_entries) continue;
    maps_.push_back(Tracked{map, array, map.key_size(), map.host_value_size(), array ? map.array_stride_bytes() : 0});
  }
  read(initial_);
}

void MapState::read(MapSnapshots& out) const {
  out.resize(maps_.size());
  for (std::size_t i = 0; i < maps_.size(); ++i) {
    const auto& t = maps_[i];
    auto& rec = out[i].records;
    const std::size_t record = t.key_bytes + t.value_bytes;
    if (t.array) {
      // The values in place (Map::array_values), one copy: index k's value at k * stride. A lookup
      // per index was three quarters of a fuzz run on a 256-entry array (issue #19).
      const auto values = t.map.array_values();
      rec.assign(values.begin(), values.end());
      continue;
    }
    rec.clear();
    std::vector<std::uint8_t> key, next(t.key_bytes);
    // next_key from the last key walks every entry; the bound guards against a map that keeps changing.
    for (std::size_t n = 0; n <= t.map.max_entries(); ++n) {
      if (t.map.next_key(key, next) != 0) break;
      const std::size_t at = rec.size();
      rec.resize(at + record);
      std::memcpy(rec.data() + at, next.data(), t.key_bytes);
      if (t.map.lookup(next, std::span<std::uint8_t>(rec.data() + at + t.key_bytes, t.value_bytes)) != 0)
        rec.resize(at);
      key = next;
    }
  }
}

void MapState::restore(const MapSnapshots& current) {
  for (std::size_t i = 0; i < maps_.size(); ++i) {
    if (current[i] == initial_[i]) continue;
    auto& t = maps_[i];
    if (t.array) {
      // Only the indexes the run changed are written back: memcmp finds the first differing byte
      // in bulk, and the scan resumes after that index.
      const auto& now = current[i].records;
      const auto& then = initial_[i].records;
      const std::size_t stride = t.array_stride;
      const std::size_t size = std::min(now.size(), then.size());
      for (std::size_t at = 0; at < size;) {
        if (std::memcmp(now.data() + at, then.data() + at, size - at) == 0) break;
        while (now[at] == then[at]) ++at;
        const auto index = static_cast<std::uint32_t>(at / stride);
        (void)t.map.update(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&index), 4),
                           std::span<const std::uint8_t>(then.data() + std::size_t{index} * stride, t.value_bytes));
        at = (std::size_t{index} + 1) * stride;
      }
      continue;
    }
    const auto now = entries_of(current[i], t.key_bytes, t.value_bytes, 0);
    const auto then = entries_of(initial_[i], t.key_bytes, t.value_bytes, 0);
    for (const auto& [key, value] : now)
      if (!then.contains(key)) (void)t.map.erase(key);
    for (const auto& [key, value] : then) {
      auto it = now.find(key);
      if (it == now.end() || it->second != value) (void)t.map.update(key, value);
    }
  }
}

bool MapState::same_map(std::size_t i, const MapSnapshot& a, const MapSnapshot& b) const {
  if (a == b) return true;
  if (maps_[i].array) return false;
  return entries_of(a, maps_[i].key_bytes, maps_[i].value_bytes, 0) == entries_of(b, maps_[i].key_bytes, maps_[i].value_bytes, 0);
}

bool MapState::same(const MapSnapshots& a, const MapSnapshots& b) const {
  for (std::size_t i = 0; i < maps_.size() && i < a.size() && i < b.size(); ++i)
    if (!same_map(i, a[i], b[i])) return false;
  return true;
}

std::string MapState::describe_difference(const MapSnapshots& a, const MapSnapshots& b, const char* a_name,
                                          const char* b_name) const {
  for (std::size_t i = 0; i < maps_.size() && i < a.size() && i < b.size(); ++i) {
    if (same_map(i, a[i], b[i])) continue;
    const auto& t = maps_[i];
    const auto ea = entries_of(a[i], t.key_bytes, t.value_bytes, t.array_stride),
               eb = entries_of(b[i], t.key_bytes, t.value_bytes, t.array_stride);
    const std::string where = "map " + t.map.name() + ": key ";
    for (const auto& [key, value] : ea) {
      auto it = eb.find(key);
      if (it == eb.end()) return where + hex(key) + " only after the " + a_name + " run";
      if (it->second != value)
        return where + hex(key) + ": " + a_name + " " + hex(value) + ", " + b_name + " " + hex(it->second);
    }
    for (const auto& [key, value] : eb)
      if (!ea.contains(key)) return where + hex(key) + " only after the " + b_name + " run";
  }
  return {};
}

std::vector<std::string> MapState::touched(const MapSnapshots& state) const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < maps_.size() && i < state.size(); ++i)
    if (!same_map(i, state[i], initial_[i])) out.push_back(maps_[i].map.name());
  return out;
}

}  // namespace bpfvm::fuzz
