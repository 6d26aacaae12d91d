// Map: the host's handle on one of an object's maps; bpf() map-command semantics and errnos.
#include <cerrno>

#include "api/impl.hpp"

namespace bpfvm {

namespace {
maps::Map& m(void* impl) { return *static_cast<maps::Map*>(impl); }
bool fits(std::size_t have, std::size_t need) { return have >= need; }
// bpf(2) refuses a key for maps without keys (queue, stack, ring buffer, bloom filter): -EINVAL.
bool key_ok(std::span<const std::uint8_t> key, std::uint32_t key_size) {
  return key_size == 0 ? key.empty() : key.size() >= key_size;
}
}  // namespace

const std::string& Map::name() const { return m(impl_).spec().name; }
std::uint32_t Map::type() const { return static_cast<std::uint32_t>(m(impl_).spec().type); }
std::uint32_t Map::key_size() const { return m(impl_).spec().key_size; }
std::uint32_t Map::value_size() const { return m(impl_).spec().value_size; }
std::uint32_t Map::max_entries() const { return m(impl_).spec().max_entries; }
std::uint32_t Map::flags() const { return m(impl_).spec().map_flags; }
std::size_t Map::host_value_size() const { return m(impl_).host_value_size(); }

// Spans shorter than the map's sizes are refused with -EINVAL rather than read past.
int Map::lookup(std::span<const std::uint8_t> key, std::span<std::uint8_t> value_out) const {
  if (!key_ok(key, key_size()) || !fits(value_out.size(), host_value_size())) return -EINVAL;
  return m(impl_).lookup_copy(key.data(), value_out.data());
}

int Map::update(std::span<const std::uint8_t> key, std::span<const std::uint8_t> value, std::uint64_t flags) {
  if (!key_ok(key, key_size()) || !fits(value.size(), host_value_size())) return -EINVAL;
  return m(impl_).host_update(key.data(), value.data(), flags);
}

int Map::erase(std::span<const std::uint8_t> key) {
  if (!key_ok(key, key_size())) return -EINVAL;
  return m(impl_).host_erase(key.data());
}

int Map::next_key(std::span<const std::uint8_t> key, std::span<std::uint8_t> next_out) const {
  if ((!key.empty() && !key_ok(key, key_size())) || !fits(next_out.size(), key_size())) return -EINVAL;
  return m(impl_).get_next_key(key.empty() ? nullptr : key.data(), next_out.data());
}

int Map::push(std::span<const std::uint8_t> value, std::uint64_t flags) {
  if (!fits(value.size(), value_size())) return -EINVAL;
  return m(impl_).host_update(nullptr, value.data(), flags);
}

int Map::pop(std::span<std::uint8_t> value_out) {
  if (!fits(value_out.size(), value_size())) return -EINVAL;
  return m(impl_).lookup_and_delete(nullptr, value_out.data());
}

}  // namespace bpfvm
