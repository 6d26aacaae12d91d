// Copies between caller buffers and shared map value memory, tear-tolerant and free of data races.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>

namespace bpfvm::maps {

// Map values are written by programs on other threads while the host copies them, as in the kernel
// (which allows torn reads). Accessing the map side through relaxed atomic_ref makes those races
// well defined (and ThreadSanitizer-clean) at the cost of nothing on x86-64. Map memory is 8-aligned.

/// Copy n bytes from shared map memory `src` (8-aligned) into a plain buffer.
inline void load_value(void* dst, const void* src, std::size_t n) {
  auto* d = static_cast<std::byte*>(dst);
  auto* s = const_cast<std::byte*>(static_cast<const std::byte*>(src));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t w =
        std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(s + i)).load(std::memory_order_relaxed);
    std::memcpy(d + i, &w, 8);
  }
  for (; i < n; ++i) {
    const std::uint8_t b =
        std::atomic_ref<std::uint8_t>(*reinterpret_cast<std::uint8_t*>(s + i)).load(std::memory_order_relaxed);
    std::memcpy(d + i, &b, 1);
  }
}

/// Copy n bytes from a plain buffer into shared map memory `dst` (8-aligned).
inline void store_value(void* dst, const void* src, std::size_t n) {
  auto* d = static_cast<std::byte*>(dst);
  const auto* s = static_cast<const std::byte*>(src);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s + i, 8);
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(d + i)).store(w, std::memory_order_relaxed);
  }
  for (; i < n; ++i) {
    std::uint8_t b;
    std::memcpy(&b, s + i, 1);
    std::atomic_ref<std::uint8_t>(*reinterpret_cast<std::uint8_t*>(d + i)).store(b, std::memory_order_relaxed);
  }
}

/// Zero n bytes of shared map memory (8-aligned).
inline void zero_value(void* dst, std::size_t n) {
  static constexpr std::byte kZeros[64] = {};
  auto* d = static_cast<std::byte*>(dst);
  while (n > 0) {
    const std::size_t chunk = n < sizeof kZeros ? n : sizeof kZeros;
    store_value(d, kZeros, chunk);
    d += chunk;
    n -= chunk;
  }
}

/// A value's struct bpf_spin_lock (4 bytes at lock_off): the kernel never copies it in or out, and
/// BPF_F_LOCK copies the rest while holding it.
class ValueLock {
 public:
  ValueLock(void* value, std::int32_t lock_off)
      : word_(*reinterpret_cast<std::uint32_t*>(static_cast<std::byte*>(value) + lock_off)) {
    std::uint32_t expected = 0;
    while (!word_.compare_exchange_weak(expected, 1, std::memory_order_acquire)) {
      expected = 0;
      std::this_thread::yield();
    }
  }
  ~ValueLock() { word_.store(0, std::memory_order_release); }
  ValueLock(const ValueLock&) = delete;
  ValueLock& operator=(const ValueLock&) = delete;

 private:
  std::atomic_ref<std::uint32_t> word_;
};

/// store_value that leaves the 4-byte lock word alone (lock_off < 0: no lock).
inline void store_value_skip_lock(void* dst, const void* src, std::size_t n, std::int32_t lock_off) {
  if (lock_off < 0) return store_value(dst, src, n);
  const auto off = static_cast<std::size_t>(lock_off);
  auto* d = static_cast<std::byte*>(dst);
  const auto* s = static_cast<const std::byte*>(src);
  // Split around the lock; the tail is 4-aligned, so copy it bytewise-safe via store_value on bytes.
  store_value(d, s, off);
  for (std::size_t i = off + 4; i < n; ++i)
    std::atomic_ref<std::uint8_t>(*reinterpret_cast<std::uint8_t*>(d + i))
        .store(static_cast<std::uint8_t>(s[i]), std::memory_order_relaxed);
}

/// load_value that reports the lock word as zero, as the kernel does for bpf() lookups.
inline void load_value_skip_lock(void* dst, const void* src, std::size_t n, std::int32_t lock_off) {
  load_value(dst, src, n);
  if (lock_off >= 0) std::memset(static_cast<std::byte*>(dst) + lock_off, 0, 4);
}

}  // namespace bpfvm::maps
