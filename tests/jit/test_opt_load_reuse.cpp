// Value numbering through joins and load reuse on the optimizing tier (jit/opt/cse.cpp,
// jit/opt/memory_alias.cpp): phis of one block with the same operands merge, a phi of one value is
// that value; a load of what a dominating load read (or a dominating store wrote) takes that value
// unless a store, atomic or call that may alias it lies on a path between them. Each program also
// runs on the tier, load reuse on and off, against the checked interpreter (memory compared too).
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

constexpr jit::opt::VerifierFacts kVerified{.pointers_stay_in_frame = true};

/// Live instructions `op` in the program's IR after `passes` (select off: diamonds stay diamonds).
int live_count(const vm::Program& program, jit::opt::PassSet passes, jit::opt::Op op,
               const jit::opt::VerifierFacts& facts = kVerified) {
  passes.select = false;
  const auto fn = optimized_function(program, helpers_with_store(), passes, facts);
  int n = 0;
  for (const auto& i : fn.values) n += !i.dead && i.op == op;
  return n;
}

jit::opt::PassSet without_load_reuse() {
  jit::opt::PassSet p;
  p.cse_loads = false;
  return p;
}

jit::opt::PassSet without_cse() {
  jit::opt::PassSet p;
  p.cse = false;
  return p;
}

/// r1's word 0 loaded before a 4-trip loop that adds it (reloaded each trip) to r0 and stores it
/// plus 1 with `store` (r7 holds the value), then r0 plus the first load.
vm::Program loop_storing_with(const std::string& store) {
  return assemble_program(
      "mov %r0, 0\nldxdw %r6, [%r1+0]\nmov %r8, 4\n"
      "loop:\n"
      "ldxdw %r7, [%r1+0]\nadd %r0, %r7\nadd %r7, 1\n" +
      store +
      "sub %r8, 1\njne %r8, 0, loop\n"
      "add %r0, %r6\nexit\n");
}

/// The tier's runs (load reuse on and off, frames proved private as for a verified program) equal
/// the checked interpreter's: r0 and the memory left.
void run_against_interpreter(const vm::Program& program, std::initializer_list<std::uint64_t> words) {
  const auto helpers = helpers_with_store();
  run_pass_against_interpreter(program, &jit::opt::PassSet::cse_loads, words, &helpers, kVerified);
}

}  // namespace

TEST_CASE("gvn: phis of one join with the same operands merge", "[jit][opt][cse][gvn]") {
  // r2 and r3 are both (r8 == 0 ? r7 : r6): one phi, not two.
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\nldxdw %r7, [%r1+8]\nldxdw %r8, [%r1+16]\n"
      "jeq %r8, 0, other\n"
      "mov %r2, %r6\nmov %r3, %r6\nja join\n"
      "other:\n"
      "mov %r2, %r7\nmov %r3, %r7\n"
      "join:\n"
      "mov %r0, %r2\nmul %r0, %r3\nadd %r0, %r8\nexit\n");
  CHECK(live_count(program, without_cse(), jit::opt::Op::Phi) == 2);
  CHECK(live_count(program, {}, jit::opt::Op::Phi) == 1);
  for (std::uint64_t taken : {0ull, 1ull}) run_against_interpreter(program, {3, 0xffffffff00000005, taken});
}

TEST_CASE("gvn: a phi whose operands are one value after numbering is that value", "[jit][opt][cse][gvn]") {
  // Both arms compute r6 ^ r7, which the entry computed already: the join's phi has one operand.
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\nldxdw %r7, [%r1+8]\nldxdw %r8, [%r1+16]\n"
      "mov %r9, %r6\nxor %r9, %r7\n"
      "jeq %r8, 0, other\n"
      "mov %r2, %r6\nxor %r2, %r7\nja join\n"
      "other:\n"
      "mov %r2, %r7\nxor %r2, %r6\n"
      "join:\n"
      "mov %r0, %r2\nmul %r0, %r8\nadd %r0, %r9\nexit\n");
  CHECK(live_count(program, without_cse(), jit::opt::Op::Phi) == 1);
  CHECK(live_count(program, {}, jit::opt::Op::Phi) == 0);
  CHECK(live_count(program, {}, jit::opt::Op::Alu) == 3);  // one xor, the mul, the add
  for (std::uint64_t taken : {0ull, 2ull}) run_against_interpreter(program, {0x1234, 0xff00ff00ff00ff00, taken});
}

