// Loop unrolling on the optimizing tier (jit/opt/loop_unroll.cpp): small loops whose counter gives a
// trip count are copied 4 or 2 times (each copy keeps its data-dependent exits, the counter's test
// stays in the last one), trip count mod factor iterations peeled before the loop, and loops that
// must stay as they are (a single trip,
// unknown bounds, calls, large bodies, a counter tested on some iterations only, a loop value read
// where no single exit dominates, checked builds) do. Every program also runs on the tier, pass on
// and off, against the checked interpreter on inputs that leave the loop at each iteration.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

struct Shape {
  int loads = 0;     // live loads
  int branches = 0;  // live conditional branches
  std::string text;  // the IR
};

Shape shape(const vm::Program& program, bool pass_on, jit::Variant variant = jit::Variant::Fast) {
  jit::opt::PassSet passes;
  passes.unroll_loops = pass_on;
  const auto fn = optimized_function(program, helpers_with_store(), passes, {}, variant);
  Shape s;
  for (const auto& i : fn.values) {
    if (i.dead) continue;
    s.loads += i.op == jit::opt::Op::Load;
    s.branches += i.op == jit::opt::Op::Branch;
  }
  s.text = jit::opt::to_text(fn);
  return s;
}

/// 64 input bytes: 1..255 everywhere but a 0 at `zero` (none when it is past the end).
std::vector<std::uint8_t> input_with_zero_at(std::size_t zero) {
  std::vector<std::uint8_t> input(64);
  for (std::size_t k = 0; k < input.size(); ++k) input[k] = static_cast<std::uint8_t>(k * 37 % 255 + 1);
  if (zero < input.size()) input[zero] = 0;
  return input;
}

/// The program on the tier with the pass on and off, against the checked interpreter, on inputs whose
/// first zero byte is at 0, 1, 2, ... 40 (every iteration of a loop over up to 32 bytes exits once).
void run_against_interpreter(const vm::Program& program) {
  const auto helpers = helpers_with_store();
  for (std::size_t zero = 0; zero <= 40; ++zero)
    for (bool on : {true, false}) {
      INFO("zero byte at " << zero << ", pass " << (on ? "on" : "off"));
      jit::JitOptions jo;
      jo.passes.unroll_loops = on;
      check_tier_equals_interpreter(program, input_with_zero_at(zero), &helpers, jo);
    }
}

/// strlen over at most `bound` bytes, the counter stepped after the byte test (clang's shape).
std::string strlen_loop(int bound) {
  return "mov %r0, 0\n"
         "loop:\n"
         "mov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\n"
         "jeq %r3, 0, out\n"
         "add %r0, 1\n"
         "jlt %r0, " + std::to_string(bound) + ", loop\n"
         "out:\n"
         "exit\n";
}

/// A loop that must be copied: live loads with the pass off and on.
void check_unrolled(const std::string& name, const std::string& text, int loads_off, int loads_on) {
  INFO(name);
  const auto program = assemble_program(text);
  const auto off = shape(program, false), on = shape(program, true);
  INFO(on.text);
  CHECK(off.loads == loads_off);
  CHECK(on.loads == loads_on);
  run_against_interpreter(program);
}

void check_kept(const std::string& name, const std::string& text, jit::Variant variant = jit::Variant::Fast) {
  INFO(name);
  const auto program = assemble_program(text);
  const auto on = shape(program, true, variant);
  INFO(on.text);
  CHECK(on.text == shape(program, false, variant).text);
  run_against_interpreter(program);
}

}  // namespace

TEST_CASE("unroll: a counted loop with a data-dependent exit is copied, each copy testing its byte",
          "[jit][opt][unroll]") {
  // 32 and 12 trips: 4 copies; 6: 2 copies. Each copy keeps its `jeq r3, 0`; the counter's test is
  // in the last copy only (3 of 4 counter branches gone: 4 byte tests + 1 counter test).
  for (int bound : {32, 12, 6}) {
    const int factor = bound % 4 == 0 ? 4 : 2;
    const auto program = assemble_program(strlen_loop(bound));
    const auto on = shape(program, true);
    INFO("bound " << bound << "\n" << on.text);
    CHECK(on.loads == factor);
    CHECK(on.branches == factor + 1);
    CHECK(shape(program, false).branches == 2);
    run_against_interpreter(program);
  }
  // The native code reads bytes at r + 1, r + 2, r + 3 (address folding of the copies' `n + k`).
  const auto listing = optimized_listing(assemble_program(strlen_loop(32)));
#if defined(__x86_64__)
  CHECK(count_of(listing, "movzx") == 4);
#elif defined(__aarch64__)
  CHECK(count_of(listing, "ldrb") == 4);
#endif
}

