// A shift by a constant feeding the next add/sub/and/or/xor, which arm64 selects as one instruction
// with a shifted-register operand (jit/arm64/opt_emitter.cpp plan_shift_folds): every operation,
// shift kind, width and edge count against the interpreter on words with the sign bits set, and
// shifts that must stay on their own (read twice, of another width, by zero). On arm64 the listing
// must show the folded form; elsewhere the same programs check the tier's other backend.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>

#include "tests/jit/jit_test_support.hpp"
#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

/// r0 accumulates, for each case, `a OP (b SHIFT count)` with a = [r1], b = [r1+8]; each step
/// multiplies r0 first so that a wrong case shows whatever the others compute.
std::string program_of(const std::vector<std::string>& steps) {
  std::string text = "ldxdw %r6, [%r1]\nldxdw %r7, [%r1+8]\nmov %r0, 0\n";
  for (const auto& step : steps) text += "mul %r0, 31\n" + step + "add %r0, %r4\n";
  return text + "exit\n";
}

void compare_on_words(const vm::Program& program, std::uint64_t a, std::uint64_t b) {
  std::vector<std::uint8_t> input(16);
  std::memcpy(input.data(), &a, 8);
  std::memcpy(input.data() + 8, &b, 8);
  INFO("a " << a << " b " << b);
  check_tier_equals_interpreter(program, input);
}

/// Listing lines of the given mnemonics with `operands` operands (a folded shift adds one: asmjit
/// lists `orr x12, x11, x4, 5`, the shift's amount without its kind).
[[maybe_unused]] std::size_t lines_with_operands(const std::string& listing, std::initializer_list<const char*> mnemonics,
                                                 std::size_t operands) {
  std::size_t n = 0;
  for (const char* mnemonic : mnemonics)
    for (auto at = listing.find(mnemonic); at != std::string::npos; at = listing.find(mnemonic, at + 1)) {
      const auto line = listing.substr(at + 1, listing.find(';', at) - at - 1);
      if (static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')) + 1 == operands) ++n;
    }
  return n;
}

}  // namespace

TEST_CASE("shifted-register operands: every operation, shift, width and edge count", "[jit][opt][shifted]") {
  std::vector<std::string> steps;
  for (const char* op : {"add", "sub", "and", "or", "xor"})
    for (const char* shift : {"lsh", "rsh", "arsh"})
      for (const bool w32 : {false, true})
        for (const int count : {1, 7, w32 ? 31 : 63}) {
          const std::string s = w32 ? "32" : "";
          // r3 = b + k shifted (k differs per step: no two steps shift one value, which CSE would
          // share); r4 = a op r3, the shift right before it.
          auto shifted = [&] {
            return "mov" + s + " %r3, %r7\nadd" + s + " %r3, " + std::to_string(steps.size()) + "\n" + shift + s +
                   " %r3, " + std::to_string(count) + "\n";
          };
          steps.push_back("mov" + s + " %r4, %r6\n" + shifted() + op + s + " %r4, %r3\n");
          // The shift as the first operand of a commutative operation.
          if (std::string(op) != "sub") steps.push_back(shifted() + op + s + " %r3, %r6\nmov %r4, %r3\n");
        }
  const auto program = assemble_program(program_of(steps), "shifted");
  for (const auto& [a, b] : {std::pair<std::uint64_t, std::uint64_t>{0x8123456789abcdefull, 0xfedcba9876543210ull},
                             {0x0000000080000001ull, 0x80000000fffffffeull},
                             {~0ull, 1}, {1, ~0ull}})
    compare_on_words(program, a, b);
#if defined(__aarch64__)
  const auto listing = optimized_listing(program);
  CHECK(lines_with_operands(listing, {"\nadd ", "\nsub ", "\nand ", "\norr ", "\neor "}, 4) == steps.size());
#endif
}

TEST_CASE("shifts that stay on their own next to an operation", "[jit][opt][shifted]") {
  // Read twice (the shift's value is needed), a 32-bit shift under a 64-bit add (the upper half
  // differs), a shift by 0 and by the width (masked to 0), a register shift.
  const auto program = assemble_program(program_of({
      "mov %r3, %r7\nlsh %r3, 9\nmov %r4, %r6\nadd %r4, %r3\nxor %r4, %r3\n",
      "mov %r3, %r7\nrsh32 %r3, 3\nmov %r4, %r6\nadd %r4, %r3\n",
      "mov %r3, %r7\narsh32 %r3, 5\nmov %r4, %r6\nsub %r4, %r3\n",
      "mov %r3, %r7\nlsh %r3, 0\nmov %r4, %r6\nor %r4, %r3\n",
      "mov %r3, %r7\nrsh %r3, 64\nmov %r4, %r6\nand %r4, %r3\n",
      "mov %r3, %r7\nmov %r5, %r6\nand %r5, 15\nlsh %r3, %r5\nmov %r4, %r6\nadd %r4, %r3\n",
  }), "unshifted");
  for (const auto& [a, b] : {std::pair<std::uint64_t, std::uint64_t>{0x8123456789abcdefull, 0xfedcba9876543210ull},
                             {~0ull, 0x80000001ull}})
    compare_on_words(program, a, b);
}

