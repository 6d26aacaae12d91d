// ALU and comparison semantics of RFC 9669, one function per operation and width. The interpreter
// executes them; tests and the JITs' constant folding use them as the reference.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <optional>

#include "vm/isa.hpp"

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

// By kind, for passes and tests that evaluate an instruction of isa.hpp on constants.
#define BPFVM_BY_WIDTH(K, FN) \
  case isa::Kind::K: return w64 ? FN##64(a, b) : FN##32(static_cast<u32>(a), static_cast<u32>(b));

/// The ALU operation `kind` (mov included) at 64 bits, or at 32 on the operands' low halves (the
/// result zero-extended); nullopt for a kind that is not a two-operand ALU operation.
constexpr std::optional<u64> binary(isa::Kind kind, bool w64, u64 a, u64 b) {
  switch (kind) {
    BPFVM_BY_WIDTH(Add, add) BPFVM_BY_WIDTH(Sub, sub) BPFVM_BY_WIDTH(Mul, mul) BPFVM_BY_WIDTH(Div, div)
    BPFVM_BY_WIDTH(SDiv, sdiv) BPFVM_BY_WIDTH(Mod, mod) BPFVM_BY_WIDTH(SMod, smod) BPFVM_BY_WIDTH(Or, bit_or)
    BPFVM_BY_WIDTH(And, bit_and) BPFVM_BY_WIDTH(Xor, bit_xor) BPFVM_BY_WIDTH(Lsh, lsh) BPFVM_BY_WIDTH(Rsh, rsh)
    BPFVM_BY_WIDTH(Arsh, arsh) BPFVM_BY_WIDTH(Mov, mov)
    default: return std::nullopt;
  }
}

/// The conditional jump `kind`'s condition at 64 bits, or at 32 (jmp32); nullopt for ja, calls, exit.
constexpr std::optional<bool> condition(isa::Kind kind, bool w64, u64 a, u64 b) {
  switch (kind) {
    BPFVM_BY_WIDTH(Jeq, jeq) BPFVM_BY_WIDTH(Jne, jne) BPFVM_BY_WIDTH(Jgt, jgt) BPFVM_BY_WIDTH(Jge, jge)
    BPFVM_BY_WIDTH(Jlt, jlt) BPFVM_BY_WIDTH(Jle, jle) BPFVM_BY_WIDTH(Jset, jset) BPFVM_BY_WIDTH(Jsgt, jsgt)
    BPFVM_BY_WIDTH(Jsge, jsge) BPFVM_BY_WIDTH(Jslt, jslt) BPFVM_BY_WIDTH(Jsle, jsle)
    default: return std::nullopt;
  }
}

#undef BPFVM_BY_WIDTH

}  // namespace bpfvm::vm::alu