TEST_CASE("unroll: counters of both widths, down-counting, phis swapping, a diamond inside, values read after",
          "[jit][opt][unroll]") {
  check_unrolled("sum of 12 bytes, read after the loop",
                 "mov %r0, 0\nmov %r4, 0\n"
                 "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\nadd %r4, %r3\nadd %r0, 1\njne %r0, 12, loop\n"
                 "mov %r0, %r4\nmul %r0, 3\nexit\n",
                 1, 4);
  check_unrolled("a 32-bit counter wrapping through 0: 0xfffffffe .. 2, 4 trips",
                 "mov32 %r0, -2\nmov %r4, 0\n"
                 "loop:\nmov %r2, %r1\nmov32 %r5, %r0\nand %r5, 15\nadd %r2, %r5\nldxb %r3, [%r2+0]\n"
                 "jeq %r3, 0, out\nadd %r4, %r3\nadd32 %r0, 1\njne32 %r0, 2, loop\n"
                 "out:\nmov %r0, %r4\nexit\n",
                 1, 4);
  check_unrolled("a counter from 8 by 2 tested as i - 8 < 24 (csum16's shape): 12 trips",
                 "mov %r0, 8\nmov %r4, 0\n"
                 "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\njeq %r3, 0, out\nadd %r4, %r3\n"
                 "add %r0, 2\nmov %r5, %r0\nadd %r5, -8\njlt %r5, 24, loop\n"
                 "out:\nmov %r0, %r4\nexit\n",
                 1, 4);
  check_unrolled("counting down 10 .. 1 with a signed test: 2 copies",
                 "mov %r0, 10\nmov %r4, 7\n"
                 "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\njeq %r3, 0, out\nmul %r4, 31\nadd %r4, %r3\n"
                 "add %r0, -1\njsgt %r0, 0, loop\n"
                 "out:\nmov %r0, %r4\nexit\n",
                 1, 2);
  check_unrolled("Fibonacci phis swapping each iteration, 8 trips, the counter tested before its step",
                 "mov %r6, 0\nmov %r7, 1\nmov %r0, 0\n"
                 "loop:\nmov %r8, %r1\nadd %r8, %r0\nldxb %r8, [%r8+3]\n"
                 "mov %r3, %r6\nadd %r3, %r7\nxor %r3, %r8\nmov %r6, %r7\nmov %r7, %r3\n"
                 "mov %r2, %r0\nadd %r0, 1\njlt %r2, 7, loop\n"
                 "mov %r0, %r6\nlsh %r0, 32\nor %r0, %r7\nexit\n",
                 1, 4);
  check_unrolled("a swap diamond inside (sort's inner loop), 16 trips, stores kept in order",
                 "mov %r0, 0\n"
                 "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\nldxb %r4, [%r2+1]\njle %r3, %r4, next\n"
                 "stxb [%r2+0], %r4\nstxb [%r2+1], %r3\n"
                 "next:\nadd %r0, 1\njne %r0, 16, loop\n"
                 "ldxdw %r0, [%r1+0]\nldxdw %r3, [%r1+8]\nxor %r0, %r3\nexit\n",
                 2 + 2, 4 * 2 + 2);
}

namespace {

/// A nest whose inner loop runs `inner_trips` times: that many byte loads once copied (and peeled),
/// each testing its byte, plus the inner and outer counter tests.
void check_nest(int inner_trips, int copies) {
  const auto program = assemble_program(
      "mov %r6, 0\nmov %r0, 0\n"
      "outer:\nmov %r7, 0\nmov %r8, %r1\nadd %r8, %r6\n"
      "inner:\nmov %r2, %r8\nadd %r2, %r7\nldxb %r3, [%r2+0]\njeq %r3, 0, found\nadd %r7, 1\njne %r7, " +
      std::to_string(inner_trips) + ", inner\n"
      "found:\nmul %r0, 33\nadd %r0, %r7\nadd %r6, 4\njlt %r6, 32, outer\nexit\n");
  const auto on = shape(program, true);
  INFO(inner_trips << " inner trips\n" << on.text);
  CHECK(on.loads == copies);
  CHECK(on.branches == copies + 1 + 1);
  run_against_interpreter(program);
}

}  // namespace

TEST_CASE("unroll: the inner loop of a nest is copied, the outer one is not", "[jit][opt][unroll]") {
  check_nest(8, 4);
}

