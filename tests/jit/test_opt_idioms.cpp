// Instruction selection idioms of the optimizing tier's backends: multiplies by constants as
// lea/shift/add forms (x86-64 opt_emitter emit_mul_by_constant; arm64 `add x, x, x, lsl #k`),
// x86-64 movbe for a load and its byte swap (plan_movbe), bit-field extracts (jit/opt/bit_field.hpp:
// bextr, ubfx), each against the interpreter on edge values, and the listing showing the selected
// instructions.
#include <catch2/catch.hpp>

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

struct MulCase {
  std::uint64_t c;
  bool w32;
  bool x86_mul, arm64_mul;  // whether each backend keeps a multiply instruction
};

}  // namespace

TEST_CASE("multiplies by constants: lea, shift and add/sub forms", "[jit][opt][idioms]") {
  // r0 mixes, per case, x * c with x = [r1]; a last case multiplies [r1+8], which dies there (the
  // result may take x's register). Wide constants come from lddw.
  std::vector<MulCase> cases;
  for (const bool w32 : {false, true}) {
    // arm64 folds (2^k + 1) << j and 2^k - 1 only: 25, 27, 45, 81 keep MUL there.
    for (std::uint64_t c : {3, 5, 9, 6, 10, 12, 18, 20, 24, 36, 40, 72, 48, 15})
      cases.push_back({c, w32, false, false});
    for (std::uint64_t c : {25, 27, 45, 81}) cases.push_back({c, w32, false, true});
    for (std::uint64_t c : {7, 31, 33, 17, 63, 65, 255, 257, 0x10001, 0x7fffffff}) cases.push_back({c, w32, false, false});
    for (std::uint64_t c : {11, 13, 0x55}) cases.push_back({c, w32, true, true});
  }
  cases.push_back({0x80000001ull, true, false, false});            // 2^31 + 1, 32 bits: shl 31
  cases.push_back({0xffffffffull, false, false, false});           // 2^32 - 1
  cases.push_back({0xffffffffull, true, true, true});              // -1 in 32 bits: kept
  cases.push_back({0x8000000000000001ull, false, false, false});   // 2^63 + 1
  cases.push_back({0x7fffffffffffffffull, false, false, false});   // 2^63 - 1
  cases.push_back({0xfffffffffffffffdull, false, true, true});     // -3: kept
  cases.push_back({0x9e3779b97f4a7c15ull, false, true, true});     // accum8's golden ratio: kept

  std::string text = "ldxdw %r6, [%r1]\nmov %r0, 0\n";
  [[maybe_unused]] std::size_t x86_muls = 0, arm64_muls = 0;
  for (const auto& m : cases) {
    const std::string s = m.w32 ? "32" : "";
    const bool wide = m.c > 0x7fffffffull;
    if (wide) text += "lddw %r5, " + std::to_string(m.c) + "\n";
    text += "mov %r3, %r6\nmul" + s + " %r3, " + (wide ? std::string("%r5") : std::to_string(m.c)) + "\n";
    text += "mov %r4, %r0\nrsh %r4, 3\nadd %r0, %r4\nxor %r0, %r3\n";
    x86_muls += m.x86_mul;
    arm64_muls += m.arm64_mul;
  }
  text += "ldxdw %r3, [%r1+8]\nmul %r3, 33\nadd %r0, %r3\nexit\n";
  const auto program = assemble_program(text, "mul_constants");
  for (const auto a : kEdgeWords) {
    INFO("x " << a);
    check_tier_equals_interpreter(program, two_words(a, a ^ 0x5555));
  }
  const auto listing = optimized_listing(program);
  INFO(listing);
#if defined(__x86_64__)
  CHECK(instructions(listing, "imul") == x86_muls);
  CHECK(instructions(listing, "lea") >= 18 * 2);
#elif defined(__aarch64__)
  CHECK(instructions(listing, "mul") == arm64_muls);
#endif
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
  for (const auto a : kEdgeWords) {
    INFO("words " << a);
    check_tier_equals_interpreter(program, two_words(a, a * 0x9e3779b97f4a7c15ull + 0x80));
  }
#if defined(__x86_64__)
  const auto listing = optimized_listing(program);
  INFO(listing);
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
  for (const auto a : kEdgeWords) {
    INFO("word " << a);
    check_tier_equals_interpreter(program, two_words(a, 0));
  }
#if defined(__x86_64__)
  const auto listing = optimized_listing(program);
  INFO(listing);
  CHECK(instructions(listing, "bextr") == (jit::x86_64::host_has_bmi1() ? 8u : 0u));
#elif defined(__aarch64__)
  const auto listing = optimized_listing(program);
  INFO(listing);
  CHECK(instructions(listing, "ubfx") == 8u);
#endif
}
