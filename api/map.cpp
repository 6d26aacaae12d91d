// Map: the host's handle on one of an object's maps; bpf() map-command semantics and errnos.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>

#include "api/impl.hpp"
#include "maps/array_map.hpp"
#include "maps/cgroup_array_map.hpp"
#include "maps/redirect_array_map.hpp"
#include "maps/ringbuf_map.hpp"
#include "maps/user_ringbuf_map.hpp"

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

namespace {
// ARRAY and PERCPU_ARRAY only: array of maps and prog arrays hold pointers, not values.
const maps::ArrayMap* plain_array(void* impl) {
  const auto type = m(impl).spec().type;
  if (type != maps::MapType::Array && type != maps::MapType::PercpuArray) return nullptr;
  return dynamic_cast<const maps::ArrayMap*>(&m(impl));
}
}  // namespace

std::span<const std::uint8_t> Map::array_values() const {
  const auto* a = plain_array(impl_);
  if (a == nullptr) return {};
  const auto v = a->values();
  return {reinterpret_cast<const std::uint8_t*>(v.data()), v.size()};
}

std::size_t Map::array_stride_bytes() const {
  const auto* a = plain_array(impl_);
  return a == nullptr ? 0 : a->index_stride_bytes();
}

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

int Map::set_cgroup(std::uint32_t index, std::uint64_t id, bool holds_current_task) {
  if (m(impl_).type() != maps::MapType::CgroupArray) return -EINVAL;
  return static_cast<maps::CgroupArrayMap&>(m(impl_)).set_cgroup(index, maps::CgroupRef{id, holds_current_task});
}

int Map::set_xsk(std::uint32_t index, std::uint32_t queue_id) {
  if (m(impl_).type() != maps::MapType::Xskmap) return -EINVAL;
  return static_cast<maps::RedirectArrayMap&>(m(impl_)).set_socket(index, queue_id);
}

int Map::user_ringbuf_reserve(std::uint32_t size_bytes, std::span<std::uint8_t>& sample_out) {
  sample_out = {};
  if (m(impl_).type() != maps::MapType::UserRingbuf) return -EINVAL;
  std::byte* sample = nullptr;
  const int rc = static_cast<maps::UserRingbufMap&>(m(impl_)).reserve(size_bytes, &sample);
  if (rc == 0) sample_out = {reinterpret_cast<std::uint8_t*>(sample), size_bytes};
  return rc;
}

int Map::user_ringbuf_submit(std::span<std::uint8_t> sample) {
  if (m(impl_).type() != maps::MapType::UserRingbuf) return -EINVAL;
  return static_cast<maps::UserRingbufMap&>(m(impl_)).submit(sample.data());
}

int Map::user_ringbuf_discard(std::span<std::uint8_t> sample) {
  if (m(impl_).type() != maps::MapType::UserRingbuf) return -EINVAL;
  return static_cast<maps::UserRingbufMap&>(m(impl_)).discard(sample.data());
}

int Map::ringbuf_consume(const std::function<int(std::span<const std::uint8_t> record)>& fn) {
  if (m(impl_).type() != maps::MapType::Ringbuf) return -EINVAL;
  const std::size_t n = static_cast<maps::RingbufMap&>(m(impl_)).consume([&fn](std::span<const std::byte> r) {
    return fn({reinterpret_cast<const std::uint8_t*>(r.data()), r.size()});
  });
  return static_cast<int>(std::min<std::size_t>(n, INT_MAX));
}

int Map::lookup_and_delete(std::span<const std::uint8_t> key, std::span<std::uint8_t> value_out) {
  if (key_size() == 0 || !key_ok(key, key_size()) || !fits(value_out.size(), host_value_size())) return -EINVAL;
  return m(impl_).lookup_and_delete(key.data(), value_out.data());
}

int Map::push(std::span<const std::uint8_t> value, std::uint64_t flags) {
  if (!fits(value.size(), value_size())) return -EINVAL;
  return m(impl_).host_update(nullptr, value.data(), flags);
}

int Map::pop(std::span<std::uint8_t> value_out) {
  if (!fits(value_out.size(), value_size())) return -EINVAL;
  return m(impl_).lookup_and_delete(nullptr, value_out.data());
}

namespace {
// The kernel's errno names for the errnos maps return (reason of an Errc::Errno error).
const char* errno_name(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case E2BIG: return "E2BIG";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case ENOSPC: return "ENOSPC";
    case EFAULT: return "EFAULT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case 524: return "ENOTSUPP";
    default: return "errno";
  }
}
}  // namespace

Error Map::errno_error(int rc) {
  Error e{Errc::Errno, kNoPc, errno_name(-rc)};
  e.sys_errno = -rc;
  return e;
}

std::uint32_t Map::batch_cursor_size() const { return m(impl_).batch_cursor_size(); }

// Buffers are checked against count: the room must hold count keys and count values.
int Map::lookup_batch(const void* in_batch, void* out_batch, std::span<std::uint8_t> keys,
                      std::span<std::uint8_t> values, std::uint32_t& count, bool and_delete) {
  if (out_batch == nullptr || keys.size() < std::size_t{count} * key_size() ||
      values.size() < std::size_t{count} * host_value_size())
    return -EINVAL;
  return m(impl_).lookup_batch(in_batch, out_batch, keys.data(), values.data(), count, 0, and_delete);
}

int Map::update_batch(std::span<const std::uint8_t> keys, std::span<const std::uint8_t> values,
                      std::uint32_t& count, std::uint64_t elem_flags) {
  if (keys.size() < std::size_t{count} * key_size() || values.size() < std::size_t{count} * host_value_size())
    return -EINVAL;
  return m(impl_).update_batch(keys.data(), values.data(), count, elem_flags);
}

int Map::delete_batch(std::span<const std::uint8_t> keys, std::uint32_t& count) {
  if (keys.size() < std::size_t{count} * key_size()) return -EINVAL;
  return m(impl_).delete_batch(keys.data(), count);
}

Result<std::size_t> Map::lookup_batch(MapBatchCursor& cursor, std::span<std::uint8_t> keys,
                                      std::span<std::uint8_t> values, std::size_t count, bool and_delete) {
  if (cursor.done_) return std::size_t{0};
  cursor.in_.resize(batch_cursor_size());
  cursor.out_.resize(batch_cursor_size());
  auto n = static_cast<std::uint32_t>(std::min<std::size_t>(count, UINT32_MAX));
  const int rc = lookup_batch(cursor.started_ ? cursor.in_.data() : nullptr, cursor.out_.data(), keys, values, n,
                              and_delete);
  if (rc != 0 && rc != -ENOENT) return errno_error(rc);
  cursor.started_ = true;
  cursor.in_.swap(cursor.out_);
  if (rc == -ENOENT) cursor.done_ = true;  // the walk reached the end (n may still be > 0)
  return std::size_t{n};
}

}  // namespace bpfvm
