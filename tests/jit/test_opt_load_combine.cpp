// Load combining on the optimizing tier (jit/opt/load_combine.cpp): an or/shift tree of byte (or 2-,
// 4-byte) loads that tile 2, 4 or 8 adjacent bytes becomes one load (little-endian order) or one load
// and a byte swap (big-endian order, `p[0] << 8 | p[1]`), and trees that do not read exactly those
// bytes at the root's position stay as they are. Every program also runs on the tier with the pass on
// and off against the checked interpreter (r0 and memory).
#include <catch2/catch.hpp>

#include <string>

#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

// r4 = the input's address, read back from memory (r1, the kernel ABI's context pointer, is never
// a combined load's base): stored at +56, a helper call between so the load is not forwarded, and
// the word cleared at the end (kEpilogue) so both engines leave the same memory.
const std::string kPrologue = "mov %r6, %r1\nstxdw [%r6+56], %r6\ncall 5\nldxdw %r4, [%r6+56]\n";
const std::string kEpilogue = "stdw [%r6+56], 0\nexit\n";

// clang's unaligned 8-byte read: bytes 0..7 of [r4+base], little-endian, into r0.
std::string le64_tree(int base) {
  auto b = [&](int k) { return std::to_string(base + k); };
  return "ldxb %r0, [%r4+" + b(1) + "]\nlsh %r0, 8\nldxb %r3, [%r4+" + b(0) + "]\nor %r0, %r3\n"
         "ldxb %r3, [%r4+" + b(2) + "]\nlsh %r3, 16\nldxb %r5, [%r4+" + b(3) + "]\nlsh %r5, 24\nor %r5, %r3\n"
         "or %r5, %r0\n"
         "ldxb %r0, [%r4+" + b(5) + "]\nlsh %r0, 8\nldxb %r3, [%r4+" + b(4) + "]\nor %r0, %r3\n"
         "ldxb %r3, [%r4+" + b(6) + "]\nlsh %r3, 16\nldxb %r7, [%r4+" + b(7) + "]\nlsh %r7, 24\nor %r7, %r3\n"
         "or %r7, %r0\nlsh %r7, 32\nor %r7, %r5\nmov %r0, %r7\n";
}

struct LoadCounts {
  int narrow = 0;  // live loads of 1, 2 or 4 bytes
  int wide = 0;    // live 8-byte loads but the prologue's pointer reload
  int swaps = 0;   // live byte swaps
};

LoadCounts counts(const vm::Program& program, bool pass_on, jit::Variant variant = jit::Variant::Fast) {
  jit::opt::PassSet passes;
  passes.combine_loads = pass_on;
  const auto fn = optimized_function(program, test_helpers(), passes, {}, variant);
  LoadCounts c;
  for (const auto& i : fn.values) {
    if (i.dead) continue;
    if (i.op == jit::opt::Op::Load) (i.bits == 8 ? c.wide : c.narrow) += 1;
    if (i.op == jit::opt::Op::Unary && i.kind == isa::Kind::Bswap) ++c.swaps;
  }
  c.wide -= 1;  // the prologue's ldxdw of the pointer
  return c;
}

void run_against_interpreter(const vm::Program& program) {
  for (std::uint64_t w : {0x0123456789abcdefull, 0xff00fe01fd02fc03ull, 0x8080808080808080ull, 0ull})
    run_pass_against_interpreter(program, &jit::opt::PassSet::combine_loads,
                                 {w, ~w, w * 0x9e3779b97f4a7c15ull, w ^ 0x5555, w + 1, w >> 3, w << 5});
}

}  // namespace

TEST_CASE("load combining: clang's byte tree of an unaligned u64 is one 8-byte load", "[jit][opt][load_combine]") {
  for (int base : {0, 3, 17}) {
    INFO("base +" << base);
    const auto program = assemble_program(kPrologue + le64_tree(base) + kEpilogue);
    const auto off = counts(program, false);
    CHECK(off.narrow == 8);
    CHECK(off.wide == 0);
    const auto on = counts(program, true);
    CHECK(on.narrow == 0);
    CHECK(on.wide == 1);
    run_against_interpreter(program);
  }
  // The native code has no byte load left either.
  const auto listing = optimized_listing(assemble_program(kPrologue + le64_tree(5) + kEpilogue));
#if defined(__x86_64__)
  CHECK(count_of(listing, "movzx") == 0);
#elif defined(__aarch64__)
  CHECK(count_of(listing, "ldrb") == 0);
#endif
}

