// Map base: the bpf() command layer (permissions, flag checks, batches) over each type's bodies.
#include "maps/map.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include "maps/value_copy.hpp"

namespace bpfvm::maps {

Map::Map(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : spec_(spec), domain_(std::move(domain)) {}

Map::~Map() {
  if (auto* owner = timer_owner_.load(std::memory_order_acquire)) owner->free_map_timers(*this);
}

bool Map::key_of_value(const void*, void*) const { return false; }

std::uint32_t Map::host_value_size() const {
  if (is_percpu(spec_.type)) return percpu_value_stride(spec_.value_size) * domain_->nr_cpus();
  return spec_.value_size;
}

void* Map::lookup(const void*) { return nullptr; }
void* Map::lookup_percpu(const void*, std::uint32_t) { return nullptr; }
int Map::update(const void*, const void*, std::uint64_t) { return -EINVAL; }
int Map::erase(const void*) { return -EINVAL; }
int Map::push(const void*, std::uint64_t) { return -EINVAL; }
int Map::pop(void*) { return -EINVAL; }
int Map::peek(void*) { return -EINVAL; }
int Map::next_key(const void*, void*) { return -EINVAL; }
int Map::copy_and_erase(const void*, void*, std::uint64_t) { return -kENOTSUPP; }
bool Map::owns_value(std::uintptr_t, std::size_t) const { return false; }

int Map::copy_value(const void* key, void* out, std::uint64_t flags) {
  void* v = lookup(key);
  if (!v) return -ENOENT;
  if (flags & kBpfFLock) {
    ValueLock lock(v, spec_.spin_lock_off);
    load_value_skip_lock(out, v, spec_.value_size, spec_.spin_lock_off);
  } else {
    load_value_skip_lock(out, v, spec_.value_size, spec_.spin_lock_off);
  }
  return 0;
}

int Map::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  return update(key, value, flags);
}

bool Map::owns(std::uintptr_t addr, std::size_t size_bytes, bool write) const {
  if (write && (spec_.map_flags & kBpfFRdonlyProg)) return false;
  return owns_value(addr, size_bytes);
}

// syscall.c map_lookup_elem: flags other than BPF_F_LOCK are -EINVAL; a write-only fd is -EPERM.
int Map::lookup_copy(const void* key, void* out, std::uint64_t flags) {
  if (flags & ~kBpfFLock) return -EINVAL;
  if (!sys_can_read()) return -EPERM;
  if (int err = check_lock_flag(flags)) return err;
  return copy_value(key, out, flags);
}

int Map::host_update(const void* key, const void* value, std::uint64_t flags) {
  if (!sys_can_write()) return -EPERM;
  if (int err = check_lock_flag(flags)) return err;
  return update_from_host(key, value, flags);
}

int Map::host_erase(const void* key) {
  if (!sys_can_write()) return -EPERM;
  return erase_from_host(key);
}

int Map::get_next_key(const void* key, void* next) {
  if (!sys_can_read()) return -EPERM;
  return next_key(key, next);
}

int Map::lookup_and_delete(const void* key, void* out, std::uint64_t flags) {
  if (flags & ~kBpfFLock) return -EINVAL;
  if (!sys_can_read() || !sys_can_write()) return -EPERM;
  const bool queue_like = spec_.type == MapType::Queue || spec_.type == MapType::Stack;
  if (flags && queue_like) return -EINVAL;
  if (int err = check_lock_flag(flags)) return err;
  if (queue_like) return pop(out);
  return copy_and_erase(key, out, flags);
}

// syscall.c map_freeze.
// A frozen map's fd has lost write permission, so a second freeze is -EPERM too (map_get_sys_perms).
int Map::freeze() {
  if (!sys_can_write()) return -EPERM;
  bool expected = false;
  if (!frozen_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return -EBUSY;
  return 0;
}

int Map::lookup_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                      std::uint32_t& count, std::uint64_t elem_flags, bool and_delete) {
  if (!(batch_ops() & (and_delete ? kBatchLookupAndDelete : kBatchLookup))) return -kENOTSUPP;
  if (!sys_can_read() || (and_delete && !sys_can_write())) return -EPERM;
  if (elem_flags & ~kBpfFLock) return -EINVAL;
  if (int err = check_lock_flag(elem_flags)) return err;
  if (count == 0) return 0;
  return batch_walk(in_batch, out_batch, keys, values, count, elem_flags, and_delete);
}

// kernel generic_map_lookup_batch: walk with get_next_key, copy each, cursor = last key copied.
int Map::batch_walk(const void* in_batch, void* out_batch, void* keys, void* values,
                    std::uint32_t& count, std::uint64_t elem_flags, bool) {
  const std::uint32_t max_count = count;
  const std::uint32_t ks = spec_.key_size;
  const std::uint32_t vs = host_value_size();
  std::vector<std::byte> prev(ks), key(ks);
  bool have_prev = in_batch != nullptr;
  if (have_prev) std::memcpy(prev.data(), in_batch, ks);
  std::uint32_t cp = 0;
  int err = 0;
  int retries = 3;
  while (cp < max_count) {
    err = next_key(have_prev ? prev.data() : nullptr, key.data());
    if (err) break;
    err = copy_value(key.data(), static_cast<std::byte*>(values) + std::size_t{vs} * cp, elem_flags);
    if (err == -ENOENT) {  // deleted between next_key and copy: retry from the same place
      if (retries-- > 0) continue;
      err = -EINTR;
      break;
    }
    if (err) break;
    std::memcpy(static_cast<std::byte*>(keys) + std::size_t{ks} * cp, key.data(), ks);
    prev.swap(key);
    have_prev = true;
    retries = 3;
    ++cp;
  }
  count = cp;
  if (cp && out_batch) std::memcpy(out_batch, prev.data(), ks);
  return err;
}

int Map::update_batch(const void* keys, const void* values, std::uint32_t& count,
                      std::uint64_t elem_flags) {
  if (!(batch_ops() & kBatchUpdate)) return -kENOTSUPP;
  if (!sys_can_write()) return -EPERM;
  if (elem_flags & ~kBpfFLock) return -EINVAL;
  if (int err = check_lock_flag(elem_flags)) return err;
  const std::uint32_t n = count;
  const std::uint32_t vs = host_value_size();
  int err = 0;
  std::uint32_t cp = 0;
  for (; cp < n; ++cp) {
    err = update_from_host(static_cast<const std::byte*>(keys) + std::size_t{spec_.key_size} * cp,
                           static_cast<const std::byte*>(values) + std::size_t{vs} * cp, elem_flags);
    if (err) break;
  }
  count = cp;
  return err;
}

int Map::delete_batch(const void* keys, std::uint32_t& count, std::uint64_t elem_flags) {
  if (!(batch_ops() & kBatchDelete)) return -kENOTSUPP;
  if (!sys_can_write()) return -EPERM;
  if (elem_flags & ~kBpfFLock) return -EINVAL;
  const std::uint32_t n = count;
  int err = 0;
  std::uint32_t cp = 0;
  for (; cp < n; ++cp) {
    err = erase_from_host(static_cast<const std::byte*>(keys) + std::size_t{spec_.key_size} * cp);
    if (err) break;
  }
  count = cp;
  return err;
}

}  // namespace bpfvm::maps