TEST_CASE("shifted-register operands of a branch's compare", "[jit][opt][shifted]") {
  // r4 = 1, and [r1] + k (also stored to [r1+8]) when a CMP (b shift count) holds: the shift right
  // before the branch becomes its compare's CMP/TST operand on arm64. The arm stores, so the branch
  // stays a branch (a select's compare does not fold).
  std::vector<std::string> steps;
  for (const char* cmp : {"jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset"})
    for (const char* shift : {"lsh", "rsh", "arsh"})
      for (const bool w32 : {false, true}) {
        const std::string s = w32 ? "32" : "", k = std::to_string(steps.size());
        const int count = steps.size() % 3 == 0 ? 1 : steps.size() % 3 == 1 ? 13 : w32 ? 31 : 63;
        steps.push_back("mov %r4, 1\nmov" + s + " %r3, %r7\nadd" + s + " %r3, " + k + "\n" + shift + s + " %r3, " +
                        std::to_string(count) + "\n" + cmp + s + " %r6, %r3, s" + k + "\nja t" + k + "\ns" + k +
                        ":\nldxdw %r4, [%r1]\nadd %r4, " + k + "\nstxdw [%r1+8], %r4\nt" + k + ":\n");
      }
  const auto program = assemble_program(program_of(steps), "shifted_compare");
  for (const auto& [a, b] : {std::pair<std::uint64_t, std::uint64_t>{0x8123456789abcdefull, 0xfedcba9876543210ull},
                             {0x0000000080000001ull, 0x80000000fffffffeull}, {~0ull, 1}, {1, ~0ull}, {0, 0},
                             {0x100, 0x80}, {0x7fffffff, 0x3fffffff}})
    compare_on_words(program, a, b);
#if defined(__aarch64__)
  const auto listing = optimized_listing(program);
  CHECK(lines_with_operands(listing, {"\ncmp ", "\ntst "}, 3) == steps.size());  // every step's shift
#endif
}

TEST_CASE("x86-64: an add of a shift by 1..3 is one scaled lea", "[jit][opt][shifted]") {
  // x + (y << k) and (y << k) + x, k = 1, 2, 3 (and 33, 34, 35 masked by 32 bits: not the same
  // amount, so kept), 32 and 64 bits: the x86-64 backend's plan_scaled_adds makes each one
  // `lea t, [x + y * 2^k]` and the shift emits nothing; the results must be the interpreter's.
  std::vector<std::string> steps;
  std::size_t scaled = 0;
  for (const bool w32 : {false, true})
    for (const int count : {1, 2, 3, 4, 63})
      for (const bool shift_first : {false, true}) {
        const std::string s = w32 ? "32" : "", k = std::to_string(steps.size());
        const std::string shifted = "mov" + s + " %r3, %r7\nadd" + s + " %r3, " + k + "\nlsh" + s + " %r3, " +
                                    std::to_string(w32 && count == 63 ? 31 : count) + "\n";
        if (shift_first) steps.push_back(shifted + "add" + s + " %r3, %r6\nmov %r4, %r3\n");
        else steps.push_back("mov" + s + " %r4, %r6\n" + shifted + "add" + s + " %r4, %r3\n");
        if (count <= 3) ++scaled;
      }
  const auto program = assemble_program(program_of(steps), "scaled_add");
  for (const auto& [a, b] : {std::pair<std::uint64_t, std::uint64_t>{0x8123456789abcdefull, 0xfedcba9876543210ull},
                             {0x0000000080000001ull, 0x80000000fffffffeull}, {~0ull, 1}, {1, ~0ull},
                             {0x7fffffff, 0x3fffffff}})
    compare_on_words(program, a, b);
#if defined(__x86_64__)
  const auto listing = optimized_listing(program);
  std::size_t leas = 0;
  for (const char* scale : {"*2]", "*4]", "*8]"})
    for (auto at = listing.find(scale); at != std::string::npos; at = listing.find(scale, at + 1))
      if (listing.rfind("\nlea ", at) == listing.rfind('\n', at)) ++leas;
  CHECK(leas == scaled);
  std::size_t shifts = 0;
  for (auto at = listing.find("\nshl "); at != std::string::npos; at = listing.find("\nshl ", at + 1)) ++shifts;
  CHECK(shifts == steps.size() - scaled);  // only the shifts by 4 and 63 (31) stay
#endif
}
