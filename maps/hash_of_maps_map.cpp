// HashOfMapsMap: hashtab.c's htab_of_maps entry points over a HashMap of pointers.
#include "maps/hash_of_maps_map.hpp"

#include <cerrno>
#include <cstring>

namespace bpfvm::maps {

namespace {
MapSpec pointer_table_spec(const MapSpec& spec) {
  MapSpec s = spec;
  s.type = MapType::Hash;
  s.value_size = sizeof(Map*);
  s.map_flags &= ~kBpfFAccessMask;  // access rules are applied by the outer map
  s.inner.reset();
  return s;
}
}  // namespace

HashOfMapsMap::HashOfMapsMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, domain), table_(std::make_unique<HashMap>(pointer_table_spec(spec), domain)) {}

int HashOfMapsMap::set_inner(const void* key, Map* inner, std::uint64_t flags) {
  if (flags > kBpfExist) return -EINVAL;
  if (!inner) return -EBADF;
  if (spec_.inner) {
    if (int err = check_inner_map(*spec_.inner, *inner)) return err;
  }
  return table_->update(key, &inner, flags);
}

void* HashOfMapsMap::lookup(const void* key) {
  void* v = table_->lookup(key);
  if (!v) return nullptr;
  Map* inner;
  std::memcpy(&inner, v, sizeof inner);  // written once before the element was published
  return inner;
}

int HashOfMapsMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  std::uint32_t fd;
  std::memcpy(&fd, value, 4);
  Map* inner = resolver_ ? resolver_(fd) : nullptr;
  if (!inner) return -EBADF;
  return set_inner(key, inner, flags);
}

int HashOfMapsMap::erase(const void* key) { return table_->erase(key); }

int HashOfMapsMap::copy_value(const void* key, void* out, std::uint64_t) {
  Map* inner = nullptr;
  if (table_->lookup_copy(key, &inner) != 0) return -ENOENT;
  const std::uint32_t id = inner->id();
  std::memcpy(out, &id, 4);
  return 0;
}

int HashOfMapsMap::next_key(const void* key, void* next) { return table_->get_next_key(key, next); }

}  // namespace bpfvm::maps