namespace {

/// A tree the pass combines (or must leave alone): live narrow loads with the pass off and on, byte swaps with it on.
struct Combined {
  const char* name;
  std::string body;
  int narrow_off, narrow_on, swaps_on;
};

void check_combined(const Combined& c) {
  INFO(c.name);
  const auto program = assemble_program(kPrologue + c.body + kEpilogue);
  CHECK(counts(program, false).narrow == c.narrow_off);
  CHECK(counts(program, false).swaps == 0);
  const auto on = counts(program, true);
  CHECK(on.narrow == c.narrow_on);
  CHECK(on.swaps == c.swaps_on);
  run_against_interpreter(program);
}

std::string be64_tree() {
  std::string text = "ldxb %r0, [%r4+0]\n";
  for (int k = 1; k < 8; ++k) text += "lsh %r0, 8\nldxb %r3, [%r4+" + std::to_string(k) + "]\nor %r0, %r3\n";
  return text;
}

}  // namespace

TEST_CASE("load combining: 32-bit trees, 2-byte leaves and indexed addresses", "[jit][opt][load_combine]") {
  const Combined cases[] = {
      {"alu32: four bytes with lsh32/or32 are one zero-extended 4-byte load",
       "ldxb %r0, [%r4+9]\nlsh32 %r0, 8\nldxb %r3, [%r4+8]\nor32 %r0, %r3\nldxb %r3, [%r4+10]\nlsh32 %r3, 16\n"
       "or32 %r0, %r3\nldxb %r3, [%r4+11]\nlsh32 %r3, 24\nor32 %r0, %r3\n", 4, 1, 0},
      {"two 2-byte halves", "ldxh %r0, [%r4+22]\nlsh %r0, 16\nldxh %r3, [%r4+20]\nor %r0, %r3\n", 2, 1, 0},
      {"three bytes in clang's order: the first two are a 2-byte load",
       "ldxb %r0, [%r4+1]\nlsh %r0, 8\nldxb %r3, [%r4+0]\nor %r0, %r3\nldxb %r3, [%r4+2]\nlsh %r3, 16\nor %r0, %r3\n",
       3, 2, 0},
      {"an indexed base: [r4 + r8 + k] with the same index (the index byte stays)",
       "ldxb %r8, [%r6+0]\nand %r8, 15\nadd %r8, %r4\nldxb %r0, [%r8+1]\nlsh %r0, 8\nldxb %r3, [%r8+0]\nor %r0, %r3\n",
       3, 2, 0},
  };
  for (const auto& c : cases) check_combined(c);
}

