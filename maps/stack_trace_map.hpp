// StackTraceMap: BPF_MAP_TYPE_STACK_TRACE (kernel/bpf/stackmap.c), the map bpf_get_stackid fills.
#pragma once

#include <cstdint>
#include <memory>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// The kernel's perf_event_max_stack sysctl default: the deepest trace a value may hold (value_size / 8,
/// or / 32 with BPF_F_STACK_BUILD_ID).
inline constexpr std::uint32_t kPerfEventMaxStack = 127;

/// Keys are stack ids below n_buckets (max_entries rounded up to a power of two). A process has no call
/// chain to record for a program (bpf_get_stackid answers -EFAULT, the kernel's "couldn't fetch the stack
/// trace"), so no id is ever filled: host lookups and lookup_and_delete are -ENOENT, get_next_key -ENOENT,
/// delete -E2BIG past the last bucket else -ENOENT, updates -EINVAL (programs and hosts), as 6.18 answers
/// on an empty map. Programs may only pass the map to bpf_get_stackid (the verifier's rule).
class StackTraceMap final : public Map {
 public:
  StackTraceMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  int erase(const void* key) override;

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;
  int copy_and_erase(const void* key, void* out, std::uint64_t flags) override;

 private:
  const std::uint64_t n_buckets_;
};

/// stack_map_alloc's checks, in its order (create_map's check_map_spec calls it).
SpecProblem check_stack_trace_spec(const MapSpec& spec);

}  // namespace bpfvm::maps
