// Instruction selection idioms of the optimizing tier's backends: multiplies by constants as
// lea/shift/add forms (x86-64 opt_emitter emit_mul_by_constant; arm64 `add x, x, x, lsl #k`),
// x86-64 movbe for a load and its byte swap (plan_movbe), bit-field extracts (jit/opt/bit_field.hpp:
// bextr, ubfx), each against the interpreter on edge values, and the listing showing the selected
// instructions.
#include <catch2/catch.hpp>

#include <bit>
#include <cstring>

#include "tests/jit/jit_test_support.hpp"
#include "tests/jit/opt_test_support.hpp"
#if defined(__x86_64__)
#include "jit/x86_64/emitter.hpp"
#endif

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

/// An input of 16 bytes: the words a and b.
std::vector<std::uint8_t> two_words(std::uint64_t a, std::uint64_t b) {
  std::vector<std::uint8_t> input(16);
  std::memcpy(input.data(), &a, 8);
  std::memcpy(input.data() + 8, &b, 8);
  return input;
}

/// Listing lines (instructions) starting with `mnemonic` followed by a space.
std::size_t instructions(const std::string& listing, const std::string& mnemonic) {
  return count_of(listing, "\n" + mnemonic + " ");
}

constexpr std::uint64_t kEdgeWords[] = {0, 1, ~0ull, 0x80000000ull, 0x8000000000000000ull, 0x7fffffffull,
                                        0xffffffffull, 0x7fffffffffffffffull, 0x8123456789abcdefull,
                                        0x0000000180000001ull};

/// Runs `program` on the tier against the interpreter on every edge word x (the input: x, then
/// second(x)) and returns the tier's listing.
std::string listing_after_edge_runs(const vm::Program& program, std::uint64_t (*second)(std::uint64_t),
                                    const jit::opt::PassSet& passes = {}) {
  for (const auto x : kEdgeWords) {
    INFO("x " << x);
    check_tier_equals_interpreter(program, two_words(x, second(x)));
  }
  return optimized_listing(program, passes);
}

/// The multiplies the x86-64 backend keeps as imul (emit_mul_by_constant: 3, 5, 9 are a lea; 2^k ± 1
/// a shift and add/sub only for a one-block loop's accumulator) and the arm64 one keeps as MUL
/// ((2^k + 1) << j and 2^k - 1 are ADD/LSL/SUB forms).
bool x86_keeps_mul(std::uint64_t c, bool loop_carried) {
  const auto power = [](std::uint64_t m) { return m > 2 && (m & (m - 1)) == 0; };
  return !(c == 3 || c == 5 || c == 9 || (loop_carried && (power(c - 1) || power(c + 1))));
}
bool arm64_keeps_mul(std::uint64_t c, bool w32) {
  const std::uint64_t m = w32 ? c & 0xffffffffull : c;
  const auto power_below_width = [w32](std::uint64_t v) {
    return v > 1 && (v & (v - 1)) == 0 && std::countr_zero(v) < (w32 ? 32 : 64);
  };
  return m == 0 || !(power_below_width((m >> std::countr_zero(m)) - 1) || (m + 1 > 2 && power_below_width(m + 1)));
}

constexpr std::uint64_t kMulConstants[] = {3, 5, 9, 6, 10, 12, 18, 20, 24, 36, 40, 72, 48, 15, 25, 27, 45, 81,
                                           7, 31, 33, 17, 63, 65, 255, 257, 0x10001, 0x7fffffff, 11, 13, 0x55};
constexpr std::uint64_t kWideMulConstants[] = {0x80000001ull, 0xffffffffull, 0x8000000000000001ull,
                                               0x7fffffffffffffffull, 0xfffffffffffffffdull, 0x9e3779b97f4a7c15ull};

}  // namespace