TEST_CASE("load combining: big-endian trees are one load and a byte swap", "[jit][opt][load_combine]") {
  const Combined cases[] = {
      {"p[0] << 8 | p[1]", "ldxb %r0, [%r4+12]\nlsh %r0, 8\nldxb %r3, [%r4+13]\nor %r0, %r3\n", 2, 1, 1},
      {"four bytes, most significant first, in 32-bit operations",
       "ldxb %r0, [%r4+30]\nlsh32 %r0, 24\nldxb %r3, [%r4+31]\nlsh32 %r3, 16\nor32 %r0, %r3\nldxb %r3, [%r4+32]\n"
       "lsh32 %r3, 8\nor32 %r0, %r3\nldxb %r3, [%r4+33]\nor32 %r0, %r3\n", 4, 1, 1},
      {"eight bytes, most significant first (no narrow load left)", be64_tree(), 8, 0, 1},
      {"ntohs halves: be16(2 bytes at 6) << 16 | be16(2 bytes at 8)",
       "ldxh %r0, [%r4+6]\nbe16 %r0\nlsh %r0, 16\nldxh %r3, [%r4+8]\nbe16 %r3\nor %r0, %r3\n", 2, 1, 1},
      {"ntohs halves in 32-bit operations, the low half first",
       "ldxh %r3, [%r4+3]\nbe16 %r3\nldxh %r0, [%r4+1]\nbe16 %r0\nlsh32 %r0, 16\nor32 %r3, %r0\nmov %r0, %r3\n", 2, 1, 1},
      {"ntohl halves: be32(4 bytes at 16) << 32 | be32(4 bytes at 20) (no narrow load left)",
       "ldxw %r0, [%r4+16]\nbe32 %r0\nlsh %r0, 32\nldxw %r3, [%r4+20]\nbe32 %r3\nor %r0, %r3\n", 2, 0, 1},
      {"a be16 leaf and two bytes",
       "ldxh %r0, [%r4+40]\nbe16 %r0\nlsh %r0, 16\nldxb %r3, [%r4+42]\nlsh %r3, 8\nor %r0, %r3\nldxb %r3, [%r4+43]\n"
       "or %r0, %r3\n", 3, 1, 1},
      {"four ntohs quarters of 8 bytes, 2-byte aligned offsets",
       "ldxh %r0, [%r4+2]\nbe16 %r0\nlsh %r0, 48\nldxh %r3, [%r4+4]\nbe16 %r3\nlsh %r3, 32\nor %r0, %r3\n"
       "ldxh %r3, [%r4+6]\nbe16 %r3\nlsh %r3, 16\nor %r0, %r3\nldxh %r3, [%r4+8]\nbe16 %r3\nor %r0, %r3\n", 4, 0, 1},
  };
  for (const auto& c : cases) check_combined(c);
  // A 2-byte load is zero above bit 16: the swap needs no zero-extension after it.
  const auto listing = optimized_listing(assemble_program(kPrologue + cases[0].body + kEpilogue));
#if defined(__x86_64__)
  CHECK(count_of(listing, "rol ") == 1);
  CHECK(count_of(listing, "movzx") == 1);  // the load
#elif defined(__aarch64__)
  CHECK(count_of(listing, "rev16") == 1);
  CHECK(count_of(listing, "uxth") == 0);
#endif
  // Swaps the backends shorten or keep whole: be16 of a 2-byte load, of a 4-byte load, of sums.
  for (const char* body : {"ldxh %r0, [%r4+5]\nbe16 %r0\n", "ldxw %r0, [%r4+5]\nbe16 %r0\n",
                           "ldxh %r0, [%r4+5]\nadd %r0, 0x1234567\nbswap16 %r0\n",
                           "ldxb %r0, [%r4+5]\nldxb %r3, [%r4+9]\nlsh %r3, 8\nadd %r0, %r3\nbswap16 %r0\n"}) {
    INFO(body);
    run_against_interpreter(assemble_program(kPrologue + body + kEpilogue));
  }
}

