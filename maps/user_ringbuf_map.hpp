// UserRingbufMap: BPF_MAP_TYPE_USER_RINGBUF — the host produces samples, programs drain them
// (bpf_user_ringbuf_drain), as kernel/bpf/ringbuf.c and libbpf's user_ring_buffer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "maps/ring_map.hpp"

namespace bpfvm::maps {

/// The data area is max_entries bytes mapped twice (RingMemory), so a sample that wraps is
/// contiguous. Every record is 8-byte aligned and starts with the kernel's 8-byte header {u32 len
/// with BUSY (bit 31) and DISCARD (bit 30), u32 pad}. One host thread produces (reserve, then submit
/// or discard, in any order), one program drain consumes at a time; positions are published with
/// release stores and read with acquire loads on both sides, headers change by atomic exchange.
class UserRingbufMap final : public RingMap {
 public:
  static constexpr std::uint32_t kMaxDynptrBytes = (1u << 24) - 1;  // DYNPTR_MAX_SIZE

  /// Maps the memory; Errc::Io if the OS refuses.
  static Result<std::unique_ptr<UserRingbufMap>> create(const MapSpec& spec, std::shared_ptr<RunDomain> domain);
  /// Only create() can name the key, so every UserRingbufMap has its memory mapped.
  class CreateKey {
    friend class UserRingbufMap;
    CreateKey() = default;
  };
  UserRingbufMap(CreateKey, const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  // Host side, the producer (libbpf's user_ring_buffer__reserve / submit / discard).
  /// A BUSY record of `size_bytes`: 0 and *sample_out, -E2BIG when the size uses the header's flag
  /// bits or the record is larger than the ring, -ENOSPC when the unconsumed records leave no room.
  int reserve(std::uint32_t size_bytes, std::byte** sample_out);
  /// Publishes (or marks discarded) a sample reserve() returned and not yet committed; -EINVAL for
  /// any other pointer.
  int submit(void* sample) { return commit(sample, false); }
  int discard(void* sample) { return commit(sample, true); }

  // Program side, the consumer (bpf_user_ringbuf_drain).
  /// Claims the consumer side; false while another drain holds it (the helper's -EBUSY).
  bool begin_drain();
  void end_drain();
  struct Peeked {
    int err = 0;  ///< 0, -ENODATA (empty or busy), -EAGAIN (a discarded record was skipped), -EINVAL, -E2BIG
    std::byte* sample = nullptr;
    std::uint32_t size_bytes = 0;
  };
  /// The oldest record (the kernel's __bpf_user_ringbuf_peek); a discarded one is consumed here.
  Peeked peek_sample();
  /// Consumes the record peek_sample() returned.
  void release_sample(std::uint32_t size_bytes);

 private:
  int commit(void* sample, bool discard);

  std::atomic<std::uint64_t> producer_pos_{0};
  std::atomic<std::uint64_t> consumer_pos_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace bpfvm::maps
