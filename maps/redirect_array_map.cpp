// RedirectArrayMap: the update/delete/lookup errnos of devmap.c (DEVMAP), cpumap.c and xskmap.c.
#include "maps/redirect_array_map.hpp"

#include <net/if.h>

#include <cerrno>
#include <cstring>

#include "maps/prog_array_map.hpp"

namespace bpfvm::maps {
namespace {
constexpr std::uint32_t kCpumapMaxQsize = 16384;  // cpumap.c: larger qsize is -EOVERFLOW

// The program fd of an 8-byte devmap/cpumap value; 4-byte values have none (0: the kernel takes only fd > 0).
std::int32_t program_fd_of(const MapSpec& spec, const void* value) {
  std::int32_t fd = 0;
  if (spec.value_size >= 8) std::memcpy(&fd, static_cast<const std::byte*>(value) + 4, 4);
  return fd;
}
}  // namespace

bool host_has_ifindex(std::uint32_t ifindex) {
  char name[IF_NAMESIZE];
  return ifindex != 0 && ::if_indextoname(ifindex, name) != nullptr;
}

// devmap.c __dev_map_alloc_node: the device must exist; a program fd > 0 must name an XDP program
// attached as BPF_XDP_DEVMAP, which bpfvm does not run yet (the kernel's answer for a wrong fd).
int check_devmap_value(const MapSpec& spec, const DeviceCheck& device_ok, const void* value,
                       std::uint32_t stored[2]) {
  std::uint32_t ifindex = 0;
  std::memcpy(&ifindex, value, 4);
  if (!(device_ok ? device_ok(ifindex) : false)) return -EINVAL;
  if (program_fd_of(spec, value) > 0) return -EINVAL;
  stored[0] = ifindex;
  stored[1] = 0;  // program id: none
  return 0;
}

RedirectArrayMap::RedirectArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)), slots_(std::make_unique<Slot[]>(spec.max_entries)) {
  // devmap.c / xskmap.c: programs read entries but never write them.
  spec_.map_flags |= kBpfFRdonlyProg;
}

int RedirectArrayMap::set_slot(std::uint32_t index, const std::uint32_t value[2]) {
  Slot& s = slots_[index];
  if (value == nullptr) {
    s.present.store(false, std::memory_order_release);
    return 0;
  }
  s.value[0] = value[0];
  s.value[1] = value[1];
  s.present.store(true, std::memory_order_release);
  return 0;
}

int RedirectArrayMap::set_socket(std::uint32_t index, std::uint32_t queue_id) {
  if (index >= spec_.max_entries) return -E2BIG;
  const std::uint32_t stored[2] = {queue_id, 0};
  return set_slot(index, stored);
}

void* RedirectArrayMap::lookup(const void* key) {
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= spec_.max_entries || !slots_[index].present.load(std::memory_order_acquire)) return nullptr;
  return slots_[index].value;
}

// dev_map_delete_elem, cpu_map_delete_elem, xsk_map_delete_elem: an empty slot is not an error.
int RedirectArrayMap::erase(const void* key) {
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= spec_.max_entries) return -EINVAL;
  return set_slot(index, nullptr);
}

int RedirectArrayMap::copy_value(const void* key, void* out, std::uint64_t) {
  if (spec_.type == MapType::Xskmap) return -EOPNOTSUPP;  // xsk_map_lookup_elem_sys_only
  const void* v = lookup(key);
  if (v == nullptr) return -ENOENT;
  std::memcpy(out, v, spec_.value_size);
  return 0;
}

int RedirectArrayMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  std::uint32_t index, word0;
  std::memcpy(&index, key, 4);
  std::memcpy(&word0, value, 4);
  if (flags > kBpfExist) return -EINVAL;
  if (index >= spec_.max_entries) return -E2BIG;
  std::uint32_t stored[2] = {word0, 0};
  switch (spec_.type) {
    case MapType::Devmap: {  // __dev_map_update_elem: slots always exist, so NOEXIST never fits
      if (flags == kBpfNoexist) return -EEXIST;
      if (word0 == 0)  // clears the slot; a program with no device is refused
        return program_fd_of(spec_, value) > 0 ? -EINVAL : set_slot(index, nullptr);
      if (int err = check_devmap_value(spec_, device_ok_, value, stored)) return err;
      return set_slot(index, stored);
    }
    case MapType::Cpumap: {  // cpu_map_update_elem
      if (flags == kBpfNoexist) return -EEXIST;
      if (word0 > kCpumapMaxQsize) return -EOVERFLOW;
      if (index >= domain_->nr_cpus()) return -ENODEV;
      if (word0 == 0) return set_slot(index, nullptr);
      if (program_fd_of(spec_, value) > 0) return -ENOMEM;  // __cpu_map_entry_alloc fails: bpfvm runs no cpumap programs
      return set_slot(index, stored);
    }
    case MapType::Xskmap: {  // xsk_map_update_elem: resolve the socket, then the flag rules
      if (!xsk_resolver_) return -EBADF;
      std::uint32_t queue_id = 0;
      if (int err = xsk_resolver_(word0, queue_id)) return err;
      const bool present = slots_[index].present.load(std::memory_order_acquire);
      if (present && flags == kBpfNoexist) return -EEXIST;
      if (!present && flags == kBpfExist) return -ENOENT;
      stored[0] = queue_id;
      return set_slot(index, stored);
    }
    default:
      return -EINVAL;
  }
}

int RedirectArrayMap::next_key(const void* key, void* next) { return array_next_key(spec_.max_entries, key, next); }

bool RedirectArrayMap::owns_value(std::uintptr_t addr, std::size_t size_bytes) const {
  const auto first = reinterpret_cast<std::uintptr_t>(&slots_[0]);
  const auto end = first + sizeof(Slot) * spec_.max_entries;
  if (addr < first || addr + size_bytes > end || size_bytes > spec_.value_size) return false;
  const std::uintptr_t value_off = reinterpret_cast<std::uintptr_t>(slots_[0].value) - first;
  const std::uintptr_t in_slot = (addr - first) % sizeof(Slot);
  return in_slot >= value_off && in_slot + size_bytes <= value_off + spec_.value_size;
}

}  // namespace bpfvm::maps