TEST_CASE("load reuse: a repeated load takes the first one's value past stores that cannot alias it",
          "[jit][opt][cse][load_reuse]") {
  // Between the two loads of [r1+0]: a store to other bytes of the same pointer, and one to the stack
  // (its 4th byte read back, so the slot stays in memory; the frame's address never escapes).
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\n"
      "stxdw [%r1+8], %r6\n"
      "stxdw [%r10-8], %r6\n"
      "ldxb %r7, [%r10-5]\n"
      "ldxdw %r8, [%r1+0]\n"
      "mov %r0, %r6\nadd %r0, %r7\nmul %r0, %r8\nexit\n");
  CHECK(live_count(program, without_load_reuse(), jit::opt::Op::Load) == 3);
  CHECK(live_count(program, {}, jit::opt::Op::Load) == 2);
  // Unproved frames (a raw program) may be reached through r1: the store to the stack keeps the load.
  CHECK(live_count(program, {}, jit::opt::Op::Load, {}) == 3);
  for (std::uint64_t w : {0x1234ull, 0xfedcba9876543210ull}) run_against_interpreter(program, {w});
}

TEST_CASE("load reuse: a store that may alias keeps the second load", "[jit][opt][cse][load_reuse]") {
  // [r1 + (w2 & 8)] = w0 + 1: with w2 = 0 it rewrites [r1+0], which is then read again. A 4-byte
  // store into [r1+4] overlaps the third load of [r1+0] too.
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\n"
      "ldxdw %r3, [%r1+16]\nand %r3, 8\n"
      "mov %r4, %r1\nadd %r4, %r3\n"
      "mov %r5, %r6\nadd %r5, 1\n"
      "stxdw [%r4+0], %r5\n"
      "ldxdw %r7, [%r1+0]\n"
      "stxw [%r1+4], %r5\n"
      "ldxdw %r8, [%r1+0]\n"
      "mov %r0, %r7\nlsh %r0, 1\nxor %r0, %r8\nexit\n");
  CHECK(live_count(program, {}, jit::opt::Op::Load) == 4);
  for (std::uint64_t index : {0ull, 8ull}) run_against_interpreter(program, {41, 7, index});
}

TEST_CASE("load reuse: a load of what a store wrote takes the stored value", "[jit][opt][cse][load_reuse]") {
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\n"
      "stxdw [%r1+24], %r6\n"
      "stxw [%r1+32], %r6\n"
      "ldxdw %r7, [%r1+24]\n"  // r6
      "ldxw %r8, [%r1+32]\n"   // r6's low half, zero-extended
      "ldxh %r9, [%r1+32]\n"   // narrower than the store: stays
      "stdw [%r1+40], -7\n"
      "ldxh %r5, [%r1+40]\n"   // a constant's low bytes: 0xfff9
      "mov %r0, %r7\nadd %r0, %r8\nadd %r0, %r9\nlsh %r5, 40\nadd %r0, %r5\nexit\n");
  CHECK(live_count(program, without_load_reuse(), jit::opt::Op::Load) == 5);
  CHECK(live_count(program, {}, jit::opt::Op::Load) == 2);
  CHECK(live_count(program, {}, jit::opt::Op::Zext32) == 1);
  for (std::uint64_t w : {5ull, 0xffffffff80000005ull}) run_against_interpreter(program, {w});
}

TEST_CASE("load reuse: a store in a loop keeps the loop's load, a store elsewhere does not",
          "[jit][opt][cse][load_reuse]") {
  // The loop's load of [r1+0] is dominated by the entry's, but the store on the back edge changes it.
  const auto storing = loop_storing_with("stxdw [%r1+0], %r7\n");
  CHECK(live_count(storing, {}, jit::opt::Op::Load) == 2);
  run_against_interpreter(storing, {10});
  const auto elsewhere = loop_storing_with("stxdw [%r1+8], %r7\n");
  CHECK(live_count(elsewhere, without_load_reuse(), jit::opt::Op::Load) == 2);
  CHECK(live_count(elsewhere, {}, jit::opt::Op::Load) == 1);
  run_against_interpreter(elsewhere, {10});
}

TEST_CASE("load reuse: a helper call between two loads keeps the second", "[jit][opt][cse][load_reuse]") {
  // Helper 40 writes 77 through the pointer it is given: the context itself.
  const auto program = assemble_program(
      "mov %r6, %r1\nldxdw %r7, [%r6+0]\n"
      "mov %r1, %r6\nmov %r2, 77\ncall 40\n"
      "ldxdw %r8, [%r6+0]\n"
      "mov %r0, %r7\nlsh %r0, 8\nadd %r0, %r8\nexit\n");
  CHECK(live_count(program, {}, jit::opt::Op::Load) == 2);
  run_against_interpreter(program, {5});
}