TEST_CASE("unroll: loops that stay as they are", "[jit][opt][unroll]") {
  check_kept("a single trip", strlen_loop(1));
  check_kept("a bound read from the input",
             "ldxb %r5, [%r1+40]\nand %r5, 31\nmov %r0, 0\n"
             "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\njeq %r3, 0, out\nadd %r0, 1\njlt %r0, %r5, loop\n"
             "out:\nexit\n");
  check_kept("a counter stepped by a loaded amount",
             "ldxb %r5, [%r1+40]\nand %r5, 1\nadd %r5, 1\nmov %r0, 0\n"
             "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\njeq %r3, 0, out\nadd %r0, %r5\njlt %r0, 32, loop\n"
             "out:\nexit\n");
  check_kept("a helper call in the body",
             "mov %r6, %r1\nmov %r7, 0\nmov %r8, 0\n"
             "loop:\nmov %r2, %r6\nadd %r2, %r7\nldxb %r3, [%r2+0]\nadd %r8, %r3\ncall 5\nadd %r7, 1\njne %r7, 8, loop\n"
             "mov %r0, %r8\nexit\n");
  std::string large = "mov %r0, 0\nmov %r4, 0\nloop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\n";
  for (int k = 0; k < 16; ++k) large += "mul %r4, 3\nxor %r4, %r3\n";
  large += "add %r0, 1\njne %r0, 16, loop\nmov %r0, %r4\nexit\n";
  check_kept("a body of 37 instructions", large);
  check_kept("the counter tested on one arm only (the latch's bound read from the input)",
             "ldxb %r5, [%r1+41]\nand %r5, 31\nadd %r5, 1\nmov %r0, 0\nmov %r4, 0\n"
             "loop:\nmov %r2, %r1\nadd %r2, %r4\nldxb %r3, [%r2+0]\nadd %r4, 1\njeq %r3, 0, skip\nadd %r0, 1\n"
             "jeq %r0, 8, out\nskip:\njlt %r4, %r5, loop\n"
             "out:\nlsh %r0, 8\nor %r0, %r4\nexit\n");
  check_kept("a loop value read after two exits join (no single exit dominates the read)",
             "mov %r0, 0\nmov %r4, 0\n"
             "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\nadd %r4, %r3\njeq %r3, 0, zero\n"
             "add %r0, 1\njne %r0, 16, loop\nja join\n"
             "zero:\nadd %r0, 100\n"
             "join:\nmov %r5, %r4\nlsh %r5, 16\nadd %r0, %r5\nexit\n");
  check_kept("a checked build", strlen_loop(32), jit::Variant::Checked);
}

TEST_CASE("unroll: a trip count the factor does not divide peels the remainder before the loop",
          "[jit][opt][unroll]") {
  // 7 and 31 trips: 3 peeled copies + 4 in the loop; 3 trips: 1 + 2; 5: 1 + 4. Every copy keeps its
  // byte test, the counter's test is left in one loop copy (the peeled ones run before it can hold).
  for (int bound : {7, 31, 3, 5, 13}) {
    const int factor = bound >= 4 ? 4 : 2, copies = factor + bound % factor;
    const auto program = assemble_program(strlen_loop(bound));
    const auto on = shape(program, true);
    INFO("bound " << bound << "\n" << on.text);
    CHECK(on.loads == copies);
    CHECK(on.branches == copies + 1);
    run_against_interpreter(program);
  }
}

