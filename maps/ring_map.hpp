// RingMap: what BPF_MAP_TYPE_RINGBUF and USER_RINGBUF share, as kernel/bpf/ringbuf.c's two map ops
// tables share their element ops: the data area mapped twice (RingMemory), the record header's flag
// bits, and no element access from bpf() (-ENOTSUPP for lookup, update, delete and get_next_key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "maps/map.hpp"
#include "maps/ring_memory.hpp"

namespace bpfvm::maps {

class RingMap : public Map {
 public:
  static constexpr std::uint32_t kBusyBit = 1u << 31;     // BPF_RINGBUF_BUSY_BIT
  static constexpr std::uint32_t kDiscardBit = 1u << 30;  // BPF_RINGBUF_DISCARD_BIT
  static constexpr std::uint32_t kHeaderBytes = 8;        // BPF_RINGBUF_HDR_SZ

 protected:
  /// max_entries is the data area's size in bytes (a power of 2, checked by create_map).
  RingMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
      : Map(spec, std::move(domain)), mask_(spec.max_entries - 1u) {}

  /// Maps the data area (named `name` for the OS); Errc::Io if the OS refuses.
  Result<void> map_memory(const char* name) {
    auto mem = RingMemory::map(spec().max_entries, name);
    if (!mem) return std::move(mem).error();
    mem_ = std::move(mem).value();
    return {};
  }

  int copy_value(const void*, void*, std::uint64_t) override { return -kENOTSUPP; }
  int update_from_host(const void*, const void*, std::uint64_t) override { return -kENOTSUPP; }
  int erase_from_host(const void*) override { return -kENOTSUPP; }
  int next_key(const void*, void*) override { return -kENOTSUPP; }
  /// Programs get memory only inside the data area (records and their double-mapped tails).
  bool owns_value(std::uintptr_t addr, std::size_t size_bytes) const override {
    return mem_.holds(addr, size_bytes);
  }

  RingMemory mem_;          // meta page followed by the data area twice
  std::uint64_t mask_ = 0;  // data area bytes - 1: a position's offset in the area
};

}  // namespace bpfvm::maps
