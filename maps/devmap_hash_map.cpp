// DevmapHashMap: __dev_map_hash_update_elem, dev_map_hash_delete_elem and dev_map_hash_get_next_key.
#include "maps/devmap_hash_map.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

namespace bpfvm::maps {

DevmapHashMap::DevmapHashMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)),
      bucket_mask_(static_cast<std::uint32_t>(std::bit_ceil(std::uint64_t{spec.max_entries}) - 1)) {
  spec_.map_flags |= kBpfFRdonlyProg;  // devmap.c: programs read entries but never write them
}

void* DevmapHashMap::lookup(const void* key) {
  std::uint32_t k;
  std::memcpy(&k, key, 4);
  std::lock_guard lock(mu_);
  auto it = live_.find(k);
  return it == live_.end() ? nullptr : it->second->value;
}

void DevmapHashMap::unlink(std::uint32_t key) {
  auto chain = chains_.find(bucket_of(key));
  auto& keys = chain->second;
  keys.erase(std::find(keys.begin(), keys.end(), key));
  if (keys.empty()) chains_.erase(chain);
}

int DevmapHashMap::erase(const void* key) {
  std::uint32_t k;
  std::memcpy(&k, key, 4);
  std::lock_guard lock(mu_);
  auto it = live_.find(k);
  if (it == live_.end()) return -ENOENT;
  free_.push_back(it->second);
  live_.erase(it);
  unlink(k);
  return 0;
}

int DevmapHashMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  std::uint32_t k, ifindex;
  std::memcpy(&k, key, 4);
  std::memcpy(&ifindex, value, 4);
  if (flags > kBpfExist || ifindex == 0) return -EINVAL;
  std::lock_guard lock(mu_);
  auto it = live_.find(k);
  const bool present = it != live_.end();
  if (present && flags == kBpfNoexist) return -EEXIST;  // BPF_EXIST on a missing key inserts
  std::uint32_t stored[2];
  if (int err = check_devmap_value(spec_, device_ok_, value, stored)) return err;
  if (!present && live_.size() >= spec_.max_entries) return -E2BIG;
  Node* node;
  if (present) {
    node = it->second;  // the kernel swaps in a new node; readers here see the new value in place
    unlink(k);
  } else if (!free_.empty()) {
    node = free_.back();
    free_.pop_back();
  } else {
    nodes_.push_back(std::make_unique<Node>());
    node = nodes_.back().get();
  }
  std::memcpy(node->value, stored, sizeof stored);
  live_[k] = node;
  chains_[bucket_of(k)].push_back(k);  // newest last = the kernel's hlist head
  return 0;
}

// Next key after `key` in bucket order; a key not in the map (or none) restarts at the first entry.
int DevmapHashMap::next_key(const void* key, void* next) {
  std::lock_guard lock(mu_);
  std::uint32_t from_bucket = 0;
  if (key != nullptr) {
    std::uint32_t k;
    std::memcpy(&k, key, 4);
    if (live_.count(k)) {
      const auto& keys = chains_.at(bucket_of(k));
      auto pos = std::find(keys.begin(), keys.end(), k);
      if (pos != keys.begin()) {
        std::memcpy(next, &*(pos - 1), 4);
        return 0;
      }
      if (bucket_of(k) == bucket_mask_) return -ENOENT;
      from_bucket = bucket_of(k) + 1;
    }
  }
  auto chain = chains_.lower_bound(from_bucket);
  if (chain == chains_.end()) return -ENOENT;
  std::memcpy(next, &chain->second.back(), 4);
  return 0;
}

bool DevmapHashMap::owns_value(std::uintptr_t addr, std::size_t size_bytes) const {
  std::lock_guard lock(mu_);
  for (const auto& n : nodes_) {
    const auto v = reinterpret_cast<std::uintptr_t>(n->value);
    if (addr >= v && addr + size_bytes <= v + spec_.value_size) return true;
  }
  return false;
}

}  // namespace bpfvm::maps
