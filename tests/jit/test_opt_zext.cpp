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
  const auto ir = jit::opt::to_text(optimized_function(program, helpers, {.unroll_loops = false}));  // one copy of a loop
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

TEST_CASE("a branch between zero-extended values compares the low halves (32-bit)", "[jit][opt][zext]") {
  // r2, r3: 64-bit words with their upper halves set, zero-extended the pre-alu32 way, then compared.
  // `same`: r3 is r2 with bit 40 flipped (equal low halves, different upper halves).
  auto program = [](const std::string& cond, bool same, const std::string& right = "%r3") {
    return std::string("ldxdw %r2, [%r1+0]\n") + (same ? "mov %r3, %r2\nmov %r4, 1\nlsh %r4, 40\nxor %r3, %r4\n" : "ldxdw %r3, [%r1+8]\n") +
           "lsh %r2, 32\nrsh %r2, 32\nlsh %r3, 32\nrsh %r3, 32\nmov %r0, 1\n" + cond + " %r2, " + right + ", out\nmov %r0, 2\nout:\nexit\n";
  };
  for (const char* cond : {"jeq", "jne", "jgt", "jge", "jlt", "jle", "jset"})
    for (bool same : {false, true}) {
      INFO(cond << (same ? " on equal low halves" : ""));
      // The shifts of r3 stay when r3 is r2's copy with a bit flipped: only the compare stops reading them.
      CHECK(shifts_left(program(cond, same)) == 0);
      CHECK(shifts_left(program(cond, same, "0x7fffffff")) == 0);  // a constant below 2^32
    }
  // Signed conditions see the sign bit of the low half only at 32 bits: they keep the 64-bit compare.
  CHECK(shifts_left(program("jsgt", false)) == 4);
  CHECK(shifts_left(program("jslt", true)) == 4);
  // -100 is 0xffffffffffffff9c at 64 bits: no 32-bit constant equals it.
  CHECK(shifts_left(program("jgt", false, "-100")) == 2);
}

TEST_CASE("a 64-bit unsigned div/mod of values that fit 32 bits divides 32 bits", "[jit][opt][zext]") {
  // r2: a 64-bit word with its upper half set, zero-extended the pre-alu32 way; r3: a byte plus a
  // constant (9 significant bits), a zero-extended word, one masked to 0 at run time, or a whole
  // 64-bit word. shifts_left runs each on the tier against the interpreter.
  auto program = [](const std::string& op, const std::string& divisor) {
    return "ldxdw %r2, [%r1+0]\nlsh %r2, 32\nrsh %r2, 32\n" + divisor + "mov %r0, %r2\n" + op + " %r0, %r3\nexit\n";
  };
  const std::string byte = "ldxb %r3, [%r1+8]\nadd %r3, 5\n";
  const std::string word = "ldxdw %r3, [%r1+16]\nlsh %r3, 32\nrsh %r3, 32\n";
  const std::string wide = "ldxdw %r3, [%r1+16]\n";
  const std::string zero = word + "and %r3, 0x10000\n";  // 0 at run time (the input's bit 16 is clear)
  auto divides64 = [](const std::string& text) {
    const auto ir = jit::opt::to_text(optimized_function(assemble_program(text), test_helpers(), {}));
    return count_of(ir, "k" + std::to_string(static_cast<int>(isa::Kind::Div)) + "/64") +
           count_of(ir, "k" + std::to_string(static_cast<int>(isa::Kind::Mod)) + "/64");
  };
  for (const char* op : {"div", "mod"}) {
    INFO(op);
    CHECK(shifts_left(program(op, byte)) == 0);
    CHECK(divides64(program(op, byte)) == 0);
    CHECK(shifts_left(program(op, word)) == 0);
    CHECK(divides64(program(op, word)) == 0);
    CHECK(shifts_left(program(op, zero)) == 2);  // runs x / 0 and x % 0 against the interpreter; the and reads r3 whole
    CHECK(divides64(program(op, zero)) == 0);
    // A divisor of 64 bits keeps the 64-bit divide (and the dividend's extension).
    CHECK(shifts_left(program(op, wide)) == 2);
    CHECK(divides64(program(op, wide)) == 1);
  }
  // Signed ones keep theirs.
  const auto sdiv = jit::opt::to_text(optimized_function(assemble_program(program("sdiv", word)), test_helpers(), {}));
  CHECK(count_of(sdiv, "k" + std::to_string(static_cast<int>(isa::Kind::SDiv)) + "/64") == 1);
}
