// RingbufMap: double-mapped data area, reservation positions and the consumer, after kernel/bpf/ringbuf.c.
#include "maps/ringbuf_map.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bpfvm::maps {
namespace {
// ringbuf.c RINGBUF_MAX_RECORD_SZ.
constexpr std::uint64_t kMaxRecordBytes = 0xffffffffu / 4;

std::uint64_t round_up8(std::uint64_t n) { return (n + 7) & ~std::uint64_t{7}; }

}  // namespace

RingbufMap::RingbufMap(CreateKey, const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : RingMap(spec, std::move(domain)) {}

Result<std::unique_ptr<RingbufMap>> RingbufMap::create(const MapSpec& spec, std::shared_ptr<RunDomain> domain) {
  auto rb = std::make_unique<RingbufMap>(CreateKey{}, spec, std::move(domain));
  if (auto mapped = rb->map_memory("bpfvm-ringbuf"); !mapped) return std::move(mapped).error();
  rb->data_ = rb->mem_.data();
  RingbufMap* self = rb.get();
  std::memcpy(rb->mem_.base(), &self, sizeof self);  // back pointer for from_sample()
  return rb;
}

std::atomic_ref<std::uint32_t> RingbufMap::len_word(std::uint64_t pos) const {
  return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(data_ + (pos & mask_)));
}

// ringbuf.c __bpf_ringbuf_reserve.
void* RingbufMap::reserve(std::uint64_t size, std::uint64_t flags) {
  if (flags) return nullptr;
  if (size > kMaxRecordBytes) return nullptr;
  const std::uint64_t len = round_up8(size + kHeaderBytes);
  if (len > mask_ + 1) return nullptr;
  const std::uint64_t cons = consumer_pos_.load(std::memory_order_acquire);
  std::lock_guard lock(reserve_mu_);
  const std::uint64_t prod = producer_pos_.load(std::memory_order_relaxed);
  while (pending_pos_ < prod) {  // skip records committed since
    const std::uint32_t hdr_len = len_word(pending_pos_).load(std::memory_order_acquire);
    if (hdr_len & kBusyBit) break;
    pending_pos_ += round_up8((hdr_len & ~kDiscardBit) + std::uint64_t{kHeaderBytes});
  }
  const std::uint64_t new_prod = prod + len;
  // No more than ring size - 1 ahead of the consumer, nor of the oldest uncommitted record.
  if (new_prod - cons > mask_ || new_prod - pending_pos_ > mask_) return nullptr;
  std::byte* hdr = data_ + (prod & mask_);
  const auto pg_off = static_cast<std::uint32_t>((hdr - mem_.base()) / static_cast<std::ptrdiff_t>(mem_.page_bytes()));
  std::memcpy(hdr + 4, &pg_off, 4);
  len_word(prod).store(static_cast<std::uint32_t>(size) | kBusyBit, std::memory_order_relaxed);
  producer_pos_.store(new_prod, std::memory_order_release);
  return hdr + kHeaderBytes;
}

RingbufMap* RingbufMap::from_sample(void* sample) {
  auto* hdr = static_cast<std::byte*>(sample) - kHeaderBytes;
  std::uint32_t pg_off;
  std::memcpy(&pg_off, hdr + 4, 4);
  const long page = ::sysconf(_SC_PAGESIZE);
  const auto page_bytes = static_cast<std::uintptr_t>(page > 0 ? page : 4096);
  const std::uintptr_t hdr_page = reinterpret_cast<std::uintptr_t>(hdr) & ~(page_bytes - 1);
  RingbufMap* rb;
  std::memcpy(&rb, reinterpret_cast<void*>(hdr_page - std::uintptr_t{pg_off} * page_bytes), sizeof rb);
  return rb;
}

// ringbuf.c bpf_ringbuf_commit: drop BUSY (set DISCARD), then wake a consumer that waits for this record.
void RingbufMap::commit(void* sample, std::uint64_t flags, bool discard) {
  auto* hdr = static_cast<std::byte*>(sample) - kHeaderBytes;
  const auto rec_pos = static_cast<std::uint64_t>(hdr - data_);
  std::atomic_ref<std::uint32_t> len(*reinterpret_cast<std::uint32_t*>(hdr));
  std::uint32_t new_len = len.load(std::memory_order_relaxed) ^ kBusyBit;
  if (discard) new_len |= kDiscardBit;
  len.exchange(new_len, std::memory_order_acq_rel);
  const std::uint64_t cons = consumer_pos_.load(std::memory_order_acquire) & mask_;
  const bool wake = (flags & kBpfRbForceWakeup) || (cons == rec_pos && !(flags & kBpfRbNoWakeup));
  if (wake) {
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    if (on_wakeup_) on_wakeup_();
  }
}

// ringbuf.c bpf_ringbuf_output.
int RingbufMap::output(const void* data, std::uint64_t size, std::uint64_t flags) {
  if (flags & ~(kBpfRbNoWakeup | kBpfRbForceWakeup)) return -EINVAL;
  void* rec = reserve(size, 0);
  if (!rec) return -EAGAIN;
  std::memcpy(rec, data, size);
  commit(rec, flags, false);
  return 0;
}

std::uint64_t RingbufMap::query(std::uint64_t flags) const {
  const std::uint64_t cons = consumer_pos_.load(std::memory_order_acquire);
  const std::uint64_t prod = producer_pos_.load(std::memory_order_acquire);
  switch (flags) {
    case kBpfRbAvailData: return prod - cons;
    case kBpfRbRingSize: return mask_ + 1;
    case kBpfRbConsPos: return cons;
    case kBpfRbProdPos: return prod;
    default: return 0;
  }
}

std::size_t RingbufMap::consume(const RecordFn& fn, std::size_t max_records) {
  std::lock_guard lock(consume_mu_);
  std::uint64_t cons = consumer_pos_.load(std::memory_order_relaxed);
  std::size_t delivered = 0;
  while (delivered < max_records) {
    const std::uint64_t prod = producer_pos_.load(std::memory_order_acquire);
    if (cons >= prod) break;
    const std::uint32_t hdr_len = len_word(cons).load(std::memory_order_acquire);
    if (hdr_len & kBusyBit) break;  // later records wait for this one
    const std::uint32_t size = hdr_len & ~kDiscardBit;
    const std::uint64_t rec_len = round_up8(size + std::uint64_t{kHeaderBytes});
    int rc = 0;
    if (!(hdr_len & kDiscardBit)) {
      rc = fn(std::span<const std::byte>(data_ + (cons & mask_) + kHeaderBytes, size));
      ++delivered;
    }
    cons += rec_len;
    consumer_pos_.store(cons, std::memory_order_release);
    if (rc < 0) break;
  }
  return delivered;
}

}  // namespace bpfvm::maps
