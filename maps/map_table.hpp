// MapTable: the maps of one loaded object / VM instance, by index and by name, sharing one RunDomain.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "maps/map.hpp"

namespace bpfvm::maps {

/// Owns its maps until destruction (which is VM teardown: all value pointers die with it). Map ids
/// are index + 1. Map-in-map maps created here resolve host update values as table indexes.
/// Not thread-safe for add/create; lookups (get/find) may race only with other lookups.
class MapTable {
 public:
  /// nr_cpus = 0: std::thread::hardware_concurrency() CPU slots.
  explicit MapTable(unsigned nr_cpus = 0);
  explicit MapTable(std::shared_ptr<RunDomain> domain);

  /// Creates a map in this table's domain; returns its index.
  Result<std::uint32_t> create(const MapSpec& spec);
  /// Adopts a map created elsewhere (it should use domain()); returns its index.
  std::uint32_t add(std::unique_ptr<Map> map);

  Map* get(std::uint32_t index) const { return index < maps_.size() ? maps_[index].get() : nullptr; }
  Map* by_id(std::uint32_t id) const { return id ? get(id - 1) : nullptr; }
  /// First map with this name, or nullptr.
  Map* find(std::string_view name) const;
  std::size_t size() const { return maps_.size(); }
  const std::shared_ptr<RunDomain>& domain() const { return domain_; }

  /// Every map as a vm::MemoryOwner, for RunContext::owners in checked mode.
  std::vector<const vm::MemoryOwner*> owners() const;

 private:
  std::shared_ptr<RunDomain> domain_;
  std::vector<std::unique_ptr<Map>> maps_;
};

}  // namespace bpfvm::maps
