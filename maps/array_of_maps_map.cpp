// ArrayOfMapsMap: fd-array semantics (arraymap.c) with map_in_map.c's inner map checks.
#include "maps/array_of_maps_map.hpp"

#include <cerrno>
#include <cstring>

#include "maps/prog_array_map.hpp"

namespace bpfvm::maps {

ArrayOfMapsMap::ArrayOfMapsMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)), slots_(std::make_unique<std::atomic<Map*>[]>(spec.max_entries)) {}

int ArrayOfMapsMap::set_inner(std::uint32_t index, Map* inner) {
  if (index >= spec_.max_entries) return -E2BIG;
  if (inner && spec_.inner) {
    if (int err = check_inner_map(*spec_.inner, *inner)) return err;
  }
  slots_[index].store(inner, std::memory_order_release);
  return 0;
}

void* ArrayOfMapsMap::lookup(const void* key) {
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= spec_.max_entries) return nullptr;
  return slots_[index].load(std::memory_order_acquire);
}

int ArrayOfMapsMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  if (flags != kBpfAny) return -EINVAL;
  std::uint32_t index, fd;
  std::memcpy(&index, key, 4);
  std::memcpy(&fd, value, 4);
  if (index >= spec_.max_entries) return -E2BIG;
  Map* inner = resolver_ ? resolver_(fd) : nullptr;
  if (!inner) return -EBADF;
  return set_inner(index, inner);
}

int ArrayOfMapsMap::erase(const void* key) {
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= spec_.max_entries) return -E2BIG;
  return slots_[index].exchange(nullptr, std::memory_order_acq_rel) ? 0 : -ENOENT;
}

int ArrayOfMapsMap::copy_value(const void* key, void* out, std::uint64_t) {
  Map* inner = static_cast<Map*>(lookup(key));
  if (!inner) return -ENOENT;
  const std::uint32_t id = inner->id();
  std::memcpy(out, &id, 4);
  return 0;
}

int ArrayOfMapsMap::next_key(const void* key, void* next) { return array_next_key(spec_.max_entries, key, next); }

}  // namespace bpfvm::maps
