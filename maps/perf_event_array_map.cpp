// PerfEventArrayMap: perf output errnos of kernel/trace/bpf_trace.c, fd-array updates of arraymap.c.
#include "maps/perf_event_array_map.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include "maps/prog_array_map.hpp"

namespace bpfvm::maps {

PerfEventArrayMap::PerfEventArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)),
      events_(std::make_unique<std::atomic<std::uint64_t>[]>(spec.max_entries)) {}

int PerfEventArrayMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  if (flags != kBpfAny) return -EINVAL;
  std::uint32_t index, fd;
  std::memcpy(&index, key, 4);
  std::memcpy(&fd, value, 4);
  if (index >= spec_.max_entries) return -E2BIG;
  events_[index].store(fd | (std::uint64_t{1} << 32), std::memory_order_release);
  return 0;
}

int PerfEventArrayMap::erase(const void* key) {
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= spec_.max_entries) return -E2BIG;
  return events_[index].exchange(0, std::memory_order_acq_rel) ? 0 : -ENOENT;
}

// bpf_trace.c __bpf_perf_event_output.
int PerfEventArrayMap::output(std::uint64_t flags, std::span<const std::uint8_t> data,
                              std::span<const std::uint8_t> ctx_bytes) {
  if (flags & ~kBpfFIndexMask) return -EINVAL;
  std::uint64_t index = flags & kBpfFIndexMask;
  if (index == kBpfFCurrentCpu) index = this_cpu();
  if (index >= spec_.max_entries) return -E2BIG;
  if (!events_[index].load(std::memory_order_acquire)) return -ENOENT;
  if (!output_fn_) return 0;
  if (ctx_bytes.empty()) {
    output_fn_(static_cast<int>(index), data);
    return 0;
  }
  std::vector<std::uint8_t> record(data.begin(), data.end());
  record.insert(record.end(), ctx_bytes.begin(), ctx_bytes.end());
  output_fn_(static_cast<int>(index), record);
  return 0;
}

int PerfEventArrayMap::read(std::uint64_t flags) const {
  if (flags & ~kBpfFIndexMask) return -EINVAL;
  std::uint64_t index = flags & kBpfFIndexMask;
  if (index == kBpfFCurrentCpu) index = this_cpu();
  if (index >= spec_.max_entries) return -E2BIG;
  if (!events_[index].load(std::memory_order_acquire)) return -ENOENT;
  return -EOPNOTSUPP;
}

int PerfEventArrayMap::next_key(const void* key, void* next) { return array_next_key(spec_.max_entries, key, next); }

}  // namespace bpfvm::maps
