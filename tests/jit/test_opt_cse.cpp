// Common subexpression elimination on the optimizing tier (jit/opt/cse.cpp): equal pure operations
// merge where one dominates the other (commutative operands in either order), and only there: not
// across sibling arms, not between 32- and 64-bit forms, not between a - b and b - a. Each program
// also runs on the tier, pass on and off, against the checked interpreter.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

/// Live ALU operations of `kind` and `width` in the program's IR after `passes`.
int alu_count(const vm::Program& program, const jit::opt::PassSet& passes, isa::Kind kind, int width = 64) {
  const auto fn = optimized_function(program, test_helpers(), passes);
  int n = 0;
  for (const auto& i : fn.values) n += !i.dead && i.op == jit::opt::Op::Alu && i.kind == kind && i.width == width;
  return n;
}

void run_against_interpreter(const vm::Program& program, std::initializer_list<std::uint64_t> words) {
  run_pass_against_interpreter(program, &jit::opt::PassSet::cse, words);
}

}  // namespace

TEST_CASE("cse: equal operations in one block merge, commutative ones in either order", "[jit][opt][cse]") {
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\nldxdw %r7, [%r1+8]\n"
      "mov %r2, %r6\nadd %r2, %r7\n"     // r6 + r7
      "mov %r3, %r7\nadd %r3, %r6\n"     // r7 + r6: the same
      "mov %r4, %r6\nsub %r4, %r7\n"     // r6 - r7
      "mov %r5, %r7\nsub %r5, %r6\n"     // r7 - r6: not the same
      "mov %r8, %r6\nadd32 %r8, %r7\n"  // 32-bit: not the same as the 64-bit add
      "mov %r0, %r2\nmul %r0, %r3\nxor %r0, %r4\nlsh %r5, 1\nxor %r0, %r5\nxor %r0, %r8\nexit\n");
  jit::opt::PassSet off;
  off.cse = false;
  CHECK(alu_count(program, off, isa::Kind::Add) == 2);
  CHECK(alu_count(program, {}, isa::Kind::Add) == 1);
  CHECK(alu_count(program, {}, isa::Kind::Add, 32) == 1);
  CHECK(alu_count(program, {}, isa::Kind::Sub) == 2);
  for (auto [a, b] : {std::pair<std::uint64_t, std::uint64_t>{3, 5}, {0xffffffff00000001, 0x1ffffffff},
                      {0x8000000000000000, 0x7fffffffffffffff}, {0, ~0ull}})
    run_against_interpreter(program, {a, b});
}

TEST_CASE("cse: only a dominating operation replaces another, never one in a sibling arm", "[jit][opt][cse]") {
  // Both arms compute r6 ^ r7 with a different twist; the join computes it once more. Neither arm
  // dominates the join, so all three xors stay; the one after the first xor in the entry merges.
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\nldxdw %r7, [%r1+8]\nldxdw %r8, [%r1+16]\n"
      "mov %r9, %r6\nor %r9, %r7\n"  // dominates everything below
      "jeq %r8, 0, other\n"
      "mov %r2, %r6\nxor %r2, %r7\nmul %r2, 3\nmov %r3, %r7\nor %r3, %r6\nmul %r2, %r3\nja join\n"
      "other:\n"
      "mov %r2, %r6\nxor %r2, %r7\nmul %r2, 5\nmov %r3, %r6\nor %r3, %r7\nadd %r2, %r3\n"
      "join:\n"
      "mov %r0, %r6\nxor %r0, %r7\nadd %r0, %r2\nmov %r4, %r6\nor %r4, %r7\nxor %r0, %r4\nxor %r0, %r9\nexit\n");
  jit::opt::PassSet no_select;
  no_select.select = false;
  CHECK(alu_count(program, no_select, isa::Kind::Xor) == 5);  // three r6 ^ r7, two xors at the end
  CHECK(alu_count(program, no_select, isa::Kind::Or) == 1);   // every r6 | r7 is the entry's
  no_select.cse = false;
  CHECK(alu_count(program, no_select, isa::Kind::Or) == 4);
  for (std::uint64_t taken : {0ull, 1ull})
    for (auto [a, b] : {std::pair<std::uint64_t, std::uint64_t>{3, 5}, {0xffffffff00000001, 0x1ffffffff}})
      run_against_interpreter(program, {a, b, taken});
}

TEST_CASE("cse: an operation numbered in one arm does not keep its twin in the other arm from merging", "[jit][opt][cse]") {
  // Each arm computes r6 - r7 twice. The arm visited second finds the first arm's entry, which does
  // not dominate it: its first sub takes that entry's place and its second merges with it (a table
  // that kept the first arm's entry would leave both).
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\nldxdw %r7, [%r1+8]\nldxdw %r8, [%r1+16]\n"
      "jeq %r8, 0, other\n"
      "mov %r2, %r6\nsub %r2, %r7\nmov %r3, %r6\nsub %r3, %r7\nmul %r2, %r3\nja join\n"
      "other:\n"
      "mov %r2, %r6\nsub %r2, %r7\nlsh %r2, 1\nmov %r3, %r6\nsub %r3, %r7\nxor %r2, %r3\n"
      "join:\n"
      "mov %r0, %r2\nexit\n");
  jit::opt::PassSet no_select;
  no_select.select = false;
  CHECK(alu_count(program, no_select, isa::Kind::Sub) == 2);  // one per arm
  no_select.cse = false;
  CHECK(alu_count(program, no_select, isa::Kind::Sub) == 4);
  for (std::uint64_t taken : {0ull, 1ull})
    for (auto [a, b] : {std::pair<std::uint64_t, std::uint64_t>{3, 5}, {0xffffffff00000001, 0x1ffffffff}})
      run_against_interpreter(program, {a, b, taken});
}
