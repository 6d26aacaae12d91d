// Zero-extension removal through phis (jit/opt/passes.cpp upper_half_zero, fold_constants): clang's
// `x <<= 32; x >>= 32` of a value whose upper half is zero on every path goes, also when the value
// is a loop phi; one 64-bit path keeps it. Each program runs on the tier against the interpreter.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

/// How many shifts the optimized IR keeps, after running `text` on the tier against the interpreter
/// on an input whose 64-bit words have their upper halves set.
std::size_t shifts_left(const std::string& text) {
  const auto program = assemble_program(text);
  std::vector<std::uint8_t> input(64), buffer;
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<std::uint8_t>(0x80 | (i * 13));
  const auto helpers = test_helpers();
  const auto want = checked_interpreter_outcome(program, helpers, input, buffer);
  for (bool remove : {true, false}) {
    jit::JitOptions jo;
    jo.optimize = true;
    jo.passes.remove_zext = remove;
    auto jp = jit::JitProgram::compile(program, helpers, {}, jo);
    REQUIRE(jp);
    CHECK(jp->tier(jit::Variant::Fast) == jit::Tier::Optimized);
    INFO(text << "remove_zext " << remove);
    CHECK(run_engine(*jp, buffer, input, {}, false) == want);
  }
  const auto ir = jit::opt::to_text(optimized_function(program, helpers, {}));
  return count_of(ir, " k" + std::to_string(static_cast<int>(isa::Kind::Lsh)) + "/") +
         count_of(ir, " k" + std::to_string(static_cast<int>(isa::Kind::Rsh)) + "/");
}

// A loop keeping the larger of two 32-bit loads (or, with `wide`, of a 32-bit and a 64-bit one) in
// r2, zero-extended the pre-alu32 way before each compare.
std::string max_loop(bool wide) {
  return std::string("ldxw %r2, [%r1+0]\nmov %r3, 0\nloop:\nmov %r4, %r1\nadd %r4, %r3\n") +
         (wide ? "ldxdw %r5, [%r4+8]\n" : "ldxw %r5, [%r4+8]\n") +
         "lsh %r2, 32\nrsh %r2, 32\njge %r2, %r5, keep\nmov %r2, %r5\nkeep:\nadd %r3, 8\njlt %r3, 48, loop\n"
         "mov %r0, %r2\nexit\n";
}

}  // namespace

TEST_CASE("lsh 32 / rsh 32 of a phi of zero-extended values is removed", "[jit][opt][zext]") {
  CHECK(shifts_left(max_loop(false)) == 0);
  CHECK(shifts_left(max_loop(true)) == 2);  // a 64-bit load reaches the phi: the shifts stay
  // Not a zero-extension: other shift amounts stay.
  CHECK(shifts_left("ldxw %r0, [%r1+0]\nlsh %r0, 32\nrsh %r0, 31\nexit\n") == 2);
  CHECK(shifts_left("ldxw %r0, [%r1+0]\nlsh %r0, 31\nrsh %r0, 32\nexit\n") == 2);
  CHECK(shifts_left("ldxw %r0, [%r1+0]\nlsh %r0, 32\narsh %r0, 32\nexit\n") == 1);  // arsh counts as neither
  CHECK(shifts_left("ldxw %r0, [%r1+0]\nlsh %r0, 32\nrsh %r0, 32\nexit\n") == 0);
  CHECK(shifts_left("ldxdw %r0, [%r1+0]\nlsh %r0, 32\nrsh %r0, 32\nexit\n") == 2);
}
