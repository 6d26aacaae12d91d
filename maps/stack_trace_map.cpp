// StackTraceMap: the kernel's stack trace map as a process sees it (no call chains to record).
#include "maps/stack_trace_map.hpp"

#include <bit>
#include <cerrno>
#include <cstring>

namespace bpfvm::maps {

SpecProblem check_stack_trace_spec(const MapSpec& s) {
  constexpr std::uint32_t kBuildIdBytes = 32;  // struct bpf_stack_build_id
  if (s.map_flags & ~(kBpfFNumaNode | kBpfFRdonly | kBpfFWronly | kBpfFStackBuildId))
    return {-EINVAL, "stack trace map_flags not supported"};
  if (s.max_entries == 0 || s.key_size != 4 || s.value_size < 8 || s.value_size % 8)
    return {-EINVAL, "stack trace needs key_size 4, value_size a non-zero multiple of 8, max_entries > 0"};
  const bool build_id = s.map_flags & kBpfFStackBuildId;
  const std::uint32_t frame = build_id ? kBuildIdBytes : 8;
  if (s.value_size % frame || s.value_size / frame > kPerfEventMaxStack)
    return {-EINVAL, build_id ? "stack trace value_size must be a multiple of 32 and at most 127 build-id frames"
                              : "stack trace value_size above 127 frames (perf_event_max_stack)"};
  if (s.max_entries > (1u << 31)) return {-E2BIG, "stack trace max_entries above 2^31"};
  return {};
}

StackTraceMap::StackTraceMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)), n_buckets_(std::bit_ceil(std::uint64_t{spec.max_entries})) {}

int StackTraceMap::erase(const void* key) {
  std::uint32_t id;
  std::memcpy(&id, key, 4);
  return id >= n_buckets_ ? -E2BIG : -ENOENT;
}

int StackTraceMap::copy_value(const void*, void*, std::uint64_t) { return -ENOENT; }
int StackTraceMap::update_from_host(const void*, const void*, std::uint64_t) { return -EINVAL; }
int StackTraceMap::next_key(const void*, void*) { return -ENOENT; }
int StackTraceMap::copy_and_erase(const void*, void*, std::uint64_t) { return -ENOENT; }

}  // namespace bpfvm::maps
