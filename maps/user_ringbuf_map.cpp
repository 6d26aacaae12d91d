// UserRingbufMap: the producer's reserve/commit and the consumer's peek/release, after
// kernel/bpf/ringbuf.c (__bpf_user_ringbuf_peek) and libbpf's user_ring_buffer__reserve.
#include "maps/user_ringbuf_map.hpp"

#include <cerrno>
#include <cstring>

namespace bpfvm::maps {
namespace {
std::uint64_t round_up8(std::uint64_t n) { return (n + 7) & ~std::uint64_t{7}; }

std::atomic_ref<std::uint32_t> len_word(std::byte* hdr) {
  return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(hdr));
}
}  // namespace

UserRingbufMap::UserRingbufMap(CreateKey, const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : RingMap(spec, std::move(domain)) {}

Result<std::unique_ptr<UserRingbufMap>> UserRingbufMap::create(const MapSpec& spec, std::shared_ptr<RunDomain> domain) {
  auto rb = std::make_unique<UserRingbufMap>(CreateKey{}, spec, std::move(domain));
  if (auto mapped = rb->map_memory("bpfvm-user-ringbuf"); !mapped) return std::move(mapped).error();
  return rb;
}

int UserRingbufMap::reserve(std::uint32_t size_bytes, std::byte** sample_out) {
  *sample_out = nullptr;
  if (size_bytes & (kBusyBit | kDiscardBit)) return -E2BIG;
  const std::uint64_t cons = consumer_pos_.load(std::memory_order_acquire);
  const std::uint64_t prod = producer_pos_.load(std::memory_order_relaxed);  // only this thread stores it
  const std::uint64_t ring = mask_ + 1;
  const std::uint64_t total = round_up8(std::uint64_t{size_bytes} + kHeaderBytes);
  if (total > ring) return -E2BIG;
  if (ring - (prod - cons) < total) return -ENOSPC;
  std::byte* hdr = mem_.data() + (prod & mask_);
  const std::uint32_t pad = 0;
  std::memcpy(hdr + 4, &pad, 4);
  len_word(hdr).store(size_bytes | kBusyBit, std::memory_order_relaxed);
  producer_pos_.store(prod + total, std::memory_order_release);  // publishes the BUSY header
  *sample_out = hdr + kHeaderBytes;
  return 0;
}

int UserRingbufMap::commit(void* sample, bool discard) {
  // A sample reserve() handed out: inside the first mapping, 8-byte aligned, its header BUSY and
  // between the consumer and the producer.
  const auto addr = reinterpret_cast<std::uintptr_t>(sample);
  const auto data = reinterpret_cast<std::uintptr_t>(mem_.data());
  if (sample == nullptr || addr < data + kHeaderBytes || addr - data > mask_ + kHeaderBytes || addr % 8) return -EINVAL;
  std::byte* hdr = static_cast<std::byte*>(sample) - kHeaderBytes;
  const std::uint64_t off = static_cast<std::uint64_t>(hdr - mem_.data());
  const std::uint64_t cons = consumer_pos_.load(std::memory_order_acquire);
  const std::uint64_t prod = producer_pos_.load(std::memory_order_relaxed);
  if (((off - cons) & mask_) >= prod - cons) return -EINVAL;
  const std::uint32_t len = len_word(hdr).load(std::memory_order_relaxed);
  if (!(len & kBusyBit)) return -EINVAL;
  len_word(hdr).exchange((len & ~kBusyBit) | (discard ? kDiscardBit : 0), std::memory_order_acq_rel);
  return 0;
}

bool UserRingbufMap::begin_drain() {
  bool idle = false;
  return draining_.compare_exchange_strong(idle, true, std::memory_order_acquire);
}

void UserRingbufMap::end_drain() { draining_.store(false, std::memory_order_release); }

UserRingbufMap::Peeked UserRingbufMap::peek_sample() {
  const std::uint64_t prod = producer_pos_.load(std::memory_order_acquire);
  if (prod % 8) return {-EINVAL};
  const std::uint64_t cons = consumer_pos_.load(std::memory_order_relaxed);  // only the drain stores it
  if (cons >= prod) return {-ENODATA};
  std::byte* hdr = mem_.data() + (cons & mask_);
  const std::uint32_t len = len_word(hdr).load(std::memory_order_acquire);
  const std::uint32_t size = len & ~(kBusyBit | kDiscardBit);
  const std::uint64_t total = round_up8(std::uint64_t{size} + kHeaderBytes);
  if (total > prod - cons) return {-EINVAL};  // beyond what the producer published
  if (total > mask_ + 1 || size > kMaxDynptrBytes) return {-E2BIG};
  if (len & kDiscardBit) {
    consumer_pos_.store(cons + total, std::memory_order_release);
    return {-EAGAIN};
  }
  if (len & kBusyBit) return {-ENODATA};
  return {0, hdr + kHeaderBytes, size};
}

void UserRingbufMap::release_sample(std::uint32_t size_bytes) {
  const std::uint64_t cons = consumer_pos_.load(std::memory_order_relaxed);
  consumer_pos_.store(cons + round_up8(std::uint64_t{size_bytes} + kHeaderBytes), std::memory_order_release);
}

}  // namespace bpfvm::maps
