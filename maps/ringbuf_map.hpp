// RingbufMap: BPF_MAP_TYPE_RINGBUF — reserve/commit records for a host consumer, as kernel/bpf/ringbuf.c.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>

#include "maps/ring_map.hpp"

namespace bpfvm::maps {

/// The data area is max_entries bytes mapped twice back to back (a memfd), so a record that wraps
/// is still contiguous for the program, exactly like the kernel's double mapping. Every record has an
/// 8-byte header {u32 len with BUSY (bit 31) and DISCARD (bit 30) bits, u32 page offset}.
/// Reservation is serialized; commit is a lock-free header exchange, so records may be committed in
/// any order, but the consumer delivers them in reservation order and stops at the first record
/// still BUSY. Wakeups the kernel would send are counted (and passed to an optional callback).
class RingbufMap final : public RingMap {
 public:
  /// Maps the memory; Errc::Io if the OS refuses.
  static Result<std::unique_ptr<RingbufMap>> create(const MapSpec& spec, std::shared_ptr<RunDomain> domain);
  /// Only create() can name the key, so every RingbufMap has its memory mapped.
  class CreateKey {
    friend class RingbufMap;
    CreateKey() = default;
  };
  RingbufMap(CreateKey, const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  // Program side: bpf_ringbuf_reserve / submit / discard / output / query.
  /// nullptr if flags != 0, the record is too large, or there is no room.
  void* reserve(std::uint64_t size, std::uint64_t flags);
  void submit(void* sample, std::uint64_t flags) { commit(sample, flags, false); }
  void discard(void* sample, std::uint64_t flags) { commit(sample, flags, true); }
  /// 0, -EINVAL (unknown flags) or -EAGAIN (no room).
  int output(const void* data, std::uint64_t size, std::uint64_t flags);
  /// BPF_RB_AVAIL_DATA, RING_SIZE, CONS_POS, PROD_POS; 0 for any other selector.
  std::uint64_t query(std::uint64_t flags) const;
  /// The ring buffer a reserved sample belongs to (found through its header, as the kernel does).
  static RingbufMap* from_sample(void* sample);

  // Host side: the consumer.
  using RecordFn = std::function<int(std::span<const std::byte> record)>;
  /// Delivers committed records in order, skipping discarded ones, until the first busy record,
  /// the end of data, `max_records`, or a callback result < 0. Returns the number delivered.
  std::size_t consume(const RecordFn& fn, std::size_t max_records = SIZE_MAX);
  /// Number of wakeups the kernel would have sent so far.
  std::uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }
  /// Called (from the committing thread) for every wakeup.
  void set_wakeup_callback(std::function<void()> fn) { on_wakeup_ = std::move(fn); }

 private:
  void commit(void* sample, std::uint64_t flags, bool discard);
  std::atomic_ref<std::uint32_t> len_word(std::uint64_t pos) const;

  std::byte* data_ = nullptr;  // mem_.data(); mem_'s meta page holds the back pointer

  std::mutex reserve_mu_;
  std::uint64_t pending_pos_ = 0;  // reserve_mu_: oldest record possibly still busy
  std::atomic<std::uint64_t> producer_pos_{0};
  std::atomic<std::uint64_t> consumer_pos_{0};
  std::mutex consume_mu_;
  std::atomic<std::uint64_t> wakeups_{0};
  std::function<void()> on_wakeup_;
};

}  // namespace bpfvm::maps