TEST_CASE("load combining: trees that do not read one tiled range stay narrow", "[jit][opt][load_combine]") {
  const Combined cases[] = {
      {"three bytes (no 3-byte load; no pair of them in one subtree)",
       "ldxb %r0, [%r4+2]\nlsh %r0, 16\nldxb %r3, [%r4+0]\nor %r0, %r3\nldxb %r3, [%r4+1]\nlsh %r3, 8\nor %r0, %r3\n", 3, 3, 0},
      {"a missing byte (0, 1, 3 of four; 0 and 3 first)",
       "ldxb %r0, [%r4+3]\nlsh %r0, 24\nldxb %r3, [%r4+0]\nor %r0, %r3\nldxb %r3, [%r4+1]\nlsh %r3, 8\nor %r0, %r3\n", 3, 3, 0},
      {"a byte shifted to the wrong place",
       "ldxb %r0, [%r4+1]\nlsh %r0, 16\nldxb %r3, [%r4+0]\nor %r0, %r3\n", 2, 2, 0},
      {"overlapping offsets (2 bytes at 0, a byte at 1)",
       "ldxh %r0, [%r4+0]\nldxb %r3, [%r4+1]\nlsh %r3, 16\nor %r0, %r3\nldxb %r3, [%r4+3]\nlsh %r3, 24\nor %r0, %r3\n",
       3, 3, 0},
      {"one byte twice", "ldxb %r0, [%r4+0]\nlsh %r0, 8\nor %r0, %r0\n", 1, 1, 0},
      {"a store between the loads (through r6: the same address, another root)",
       "ldxb %r0, [%r4+1]\nlsh %r0, 8\nstb [%r6+0], 0x5a\nldxb %r3, [%r4+0]\nor %r0, %r3\n", 2, 2, 0},
      {"a store after the loads, before the or",
       "ldxb %r0, [%r4+1]\nlsh %r0, 8\nldxb %r3, [%r4+0]\nstb [%r6+1], 0x5a\nor %r0, %r3\n", 2, 2, 0},
      {"a helper call between the loads",
       "ldxb %r7, [%r4+1]\nlsh %r7, 8\ncall 5\nldxb %r3, [%r4+0]\nor %r7, %r3\nmov %r0, %r7\n", 2, 2, 0},
      {"different bases (r4 + 0 or 1 from the input)",
       "ldxb %r8, [%r6+0]\nand %r8, 1\nmov %r5, %r4\nadd %r5, %r8\n"
       "ldxb %r0, [%r4+1]\nlsh %r0, 8\nldxb %r3, [%r5+0]\nor %r0, %r3\n", 3, 3, 0},
      {"a sign-extending leaf",
       "ldxb %r0, [%r4+1]\nlsh %r0, 8\nldxsb %r3, [%r4+0]\nor %r0, %r3\n", 2, 2, 0},
      {"a 32-bit or that drops the upper word (tiled offsets, right shifts)",
       "ldxw %r0, [%r4+4]\nlsh %r0, 32\nldxw %r3, [%r4+0]\nor32 %r0, %r3\n", 2, 2, 0},
      {"a 32-bit shift that drops a byte (bytes 4..5 at bit 32 through lsh32 24, lsh 8)",
       "ldxh %r0, [%r4+4]\nlsh32 %r0, 24\nlsh %r0, 8\nldxb %r3, [%r4+0]\nor %r0, %r3\nldxb %r3, [%r4+1]\nlsh %r3, 8\n"
       "or %r0, %r3\nldxh %r3, [%r4+2]\nlsh %r3, 16\nor %r0, %r3\nldxh %r3, [%r4+6]\nlsh %r3, 48\nor %r0, %r3\n",
       5, 5, 0},
      {"be16 leaves in little-endian places (2 bytes at 2 swapped, shifted 16, over 2 bytes at 0)",
       "ldxh %r0, [%r4+2]\nbe16 %r0\nlsh %r0, 16\nldxh %r3, [%r4+0]\nbe16 %r3\nor %r0, %r3\n", 2, 2, 0},
      {"a be16 of a 4-byte load (its upper bytes dropped) where a be32 would tile 8 bytes",
       "ldxw %r0, [%r4+0]\nbe16 %r0\nlsh %r0, 32\nldxw %r3, [%r4+4]\nbe32 %r3\nor %r0, %r3\n", 2, 2, 0},
      {"a be16 leaf under a byte leaf's big-endian place (bytes 0..1 swapped at bit 8)",
       "ldxh %r0, [%r4+0]\nbe16 %r0\nlsh %r0, 8\nldxb %r3, [%r4+2]\nor %r0, %r3\nldxb %r3, [%r4+3]\nlsh %r3, 24\n"
       "or %r0, %r3\n", 3, 3, 0},
      {"loads from r1 itself (the context pointer in the kernel ABI)",
       "ldxb %r0, [%r1+1]\nlsh %r0, 8\nldxb %r3, [%r1+0]\nor %r0, %r3\n", 2, 2, 0},
  };
  for (const auto& c : cases) check_combined(c);
}

TEST_CASE("load combining: checked builds keep every narrow access", "[jit][opt][load_combine][checked]") {
  // A checked access faults at its own pc for its own bytes: a tree running past the input's end
  // faults at the first byte load that leaves it, as the checked interpreter does.
  const auto program = assemble_program(kPrologue + le64_tree(0) + kEpilogue);
  const auto checked = counts(program, true, jit::Variant::Checked);
  CHECK(checked.narrow == 8);
  CHECK(checked.wide == 0);
}
