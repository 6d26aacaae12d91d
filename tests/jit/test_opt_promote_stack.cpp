// Stack-slot promotion (jit/opt/promote_stack.cpp): spills become SSA values, and every way a slot
// can be reached other than whole at its constant offset (a variable-offset pointer, a pointer
// stored to memory, a helper writing through a pointer, a partial overlap, an atomic) keeps it in
// memory. Each program runs on the optimizing tier against the checked interpreter, with and
// without the verifier's in-frame fact, and with promotion off.
#include <catch2/catch.hpp>

#include <cstring>

#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

/// How many slots promotion turned into values, and the function after the passes.
struct Promotion {
  std::uint32_t promoted = 0;
  std::string ir;
};

Promotion promote(const vm::Program& program, const vm::HelperRegistry& helpers, bool in_frame) {
  jit::opt::PassSet none{.fold_constants = false, .remove_zext = false, .dce = false, .promote_stack = false};
  auto fn = optimized_function(program, helpers, none);
  Promotion p;
  p.promoted = jit::opt::promote_stack_slots(fn, jit::opt::VerifierFacts{.pointers_stay_in_frame = in_frame});
  jit::opt::optimize(fn, {.promote_stack = false});
  p.ir = jit::opt::to_text(fn);
  return p;
}

/// Runs the program on the optimizing tier (facts on and off, promotion on and off) and on the
/// checked interpreter over `input`; all must agree. Returns r0.
std::uint64_t same_everywhere(const vm::Program& program, const vm::HelperRegistry& helpers, std::vector<std::uint8_t> input) {
  std::vector<std::uint8_t> buffer;
  const auto want = checked_interpreter_outcome(program, helpers, input, buffer);
  for (bool in_frame : {false, true})
    for (bool promote : {true, false}) {
      auto jo = optimizing();
      jo.zero_stack = true;  // unwritten slots read as zero, as in the checked interpreter
      jo.passes.promote_stack = promote;
      jo.facts.pointers_stay_in_frame = in_frame;
      auto jp = jit::JitProgram::compile(program, helpers, {}, jo);
      REQUIRE(jp);
#if defined(__x86_64__)
      CHECK(jp->tier(jit::Variant::Fast) == jit::Tier::Optimized);
#endif
      INFO("in_frame " << in_frame << " promote " << promote);
      CHECK(run_engine(*jp, buffer, input, {}, false) == want);
    }
  return want.r0;
}

std::vector<std::uint8_t> u64_input(std::uint64_t v) {
  std::vector<std::uint8_t> b(16, 0);
  std::memcpy(b.data(), &v, 8);
  return b;
}

}  // namespace

TEST_CASE("promotion: whole slots of every width become values", "[jit][opt][promote]") {
  const auto helpers = test_helpers();
  // Spills of 8, 4, 2 and 1 bytes, read back plain and sign-extended, across a join.
  const auto program = assemble_program(
      "ldxdw %r2, [%r1]\n"
      "stxdw [%r10-8], %r2\n"
      "stxw [%r10-16], %r2\n"
      "stxh [%r10-24], %r2\n"
      "stxb [%r10-32], %r2\n"
      "jgt %r2, 100, big\n"
      "stw [%r10-16], 5\n"
      "big:\n"
      "ldxdw %r0, [%r10-8]\n"
      "ldxw %r3, [%r10-16]\n"
      "add %r0, %r3\n"
      "ldxsh %r3, [%r10-24]\n"
      "add %r0, %r3\n"
      "ldxb %r3, [%r10-32]\n"
      "lsh %r3, 40\n"
      "add %r0, %r3\n"
      "ldxsb %r3, [%r10-32]\n"
      "xor %r0, %r3\n"
      "exit\n");
  const auto [promoted, ir] = promote(program, helpers, false);
  INFO(ir);
  CHECK(promoted == 4);
  CHECK(count_of(ir, "= store") == 0);
  CHECK(count_of(ir, "= load") == 1);  // the input's, not a slot's
  for (std::uint64_t v : {std::uint64_t{7}, std::uint64_t{0x8000fffe80f3}, ~std::uint64_t{0}, std::uint64_t{0x123456789abcdef0}})
    same_everywhere(program, helpers, u64_input(v));
}

