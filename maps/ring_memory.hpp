// RingMemory: a ring buffer's data area mapped twice back to back after one meta page, as the
// kernel maps BPF_MAP_TYPE_RINGBUF and USER_RINGBUF data, so a record that wraps is contiguous.
#pragma once

#include <cstddef>

#include "bpfvm/result.hpp"

namespace bpfvm::maps {

class RingMemory {
 public:
  RingMemory() = default;
  /// Maps `data_bytes` (a power of 2, page aligned) twice after one page; Errc::Io if the OS refuses.
  static Result<RingMemory> map(std::size_t data_bytes, const char* name);
  RingMemory(RingMemory&& other) noexcept;
  RingMemory& operator=(RingMemory&& other) noexcept;
  RingMemory(const RingMemory&) = delete;
  RingMemory& operator=(const RingMemory&) = delete;
  ~RingMemory();

  std::byte* base() const { return base_; }  ///< the meta page
  std::byte* data() const { return base_ == nullptr ? nullptr : base_ + page_bytes_; }
  std::size_t page_bytes() const { return page_bytes_; }
  std::size_t data_bytes() const { return data_bytes_; }
  /// Whether [addr, addr + size_bytes) lies in the data area or its second mapping.
  bool holds(std::uintptr_t addr, std::size_t size_bytes) const;

 private:
  std::byte* base_ = nullptr;
  std::size_t page_bytes_ = 4096;
  std::size_t data_bytes_ = 0;
};

}  // namespace bpfvm::maps