TEST_CASE("multiplies by constants: lea, shift and add/sub forms", "[jit][opt][idioms]") {
  // r0 mixes, per case, x * c with x = [r1] (32 and 64 bits; wide constants from lddw), then a
  // multiply of [r1+8], which dies there (the result may take x's register).
  std::string text = "ldxdw %r6, [%r1]\nmov %r0, 0\n";
  [[maybe_unused]] std::size_t x86_muls = 0, arm64_muls = 0;
  auto add_case = [&](std::uint64_t c, bool w32) {
    const std::string s = w32 ? "32" : "";
    const bool wide = c > 0x7fffffffull;
    if (wide) text += "lddw %r5, " + std::to_string(c) + "\n";
    text += "mov %r3, %r6\nmul" + s + " %r3, " + (wide ? std::string("%r5") : std::to_string(c)) + "\n";
    text += "mov %r4, %r0\nrsh %r4, 3\nadd %r0, %r4\nxor %r0, %r3\n";
    x86_muls += x86_keeps_mul(w32 ? c & 0xffffffffull : c, false);
    arm64_muls += arm64_keeps_mul(c, w32);
  };
  for (const bool w32 : {false, true}) {
    for (const auto c : kMulConstants) add_case(c, w32);
    for (const auto c : kWideMulConstants)
      if (!w32 || c == 0x80000001ull || c == 0xffffffffull) add_case(c, w32);
  }
  text += "ldxdw %r3, [%r1+8]\nmul %r3, 33\nadd %r0, %r3\nexit\n";
  x86_muls += x86_keeps_mul(33, false);
  arm64_muls += arm64_keeps_mul(33, false);
  const auto program = assemble_program(text, "mul_constants");
  const auto listing = listing_after_edge_runs(program, [](std::uint64_t x) -> std::uint64_t { return x ^ 0x5555; });
  INFO(listing);
#if defined(__x86_64__)
  CHECK(instructions(listing, "imul") == x86_muls);
  CHECK(instructions(listing, "lea") >= 6);
#elif defined(__aarch64__)
  CHECK(instructions(listing, "mul") == arm64_muls);
#endif
}

TEST_CASE("multiplies by constants: a one-block loop's accumulator", "[jit][opt][idioms]") {
  // acc = acc * c + [r1 + 8 * (i & 1)] for i < 5, from acc = [r1]: loop-carried, so x86-64 takes
  // shl and add/sub for 2^k +- 1 (2 cycles on the chain where imul takes 3).
  for (const std::uint64_t c : {31ull, 33ull, 7ull, 17ull, 3ull, 11ull})
    for (const bool w32 : {false, true}) {
      const std::string s = w32 ? "32" : "";
      const std::string text = "ldxdw %r0, [%r1]\nmov %r2, 0\nloop:\nmul" + s + " %r0, " + std::to_string(c) +
                               "\nmov %r3, %r2\nand %r3, 1\nlsh %r3, 3\nmov %r4, %r1\nadd %r4, %r3\nldxdw %r3, [%r4]\n"
                               "add %r0, %r3\nadd %r2, 1\njlt %r2, 5, loop\nexit\n";
      INFO(text);
      const auto program = assemble_program(text, "mul_loop");
      // The loop as written: unrolled (5 trips, 1 peeled) it would be a chain of blocks.
      const auto listing =
          listing_after_edge_runs(program, [](std::uint64_t x) -> std::uint64_t { return ~x; }, {.unroll_loops = false});
      INFO(listing);
#if defined(__x86_64__)
      CHECK(instructions(listing, "imul") == (x86_keeps_mul(w32 ? c & 0xffffffffull : c, true) ? 1u : 0u));
#elif defined(__aarch64__)
      CHECK(instructions(listing, "mul") == (arm64_keeps_mul(c, w32) ? 1u : 0u));
#endif
    }
}

TEST_CASE("movbe: a load and the byte swap of its width right after it", "[jit][opt][idioms]") {
  // Four swaps read their loads whole (be32, be64, bswap32, bswap64 at an odd offset); five must not
  // take movbe: a load read again, a swap narrower than its load, a sign-extending load, a 16-bit
  // swap, a swap of a sum.
  const auto program = assemble_program(
      "mov %r0, 0\n"
      "ldxw %r3, [%r1+0]\nbe32 %r3\nadd %r0, %r3\n"
      "ldxdw %r3, [%r1+8]\nbe64 %r3\nxor %r0, %r3\n"
      "ldxw %r3, [%r1+4]\nbswap32 %r3\nlsh %r3, 1\nadd %r0, %r3\n"
      "ldxdw %r3, [%r1+3]\nbswap64 %r3\nrsh %r3, 1\nxor %r0, %r3\n"
      "ldxw %r3, [%r1+2]\nmov %r5, %r3\nbe32 %r3\nadd %r0, %r3\nlsh %r5, 3\nadd %r0, %r5\n"
      "ldxdw %r3, [%r1+1]\nbe32 %r3\nlsh %r3, 2\nadd %r0, %r3\n"
      "ldxsw %r3, [%r1+5]\nbe32 %r3\nlsh %r3, 4\nxor %r0, %r3\n"
      "ldxh %r3, [%r1+6]\nbe16 %r3\nlsh %r3, 5\nadd %r0, %r3\n"
      "ldxw %r3, [%r1+9]\nadd %r3, 1\nbe32 %r3\nlsh %r3, 6\nxor %r0, %r3\n"
      "exit\n",
      "movbe");
  const auto listing = listing_after_edge_runs(program, [](std::uint64_t x) -> std::uint64_t { return x * 0x9e3779b97f4a7c15ull + 0x80; });
  INFO(listing);
#if defined(__x86_64__)
  CHECK(instructions(listing, "movbe") == (jit::x86_64::host_has_movbe() ? 4u : 0u));
#endif
}