TEST_CASE("promotion: a slot reached through a variable offset stays in memory", "[jit][opt][promote]") {
  const auto helpers = test_helpers();
  // r3 = r10 + (-8 from the input): the same bytes as [r10-8], which the IR cannot see.
  const auto program = assemble_program(
      "ldxdw %r2, [%r1]\n"
      "mov %r3, %r10\n"
      "add %r3, %r2\n"
      "mov %r4, 7\n"
      "stxdw [%r10-8], %r4\n"
      "mov %r5, 99\n"
      "stxdw [%r3+0], %r5\n"
      "ldxdw %r0, [%r10-8]\n"
      "exit\n");
  CHECK(promote(program, helpers, true).promoted == 0);
  CHECK(same_everywhere(program, helpers, u64_input(static_cast<std::uint64_t>(-8))) == 99);
}

TEST_CASE("promotion: a stack pointer stored to memory or given to a helper keeps its frame in memory", "[jit][opt][promote]") {
  const auto helpers = helpers_with_store();
  // The pointer goes through another slot and comes back as an opaque load result.
  const auto through_memory = assemble_program(
      "mov %r3, %r10\n"
      "add %r3, -8\n"
      "stdw [%r10-8], 1\n"
      "stxdw [%r10-16], %r3\n"
      "ldxdw %r4, [%r10-16]\n"
      "stdw [%r4+0], 5\n"
      "ldxdw %r0, [%r10-8]\n"
      "exit\n");
  CHECK(promote(through_memory, helpers, true).promoted == 0);
  CHECK(same_everywhere(through_memory, helpers, u64_input(0)) == 5);

  const auto through_helper = assemble_program(
      "stdw [%r10-8], 1\n"
      "mov %r1, %r10\n"
      "add %r1, -8\n"
      "mov %r2, 42\n"
      "call 40\n"
      "ldxdw %r0, [%r10-8]\n"
      "exit\n");
  CHECK(promote(through_helper, helpers, true).promoted == 0);
  CHECK(same_everywhere(through_helper, helpers, u64_input(0)) == 42);
}

TEST_CASE("promotion: partial overlaps and atomics keep the slots they touch in memory", "[jit][opt][promote]") {
  const auto helpers = test_helpers();
  const auto program = assemble_program(
      "ldxdw %r2, [%r1]\n"
      "stxdw [%r10-8], %r2\n"
      "ldxw %r0, [%r10-8]\n"
      "ldxw %r3, [%r10-4]\n"
      "lsh %r3, 1\n"
      "xor %r0, %r3\n"
      "stdw [%r10-16], 3\n"
      "mov %r4, 10\n"
      "lock add [%r10-16], %r4\n"
      "ldxdw %r5, [%r10-16]\n"
      "add %r0, %r5\n"
      "stxdw [%r10-24], %r2\n"
      "ldxdw %r6, [%r10-24]\n"
      "add %r0, %r6\n"
      "exit\n");
  CHECK(promote(program, helpers, false).promoted == 1);  // only [r10-24]
  same_everywhere(program, helpers, u64_input(0x1122334455667788));
}

TEST_CASE("promotion: frames of inlined calls", "[jit][opt][promote]") {
  const auto helpers = test_helpers();
  // The caller's slot written by the callee through r1, and the callee's own slot, whose bytes
  // persist from the first call to the second (same depth, same memory).
  const auto program = assemble_program(
      "ldxdw %r6, [%r1]\n"
      "stxdw [%r10-8], %r6\n"
      "mov %r1, %r10\n"
      "add %r1, -8\n"
      "call local f\n"
      "mov %r1, %r10\n"
      "add %r1, -8\n"
      "call local f\n"
      "ldxdw %r0, [%r10-8]\n"
      "exit\n"
      "f:\n"
      "ldxdw %r2, [%r10-16]\n"
      "add %r2, 1\n"
      "stxdw [%r10-16], %r2\n"
      "ldxdw %r3, [%r1+0]\n"
      "mul %r3, 3\n"
      "add %r3, %r2\n"
      "stxdw [%r1+0], %r3\n"
      "exit\n");
  const auto [promoted, ir] = promote(program, helpers, false);
  INFO(ir);
  CHECK(promoted == 2);
  CHECK(count_of(ir, "= store") == 0);
  // ((v*3)+1)*3+2
  CHECK(same_everywhere(program, helpers, u64_input(5)) == 50);
}
