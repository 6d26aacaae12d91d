// MapTable: index/name registry of one VM's maps.
#include "maps/map_table.hpp"

#include "maps/array_of_maps_map.hpp"
#include "maps/hash_of_maps_map.hpp"

namespace bpfvm::maps {

MapTable::MapTable(unsigned nr_cpus) : domain_(std::make_shared<RunDomain>(nr_cpus)) {}
MapTable::MapTable(std::shared_ptr<RunDomain> domain) : domain_(std::move(domain)) {}

Result<std::uint32_t> MapTable::create(const MapSpec& spec) {
  auto map = create_map(spec, domain_);
  if (!map) return std::move(map).error();
  return add(std::move(map).value());
}

std::uint32_t MapTable::add(std::unique_ptr<Map> map) {
  const auto index = static_cast<std::uint32_t>(maps_.size());
  map->set_id(index + 1);
  auto resolve = [this](std::uint32_t fd) { return get(fd); };
  if (auto* a = dynamic_cast<ArrayOfMapsMap*>(map.get())) a->set_resolver(resolve);
  if (auto* h = dynamic_cast<HashOfMapsMap*>(map.get())) h->set_resolver(resolve);
  maps_.push_back(std::move(map));
  return index;
}

Map* MapTable::find(std::string_view name) const {
  for (const auto& m : maps_)
    if (m->name() == name) return m.get();
  return nullptr;
}

std::vector<const vm::MemoryOwner*> MapTable::owners() const {
  std::vector<const vm::MemoryOwner*> out;
  out.reserve(maps_.size());
  for (const auto& m : maps_) out.push_back(m.get());
  return out;
}

}  // namespace bpfvm::maps
