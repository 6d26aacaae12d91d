// ArrayMap: BPF_MAP_TYPE_ARRAY, following kernel/bpf/arraymap.c for every errno.
#include "maps/array_map.hpp"

#include <cerrno>
#include <cstring>

#include "maps/value_copy.hpp"

namespace bpfvm::maps {

ArrayMap::ArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain, unsigned slots)
    : Map(spec, std::move(domain)), slots_(slots), stride_(percpu_value_stride(spec.value_size)) {
  const std::size_t bytes = std::size_t{spec.max_entries} * slots_ * stride_;
  storage_ = allocate_zeroed(bytes);  // zeroed, as the kernel's
  base_ = storage_.get();
}

std::optional<vm::DirectArray> ArrayMap::direct_array() const {
  if (slots_ != 1) return std::nullopt;  // per-CPU: the slot depends on the running thread
  return vm::DirectArray{reinterpret_cast<std::uintptr_t>(base_), stride_, spec_.max_entries};
}

std::uint32_t ArrayMap::key_index(const void* key) {
  std::uint32_t index;
  std::memcpy(&index, key, sizeof index);
  return index;
}

void* ArrayMap::lookup(const void* key) {
  const std::uint32_t index = key_index(key);
  if (index >= spec_.max_entries) return nullptr;
  return slot(index, 0);
}

// arraymap.c array_map_update_elem: flag range, then bounds (-E2BIG), then NOEXIST (-EEXIST).
int ArrayMap::check_update(std::uint32_t index, std::uint64_t flags) const {
  if ((flags & ~kBpfFLock) > kBpfExist) return -EINVAL;
  if (index >= spec_.max_entries) return -E2BIG;
  if (flags & kBpfNoexist) return -EEXIST;
  return check_lock_flag(flags);
}

int ArrayMap::update(const void* key, const void* value, std::uint64_t flags) {
  const std::uint32_t index = key_index(key);
  if (int err = check_update(index, flags)) return err;
  std::byte* v = slot(index, 0);
  if (flags & kBpfFLock) {
    ValueLock lock(v, spec_.spin_lock_off);
    store_value_skip_lock(v, value, spec_.value_size, spec_.spin_lock_off);
  } else {
    store_value_skip_lock(v, value, spec_.value_size, spec_.spin_lock_off);
    free_value_timer(v);  // arraymap.c: an update without BPF_F_LOCK frees the value's timer
  }
  return 0;
}

int ArrayMap::erase(const void*) { return -EINVAL; }

bool ArrayMap::key_of_value(const void* value, void* key) const {
  const auto at = static_cast<const std::byte*>(value);
  if (at < base_ || at >= base_ + std::size_t{spec_.max_entries} * index_stride_bytes()) return false;
  const auto index = static_cast<std::uint32_t>(static_cast<std::size_t>(at - base_) / index_stride_bytes());
  std::memcpy(key, &index, sizeof index);
  return true;
}

// arraymap.c array_map_get_next_key: no key or out of range -> 0; the last index -> -ENOENT.
int ArrayMap::next_key(const void* key, void* next) {
  std::uint32_t index = key ? key_index(key) : spec_.max_entries;
  std::uint32_t n;
  if (index >= spec_.max_entries) {
    n = 0;
  } else if (index == spec_.max_entries - 1) {
    return -ENOENT;
  } else {
    n = index + 1;
  }
  std::memcpy(next, &n, sizeof n);
  return 0;
}

bool ArrayMap::owns_value(std::uintptr_t addr, std::size_t size_bytes) const {
  const auto begin = reinterpret_cast<std::uintptr_t>(base_);
  const std::size_t total = std::size_t{spec_.max_entries} * slots_ * stride_;
  if (addr < begin || addr - begin >= total) return false;
  const std::size_t within = (addr - begin) % stride_;
  return size_bytes <= spec_.value_size && within <= spec_.value_size - size_bytes;
}

}  // namespace bpfvm::maps
