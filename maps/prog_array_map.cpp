// ProgArrayMap: fd-array semantics of kernel/bpf/arraymap.c for program slots.
#include "maps/prog_array_map.hpp"

#include <cerrno>
#include <cstring>

#include "maps/fd_array_update.hpp"

namespace bpfvm::maps {

int array_next_key(std::uint32_t max_entries, const void* key, void* next) {
  std::uint32_t index = max_entries;
  if (key) std::memcpy(&index, key, 4);
  std::uint32_t n = 0;
  if (index < max_entries) {
    if (index == max_entries - 1) return -ENOENT;
    n = index + 1;
  }
  std::memcpy(next, &n, 4);
  return 0;
}

ProgArrayMap::ProgArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)), slots_(std::make_unique<Slot[]>(spec.max_entries)) {}

int ProgArrayMap::set_program(std::uint32_t index, ProgramRef ref) {
  if (index >= spec_.max_entries) return -E2BIG;
  slots_[index].id.store(ref.id, std::memory_order_relaxed);
  slots_[index].prog.store(ref.prog, std::memory_order_release);
  return 0;
}

void* ProgArrayMap::get_program(std::uint32_t index) const {
  if (index >= spec_.max_entries) return nullptr;
  return slots_[index].prog.load(std::memory_order_acquire);
}

int ProgArrayMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  std::uint32_t index;
  ProgramRef ref;
  if (int err = resolve_fd_array_update(spec_, resolver_, key, value, flags, index, ref)) return err;
  if (!ref.prog) return -EBADF;
  return set_program(index, ref);
}

// arraymap.c fd_array_map_delete_elem.
int ProgArrayMap::erase(const void* key) {
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= spec_.max_entries) return -E2BIG;
  void* old = slots_[index].prog.exchange(nullptr, std::memory_order_acq_rel);
  return old ? 0 : -ENOENT;
}

// arraymap.c bpf_fd_array_map_lookup_elem: reports the program id.
int ProgArrayMap::copy_value(const void* key, void* out, std::uint64_t) {
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= spec_.max_entries || !slots_[index].prog.load(std::memory_order_acquire)) return -ENOENT;
  const std::uint32_t id = slots_[index].id.load(std::memory_order_relaxed);
  std::memcpy(out, &id, 4);
  return 0;
}

int ProgArrayMap::next_key(const void* key, void* next) { return array_next_key(spec_.max_entries, key, next); }

}  // namespace bpfvm::maps
