// Loop-invariant code motion on the optimizing tier (jit/opt/licm.cpp): invariant pure operations
// leave the loop (a chain of them, in a loop that may run zero times, to the outer preheader when
// invariant in both loops of a nest), operations reading the loop's own values stay, and hoisting
// stops under register pressure. Each program also runs on the tier, pass on and off, against the
// checked interpreter.
#include <catch2/catch.hpp>

#include <cstring>
#include <numeric>
#include <string>

#include "jit/opt/loop_depth.hpp"
#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

/// The loop depth of each live instruction `op` (of `kind` for ALU operations) after `passes`, in
/// program order.
std::vector<std::uint32_t> depths_of(const vm::Program& program, const jit::opt::PassSet& passes, isa::Kind kind,
                                     jit::opt::Op op = jit::opt::Op::Alu) {
  // optimized_function gives lddw the value 0: these programs need their wide constants.
  const auto values = wide_values(program);
  jit::CompileRequest req;
  req.program = &program;
  req.lddw_values = values;
  auto built = jit::opt::build_optimized(req, passes);
  REQUIRE(built);
  const auto& fn = *built;
  std::vector<jit::opt::BlockId> order(fn.blocks.size());
  std::iota(order.begin(), order.end(), 0);
  const auto depth = jit::opt::loop_depths(fn, order);
  std::vector<std::uint32_t> out;
  for (const auto& i : fn.values)
    if (!i.dead && i.op == op && (op != jit::opt::Op::Alu || i.kind == kind)) out.push_back(depth[i.block]);
  UNSCOPED_INFO(jit::opt::to_text(fn));
  return out;
}

std::vector<std::uint32_t> constants_in_registers(const vm::Program& program, const jit::opt::PassSet& passes) {
  return depths_of(program, passes, isa::Kind::Add, jit::opt::Op::ConstInReg);
}

void run_against_interpreter(const vm::Program& program, std::initializer_list<std::uint64_t> words) {
  run_pass_against_interpreter(program, &jit::opt::PassSet::licm, words);
}

}  // namespace

TEST_CASE("licm: an invariant chain leaves a guarded loop, the loop's own values stay", "[jit][opt][licm]") {
  // r6 * r7 and (r6 * r7) >> 7 are invariant; r2 * r7 and r4 ^ r2 read the counter. The loop runs
  // r8 times, possibly zero (the hoisted operations then run on the guard's skip path, harmlessly).
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\nldxdw %r7, [%r1+8]\nldxdw %r8, [%r1+16]\nand %r8, 255\n"
      "mov %r0, 0\nmov %r2, 0\n"
      "jeq %r8, 0, done\n"
      "loop:\n"
      "mov %r3, %r6\nmul %r3, %r7\nmov %r4, %r3\nrsh %r4, 7\nxor %r4, %r2\nadd %r0, %r4\n"
      "mov %r5, %r2\nmul %r5, %r7\nadd %r0, %r5\n"
      "add %r2, 1\njlt %r2, %r8, loop\n"
      "done:\nexit\n");
  jit::opt::PassSet off;
  off.licm = false;
  CHECK(depths_of(program, off, isa::Kind::Mul) == std::vector<std::uint32_t>{1, 1});
  CHECK(depths_of(program, off, isa::Kind::Rsh) == std::vector<std::uint32_t>{1});
  CHECK(depths_of(program, {}, isa::Kind::Mul) == std::vector<std::uint32_t>{0, 1});
  CHECK(depths_of(program, {}, isa::Kind::Rsh) == std::vector<std::uint32_t>{0});
  CHECK(depths_of(program, {}, isa::Kind::Xor) == std::vector<std::uint32_t>{1});
  for (std::uint64_t n : {0ull, 1ull, 7ull, 255ull})
    for (auto [a, b] : {std::pair<std::uint64_t, std::uint64_t>{3, 5}, {0xffffffff00000001, 0x1ffffffff}})
      run_against_interpreter(program, {a, b, n});
}

TEST_CASE("licm: in a nest, what both loops leave alone goes to the outer preheader", "[jit][opt][licm]") {
  // r6 ^ r7 is invariant in both loops; r6 + r2 (r2 the outer counter) only in the inner one.
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\nldxdw %r7, [%r1+8]\nmov %r0, 0\nmov %r2, 0\n"
      "outer:\nmov %r3, 0\n"
      "inner:\n"
      "mov %r4, %r6\nxor %r4, %r7\nmov %r5, %r6\nadd %r5, %r2\nmul %r5, %r4\nadd %r5, %r3\nadd %r0, %r5\n"
      "add %r3, 1\njlt %r3, 5, inner\n"
      "add %r2, 1\njlt %r2, 4, outer\n"
      "exit\n");
  // The loops as written (the inner one's 5 trips would be unrolled, 1 peeled).
  CHECK(depths_of(program, {.unroll_loops = false}, isa::Kind::Xor) == std::vector<std::uint32_t>{0});
  CHECK(depths_of(program, {.unroll_loops = false}, isa::Kind::Mul) == std::vector<std::uint32_t>{1});
  for (auto [a, b] : {std::pair<std::uint64_t, std::uint64_t>{3, 5}, {0xffffffff00000001, 0x1ffffffff}})
    run_against_interpreter(program, {a, b, 0});
}

