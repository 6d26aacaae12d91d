// QueueStackMap: push/pop/peek with the errnos of kernel/bpf/queue_stack_maps.c.
#include "maps/queue_stack_map.hpp"

#include <cerrno>
#include <cstring>

namespace bpfvm::maps {

QueueStackMap::QueueStackMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)),
      stack_(spec.type == MapType::Stack),
      size_(spec.max_entries + 1),
      storage_(allocate_zeroed(std::size_t{spec.max_entries + 1} * spec.value_size)) {}

// queue_stack_map_push_elem: NOEXIST or unknown flags are -EINVAL; full is -E2BIG unless BPF_EXIST.
int QueueStackMap::push(const void* value, std::uint64_t flags) {
  if ((flags & kBpfNoexist) || flags > kBpfExist) return -EINVAL;
  std::lock_guard lock(mu_);
  const bool full = (head_ + 1) % size_ == tail_;
  if (full) {
    if (!(flags & kBpfExist)) return -E2BIG;
    tail_ = (tail_ + 1) % size_;  // drop the oldest
  }
  std::memcpy(slot(head_), value, spec_.value_size);
  head_ = (head_ + 1) % size_;
  return 0;
}

int QueueStackMap::take(void* value, bool remove) {
  std::lock_guard lock(mu_);
  if (head_ == tail_) return -ENOENT;
  if (stack_) {
    const std::uint32_t top = head_ == 0 ? size_ - 1 : head_ - 1;
    std::memcpy(value, slot(top), spec_.value_size);
    if (remove) head_ = top;
  } else {
    std::memcpy(value, slot(tail_), spec_.value_size);
    if (remove) tail_ = (tail_ + 1) % size_;
  }
  return 0;
}

int QueueStackMap::pop(void* value) { return take(value, true); }
int QueueStackMap::peek(void* value) { return take(value, false); }

// Programs use push/pop/peek; the element helpers are -EINVAL (queue_stack_map_update_elem etc.).
int QueueStackMap::update(const void*, const void*, std::uint64_t) { return -EINVAL; }
int QueueStackMap::erase(const void*) { return -EINVAL; }

// syscall.c routes BPF_MAP_LOOKUP_ELEM to peek and BPF_MAP_UPDATE_ELEM to push for these maps.
int QueueStackMap::copy_value(const void*, void* out, std::uint64_t) { return peek(out); }
int QueueStackMap::update_from_host(const void*, const void* value, std::uint64_t flags) {
  return push(value, flags);
}

}  // namespace bpfvm::maps
