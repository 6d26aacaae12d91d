// DevmapHashMap: BPF_MAP_TYPE_DEVMAP_HASH — devmap entries keyed by any u32 (kernel/bpf/devmap.c).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "maps/redirect_array_map.hpp"

namespace bpfvm::maps {

/// Entries are {ifindex, program id} as in DEVMAP (check_devmap_value). Iteration order is the
/// kernel's: buckets key & (roundup_pow_of_two(max_entries) - 1) in order, newest entry first in a
/// bucket (a replaced entry moves to the front). Entry memory is recycled for later inserts and freed
/// with the map, so a value pointer a program holds always points into the map.
class DevmapHashMap final : public Map {
 public:
  DevmapHashMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  void set_device_check(DeviceCheck check) { device_ok_ = std::move(check); }

  void* lookup(const void* key) override;
  int erase(const void* key) override;

 protected:
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;
  bool owns_value(std::uintptr_t addr, std::size_t size_bytes) const override;

 private:
  struct Node {
    std::uint32_t value[2] = {0, 0};
  };
  std::uint32_t bucket_of(std::uint32_t key) const { return key & bucket_mask_; }
  void unlink(std::uint32_t key);  // from its bucket chain; the caller holds mu_

  std::uint32_t bucket_mask_;
  mutable std::mutex mu_;
  std::unordered_map<std::uint32_t, Node*> live_;                  // key -> its node
  std::map<std::uint32_t, std::vector<std::uint32_t>> chains_;  // bucket -> keys, newest last
  std::vector<std::unique_ptr<Node>> nodes_;                       // every node ever made
  std::vector<Node*> free_;
  DeviceCheck device_ok_ = host_has_ifindex;
};

}  // namespace bpfvm::maps