TEST_CASE("bextr: an and and a right shift by constants extracting one bit field", "[jit][opt][idioms]") {
  // Eight extracts become one bextr each on BMI1 hosts (the inner and/shift right before its only
  // reader); seven must not: a mask with a gap, a field shifted out, an inner value read again, widths
  // that differ, an arsh, an operation between, a shift by 0.
  const auto program = assemble_program(
      "ldxdw %r6, [%r1]\nmov %r0, 0\nlddw %r7, 0xf0000000\nlddw %r8, 0x7fffffffffffffff\n"
      // jhash's rotate of a 32-bit value in 64-bit code: (x << 4) | (x & 0xf0000000) >> 28
      "mov %r3, %r6\nand %r3, %r7\nrsh %r3, 28\nmov %r4, %r6\nlsh %r4, 4\nor %r4, %r3\nxor %r0, %r4\n"
      "mov %r3, %r6\nrsh %r3, 16\nand %r3, 0xff\nadd %r0, %r3\n"
      "mov %r3, %r6\nand32 %r3, 0xff00\nrsh32 %r3, 8\nlsh %r3, 3\nadd %r0, %r3\n"
      "mov %r3, %r6\nrsh32 %r3, 24\nand32 %r3, 0xffff\nlsh %r3, 5\nxor %r0, %r3\n"
      "mov %r3, %r6\nrsh %r3, 1\nand %r3, %r8\nadd %r0, %r3\n"
      "mov %r3, %r6\nrsh %r3, 63\nand %r3, 1\nlsh %r3, 7\nxor %r0, %r3\n"
      "mov %r3, %r6\nand %r3, -16\nrsh %r3, 4\nxor %r0, %r3\n"
      "mov %r3, %r6\nrsh %r3, 40\nand %r3, 0x7fffffff\nlsh %r3, 9\nadd %r0, %r3\n"
      // kept
      "mov %r3, %r6\nrsh %r3, 8\nand %r3, 5\nlsh %r3, 11\nadd %r0, %r3\n"
      "mov %r3, %r6\nand %r3, 0xf0\nrsh %r3, 8\nadd %r0, %r3\n"
      "mov %r3, %r6\nand %r3, 0xff0\nmov %r5, %r3\nrsh %r3, 4\nadd %r0, %r3\nlsh %r5, 13\nxor %r0, %r5\n"
      "mov %r3, %r6\nand32 %r3, 0xff0000\nrsh %r3, 16\nlsh %r3, 15\nadd %r0, %r3\n"
      "mov %r3, %r6\nand %r3, 0xf00\narsh %r3, 8\nxor %r0, %r3\n"
      "mov %r3, %r6\nand %r3, 0xfff0\nadd %r0, 1\nrsh %r3, 4\nlsh %r3, 17\nxor %r0, %r3\n"
      "mov %r3, %r6\nand %r3, 0xff\nmov %r5, 0\nrsh %r3, %r5\nlsh %r3, 19\nadd %r0, %r3\n"
      "exit\n",
      "bextr");
  const auto listing = listing_after_edge_runs(program, [](std::uint64_t) -> std::uint64_t { return 0; });
  INFO(listing);
#if defined(__x86_64__)
  CHECK(instructions(listing, "bextr") == (jit::x86_64::host_has_bmi1() ? 8u : 0u));
#elif defined(__aarch64__)
  CHECK(instructions(listing, "ubfx") == 8u);
#endif
}
