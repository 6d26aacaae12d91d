// ByteReader: little-endian integer reads from a byte span; callers check bounds with fits() first.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

namespace bpfvm::loader {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  std::size_t size() const { return bytes_.size(); }
  /// True when [off, off + len) lies inside the bytes, without overflow.
  bool fits(std::uint64_t off, std::uint64_t len) const {
    return off <= bytes_.size() && len <= bytes_.size() - off;
  }
  // Reads outside the bytes yield 0; they never touch memory out of range.
  std::uint8_t u8(std::uint64_t off) const { return read<std::uint8_t>(off); }
  std::uint16_t u16(std::uint64_t off) const { return read<std::uint16_t>(off); }
  std::uint32_t u32(std::uint64_t off) const { return read<std::uint32_t>(off); }
  std::uint64_t u64(std::uint64_t off) const { return read<std::uint64_t>(off); }

 private:
  template <class T>
  T read(std::uint64_t off) const {
    T v{};
    if (fits(off, sizeof(T))) std::memcpy(&v, bytes_.data() + off, sizeof(T));
    return v;
  }
  std::span<const std::uint8_t> bytes_;
};

}  // namespace bpfvm::loader