TEST_CASE("licm: a loop whose live values fill the registers keeps its invariant operation", "[jit][opt][licm]") {
  // Ten values loaded before the loop are all read in it (and after it), with a sum and a counter
  // carried: hoisting r6 * r7 would add one more value live through the loop.
  std::string text;
  for (int k = 0; k < 10; ++k)
    text += "ldxdw %r2, [%r1+" + std::to_string(8 * (k % 4)) + "]\nadd %r2, " + std::to_string(k) +
            "\nstxdw [%r10-" + std::to_string(8 * (k + 1)) + "], %r2\n";
  text += "ldxdw %r6, [%r1+0]\nldxdw %r7, [%r1+8]\nmov %r0, 0\nmov %r3, 0\nloop:\n";
  for (int k = 0; k < 10; ++k) text += "ldxdw %r2, [%r10-" + std::to_string(8 * (k + 1)) + "]\nxor %r0, %r2\nrsh %r0, 1\n";
  text += "mov %r4, %r6\nmul %r4, %r7\nadd %r0, %r4\nadd %r3, 1\njlt %r3, 9, loop\n";
  for (int k = 0; k < 10; ++k) text += "ldxdw %r2, [%r10-" + std::to_string(8 * (k + 1)) + "]\nadd %r0, %r2\n";
  text += "add %r0, %r6\nadd %r0, %r7\nexit\n";
  text.replace(text.find("add %r0, %r4\nadd %r3"), 12, "add %r0, %r4\nlddw %r4, 0x123456789\nand %r0, %r4");
  const auto program = assemble_program(text);
  CHECK(depths_of(program, {.unroll_loops = false}, isa::Kind::Mul) == std::vector<std::uint32_t>{1});  // 9 trips
  CHECK(constants_in_registers(program, {.unroll_loops = false}).empty());
  run_against_interpreter(program, {3, 5, 7, 9});
}

TEST_CASE("licm: wide constants read in a loop are loaded into a register before it", "[jit][opt][licm]") {
  // Three reads of two wide constants (an and, a compare, a store), one 32-bit immediate left alone.
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\nldxdw %r8, [%r1+16]\nand %r8, 255\nmov %r0, 0\nmov %r2, 0\n"
      "jeq %r8, 0, done\n"
      "loop:\n"
      "mov %r3, %r6\nxor %r3, %r2\nlddw %r4, 0x5555555555555555\nand %r3, %r4\nadd %r0, %r3\n"
      "lddw %r5, 0xf0f0f0f0f0f0f0f0\njgt %r0, %r5, skip\nadd %r0, 0x7fffffff\nxor %r0, %r4\n"
      "skip:\nstxdw [%r1+24], %r5\nadd %r2, 1\njlt %r2, %r8, loop\n"
      "done:\nexit\n");
  CHECK(constants_in_registers(program, {}) == std::vector<std::uint32_t>{0, 0});
  jit::opt::PassSet off;
  off.licm = false;
  CHECK(constants_in_registers(program, off).empty());
  for (std::uint64_t n : {0ull, 1ull, 100ull})
    for (auto [a, b] : {std::pair<std::uint64_t, std::uint64_t>{3, 5}, {0xffffffff00000001, 0x1ffffffff}})
      run_against_interpreter(program, {a, b, n});
}

TEST_CASE("licm: a loop-invariant load leaves a loop that runs at least once, unless the loop may write it",
          "[jit][opt][licm][load_reuse]") {
  // [r1] is read in the loop's head each iteration; the loop stores to [r1+8] (other bytes: the load
  // leaves), to [r1+4] (overlapping: it stays) or runs behind a guard that may skip it (it stays:
  // the preheader's other path never reads [r1]).
  auto program_with = [](const std::string& store, const std::string& guard) {
    return assemble_program("mov %r0, 0\nldxdw %r8, [%r1+16]\nand %r8, 7\n" + guard +
                            "loop:\nldxdw %r7, [%r1]\nadd %r0, %r7\nmul %r0, 3\n" + store +
                            "add %r8, -1\njsgt %r8, 0, loop\nout:\nexit\n");
  };
  jit::opt::PassSet without;
  without.licm_loads = false;
  const auto other_bytes = program_with("stxdw [%r1+8], %r0\n", "");
  CHECK(depths_of(other_bytes, {}, isa::Kind::Add, jit::opt::Op::Load) == std::vector<std::uint32_t>{0, 0});
  CHECK(depths_of(other_bytes, without, isa::Kind::Add, jit::opt::Op::Load) == std::vector<std::uint32_t>{0, 1});
  const auto overlapping = program_with("stxw [%r1+4], %r0\n", "");
  CHECK(depths_of(overlapping, {}, isa::Kind::Add, jit::opt::Op::Load) == std::vector<std::uint32_t>{0, 1});
  const auto guarded = program_with("stxdw [%r1+8], %r0\n", "jeq %r8, 0, out\n");
  CHECK(depths_of(guarded, {}, isa::Kind::Add, jit::opt::Op::Load) == std::vector<std::uint32_t>{0, 1});
  for (const auto* program : {&other_bytes, &overlapping, &guarded})
    for (std::uint64_t n : {0ull, 1ull, 5ull})
      run_pass_against_interpreter(*program, &jit::opt::PassSet::licm_loads, {0x1234567, 0, n});
}
