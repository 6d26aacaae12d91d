// ALU and comparison semantics of RFC 9669, one function per operation and width. The interpreter
// executes them; tests and the JITs' constant folding use them as the reference.
#pragma once

#include <cstdint>
#include <bit>
#include <limits>

namespace bpfvm::vm::alu {

using u64 = std::uint64_t;
using u32 = std::uint32_t;
using s64 = std::int64_t;
using s32 = std::int32_t;

// 64-bit operations. Shift counts are masked to 6 bits (RFC 9669 4.1).
constexpr u64 add64(u64 a, u64 b) { return a + b; }
constexpr u64 sub64(u64 a, u64 b) { return a - b; }
constexpr u64 mul64(u64 a, u64 b) { return a * b; }
constexpr u64 div64(u64 a, u64 b) { return b == 0 ? 0 : a / b; }   // division by zero gives 0
constexpr u64 mod64(u64 a, u64 b) { return b == 0 ? a : a % b; }   // modulo by zero keeps dst
constexpr u64 sdiv64(u64 a, u64 b) {
  const auto x = static_cast<s64>(a), y = static_cast<s64>(b);
  if (y == 0) return 0;
  if (y == -1) return 0 - a;  // INT64_MIN / -1 wraps to INT64_MIN
  return static_cast<u64>(x / y);
}
constexpr u64 smod64(u64 a, u64 b) {
  const auto x = static_cast<s64>(a), y = static_cast<s64>(b);
  if (y == 0) return a;
  if (y == -1) return 0;
  return static_cast<u64>(x % y);
}
constexpr u64 bit_or64(u64 a, u64 b) { return a | b; }
constexpr u64 bit_and64(u64 a, u64 b) { return a & b; }
constexpr u64 bit_xor64(u64 a, u64 b) { return a ^ b; }
constexpr u64 lsh64(u64 a, u64 b) { return a << (b & 63); }
constexpr u64 rsh64(u64 a, u64 b) { return a >> (b & 63); }
constexpr u64 arsh64(u64 a, u64 b) { return static_cast<u64>(static_cast<s64>(a) >> (b & 63)); }
constexpr u64 mov64(u64, u64 b) { return b; }
constexpr u64 neg64(u64 a) { return 0 - a; }
constexpr u64 movsx64(u64 v, int bits) {
  return bits == 8 ? static_cast<u64>(static_cast<s64>(static_cast<std::int8_t>(v)))
       : bits == 16 ? static_cast<u64>(static_cast<s64>(static_cast<std::int16_t>(v)))
                    : static_cast<u64>(static_cast<s64>(static_cast<s32>(v)));
}

// 32-bit operations: operate on the low halves, result zero-extended (RFC 9669 4.1).
constexpr u64 add32(u32 a, u32 b) { return u32(a + b); }
constexpr u64 sub32(u32 a, u32 b) { return u32(a - b); }
constexpr u64 mul32(u32 a, u32 b) { return u32(a * b); }
constexpr u64 div32(u32 a, u32 b) { return b == 0 ? 0 : a / b; }
constexpr u64 mod32(u32 a, u32 b) { return b == 0 ? a : a % b; }
constexpr u64 sdiv32(u32 a, u32 b) {
  const auto x = static_cast<s32>(a), y = static_cast<s32>(b);
  if (y == 0) return 0;
  if (y == -1) return u32(0 - a);
  return u32(x / y);
}
constexpr u64 smod32(u32 a, u32 b) {
  const auto x = static_cast<s32>(a), y = static_cast<s32>(b);
  if (y == 0) return a;
  if (y == -1) return 0;
  return u32(x % y);
}
constexpr u64 bit_or32(u32 a, u32 b) { return a | b; }
constexpr u64 bit_and32(u32 a, u32 b) { return a & b; }
constexpr u64 bit_xor32(u32 a, u32 b) { return a ^ b; }
constexpr u64 lsh32(u32 a, u32 b) { return u32(a << (b & 31)); }
constexpr u64 rsh32(u32 a, u32 b) { return a >> (b & 31); }
constexpr u64 arsh32(u32 a, u32 b) { return u32(static_cast<s32>(a) >> (b & 31)); }
constexpr u64 mov32(u32, u32 b) { return b; }
constexpr u64 neg32(u32 a) { return u32(0 - a); }
constexpr u64 movsx32(u64 v, int bits) {
  return bits == 8 ? u32(static_cast<s32>(static_cast<std::int8_t>(v)))
                   : u32(static_cast<s32>(static_cast<std::int16_t>(v)));
}

// Byte order. bpfvm runs on little-endian hosts only (x86-64, arm64), so to-LE truncates and
// to-BE swaps; bswap swaps unconditionally.
static_assert(std::endian::native == std::endian::little, "bpfvm assumes a little-endian host");
constexpr u64 to_le(u64 v, int bits) {
  return bits == 16 ? static_cast<std::uint16_t>(v) : bits == 32 ? static_cast<u32>(v) : v;
}
constexpr u64 bswap(u64 v, int bits) {
  return bits == 16 ? __builtin_bswap16(static_cast<std::uint16_t>(v))
       : bits == 32 ? __builtin_bswap32(static_cast<u32>(v))
                    : __builtin_bswap64(v);
}

// Jump conditions.
constexpr bool jeq64(u64 a, u64 b) { return a == b; }
constexpr bool jne64(u64 a, u64 b) { return a != b; }
constexpr bool jgt64(u64 a, u64 b) { return a > b; }
constexpr bool jge64(u64 a, u64 b) { return a >= b; }
constexpr bool jlt64(u64 a, u64 b) { return a < b; }
constexpr bool jle64(u64 a, u64 b) { return a <= b; }
constexpr bool jset64(u64 a, u64 b) { return (a & b) != 0; }
constexpr bool jsgt64(u64 a, u64 b) { return s64(a) > s64(b); }
constexpr bool jsge64(u64 a, u64 b) { return s64(a) >= s64(b); }
constexpr bool jslt64(u64 a, u64 b) { return s64(a) < s64(b); }
constexpr bool jsle64(u64 a, u64 b) { return s64(a) <= s64(b); }
constexpr bool jeq32(u32 a, u32 b) { return a == b; }
constexpr bool jne32(u32 a, u32 b) { return a != b; }
constexpr bool jgt32(u32 a, u32 b) { return a > b; }
constexpr bool jge32(u32 a, u32 b) { return a >= b; }
constexpr bool jlt32(u32 a, u32 b) { return a < b; }
constexpr bool jle32(u32 a, u32 b) { return a <= b; }
constexpr bool jset32(u32 a, u32 b) { return (a & b) != 0; }
constexpr bool jsgt32(u32 a, u32 b) { return s32(a) > s32(b); }
constexpr bool jsge32(u32 a, u32 b) { return s32(a) >= s32(b); }
constexpr bool jslt32(u32 a, u32 b) { return s32(a) < s32(b); }
constexpr bool jsle32(u32 a, u32 b) { return s32(a) <= s32(b); }

}  // namespace bpfvm::vm::alu
