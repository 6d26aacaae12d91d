// ProgArrayMap: BPF_MAP_TYPE_PROG_ARRAY — tail-call targets, stored as opaque program handles.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// A program handle the runtime owns: `prog` is what a tail call jumps to, `id` what bpf() lookups report.
struct ProgramRef {
  void* prog = nullptr;
  std::uint32_t id = 0;
};

/// Turns the u32 a host update carries (a program fd or runtime index) into a ProgramRef:
/// returns 0, or the kernel's errno for a bad fd (-EBADF) or a wrong program (-EINVAL).
using ProgramResolver = std::function<int(std::uint32_t fd, ProgramRef& out)>;

/// Slots are atomic pointers: bpf_tail_call reads them lock-free while the host updates them.
/// The host sets slots through host_update() (needs a resolver) or set_program().
class ProgArrayMap final : public Map {
 public:
  ProgArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  void set_resolver(ProgramResolver resolver) { resolver_ = std::move(resolver); }
  /// Direct host store; -E2BIG if index is out of range. A null prog clears the slot.
  int set_program(std::uint32_t index, ProgramRef ref);
  /// The tail-call target at index, or nullptr (out of range or empty).
  void* get_program(std::uint32_t index) const;

  int erase(const void* key) override;

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;

 private:
  struct Slot {
    std::atomic<void*> prog{nullptr};
    std::atomic<std::uint32_t> id{0};
  };
  std::unique_ptr<Slot[]> slots_;
  ProgramResolver resolver_;
};

/// bpf_map_get_next_key for every array-indexed map (arraymap.c array_map_get_next_key).
int array_next_key(std::uint32_t max_entries, const void* key, void* next);

}  // namespace bpfvm::maps
