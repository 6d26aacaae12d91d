// PerfEventArrayMap: BPF_MAP_TYPE_PERF_EVENT_ARRAY — bpf_perf_event_output delivered to a host callback.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// Each index holds an "event" (the u32 the host stored, standing in for a perf event fd); output to
/// an index with an event calls the host callback with cpu = index. The kernel's extra check that the
/// event is bound to the running CPU (-EOPNOTSUPP) does not apply: slots are not real CPUs.
class PerfEventArrayMap final : public Map {
 public:
  using OutputFn = std::function<void(int cpu, std::span<const std::uint8_t> data)>;

  PerfEventArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  /// Set before programs run; called from the outputting thread.
  void set_output(OutputFn fn) { output_fn_ = std::move(fn); }
  /// bpf_perf_event_output: flags = index (BPF_F_INDEX_MASK) or BPF_F_CURRENT_CPU.
  /// 0, -EINVAL (other flag bits), -E2BIG (index out of range), -ENOENT (no event there).
  /// One record: `data` followed by `ctx_bytes` (the packet bytes a networking program's
  /// BPF_F_CTXLEN_MASK asks for, appended as the kernel's bpf_event_output does).
  int output(std::uint64_t flags, std::span<const std::uint8_t> data, std::span<const std::uint8_t> ctx_bytes = {});
  /// bpf_perf_event_read / _read_value: the same flag, index and empty-slot errnos as output; a slot
  /// with an event gives -EOPNOTSUPP: its events are output sinks, not counters (the kernel's answer
  /// for an event perf_event_read_local cannot read).
  int read(std::uint64_t flags) const;

  int erase(const void* key) override;

 protected:
  int copy_value(const void*, void*, std::uint64_t) override { return -kENOTSUPP; }
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;

 private:
  std::unique_ptr<std::atomic<std::uint64_t>[]> events_;  // 0 = empty, else (value | 1 << 32)
  OutputFn output_fn_;
};

}  // namespace bpfvm::maps