TEST_CASE("unroll: peeled copies carry phis, reads after the loop, stores and nests",
          "[jit][opt][unroll]") {
  check_unrolled("sum of 13 bytes, read after the loop: 1 peeled",
                 "mov %r0, 0\nmov %r4, 0\n"
                 "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\nadd %r4, %r3\nadd %r0, 1\njne %r0, 13, loop\n"
                 "mov %r0, %r4\nmul %r0, 3\nexit\n",
                 1, 5);
  check_unrolled("a sum read after a data-dependent exit, 11 trips: 3 peeled",
                 "mov %r0, 0\nmov %r4, 5\n"
                 "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\njeq %r3, 0, out\nmul %r4, 7\nadd %r4, %r3\n"
                 "add %r0, 1\njlt %r0, 11, loop\n"
                 "out:\nlsh %r4, 8\nadd %r4, %r0\nmov %r0, %r4\nexit\n",
                 1, 7);
  check_unrolled("Fibonacci phis swapping, 9 trips: the loop's phis start from the peeled copy's values",
                 "mov %r6, 0\nmov %r7, 1\nmov %r0, 0\n"
                 "loop:\nmov %r8, %r1\nadd %r8, %r0\nldxb %r8, [%r8+3]\n"
                 "mov %r3, %r6\nadd %r3, %r7\nxor %r3, %r8\nmov %r6, %r7\nmov %r7, %r3\n"
                 "mov %r2, %r0\nadd %r0, 1\njlt %r2, 8, loop\n"
                 "mov %r0, %r6\nlsh %r0, 32\nor %r0, %r7\nexit\n",
                 1, 5);
  check_unrolled("a 32-bit counter wrapping through 0: 0xfffffffd .. 2, 5 trips",
                 "mov32 %r0, -3\nmov %r4, 0\n"
                 "loop:\nmov %r2, %r1\nmov32 %r5, %r0\nand %r5, 15\nadd %r2, %r5\nldxb %r3, [%r2+0]\n"
                 "jeq %r3, 0, out\nmul %r4, 3\nadd %r4, %r3\nadd32 %r0, 1\njne32 %r0, 2, loop\n"
                 "out:\nmov %r0, %r4\nexit\n",
                 1, 5);
  check_unrolled("sort's swap diamond, 31 trips: 3 peeled, stores in order",
                 "mov %r0, 0\n"
                 "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\nldxb %r4, [%r2+1]\njle %r3, %r4, next\n"
                 "stxb [%r2+0], %r4\nstxb [%r2+1], %r3\n"
                 "next:\nadd %r0, 1\njne %r0, 31, loop\n"
                 "ldxdw %r0, [%r1+0]\nldxdw %r3, [%r1+8]\nxor %r0, %r3\nldxdw %r3, [%r1+24]\nxor %r0, %r3\nexit\n",
                 2 + 3, 7 * 2 + 3);
  check_unrolled("a loop entered from a branch whose other arm is the loop's exit, 7 trips by 3",
                 "mov %r0, 0\nmov %r4, 0\nldxb %r5, [%r1+20]\njeq %r5, 0, out\n"
                 "loop:\nmov %r2, %r1\nadd %r2, %r0\nldxb %r3, [%r2+0]\njeq %r3, 0, out\nadd %r4, %r3\n"
                 "add %r0, 3\njlt %r0, 21, loop\n"
                 "out:\nlsh %r4, 8\nor %r0, %r4\nexit\n",
                 2, 8);
  {
    // A stack array read at a scaled index ([r10 + (i << 2) - 64], indexed before unrolling): the peeled
    // copies' constant indexes move into the displacement, times 4.
    std::string text;
    for (int k = 0; k < 8; ++k)
      text += "ldxw %r2, [%r1+" + std::to_string(4 * k) + "]\nstxw [%r10-" + std::to_string(64 - 4 * k) + "], %r2\n";
    text += "mov %r0, 0\nmov %r5, 1\n"
            "loop:\nmov %r2, %r0\nlsh %r2, 2\nmov %r3, %r10\nadd %r3, %r2\nldxw %r4, [%r3-64]\n"
            "mul %r5, 31\nadd %r5, %r4\nadd %r0, 1\njlt %r0, 7, loop\nmov %r0, %r5\nexit\n";
    check_unrolled("a stack array read at a scaled index, 7 trips: 3 peeled", text, 8 + 1, 8 + 7);
  }
  check_unrolled("a loop at pc 0 (the preheader is the entry block; r0 and r6 start at 0), 7 trips",
                 "loop:\nmov %r2, %r1\nadd %r2, %r6\nldxb %r3, [%r2+0]\nadd %r0, %r3\nmul %r0, 3\n"
                 "add %r6, 1\njlt %r6, 7, loop\nexit\n",
                 1, 7);
  // The inner loop of a nest: 7 trips, 3 peeled inside the outer loop, each outer iteration.
  check_nest(7, 7);
}

TEST_CASE("unroll: a counter whose test reads a copy phi CSE merges, the exit also entered from outside",
          "[jit][opt][unroll]") {
  // clang's Kernighan popcount with a bound (`for (bit = 0; bit < 64 && v; bit++) v &= v - 1`): the
  // head tests r7 (the count of the previous iteration, a phi with the same arguments as r4's), so the
  // counter is found only after CSE merges the two phis; the exit is entered from the head, the latch
  // and the guard before the loop. 64 trips at most: 4 copies.
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\nmov %r4, 0\njeq %r6, 0, out\nmov %r7, 0\nmov %r4, 0\n"
      "loop:\nadd %r4, 1\njgt %r7, 62, out\n"
      "mov %r8, %r6\nadd %r8, -1\nand %r8, %r6\nmov %r7, %r4\nmov %r6, %r8\njne %r8, 0, loop\n"
      "out:\nmov %r0, %r4\nexit\n");
  INFO(shape(program, true).text);
  for (std::uint64_t word : {0x0ull, 0x1ull, 0x7ull, 0xffull, 0x0f0f0f0f0f0f0f0full, ~0ull, 0x8000000000000001ull})
    run_pass_against_interpreter(program, &jit::opt::PassSet::unroll_loops, {word});
}
