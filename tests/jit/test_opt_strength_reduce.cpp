// Strength reduction of division and modulo by constants (jit/opt/strength_reduce.cpp): every
// divisor class (0, 1, powers of two, the magic-number multiply for unsigned 32-bit and for 64-bit
// dividends known to fit 32 bits, signed ones) at the edge dividends, on the optimizing tier with the
// pass on and off against the checked interpreter. Division by zero is refused by the verifier; the
// tier still keeps the interpreter's x / 0 = 0 and x % 0 = x for unverified programs.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

std::string ir_of(const vm::Program& program, const jit::opt::PassSet& passes) {
  return jit::opt::to_text(optimized_function(program, test_helpers(), passes));
}

/// `op` of the input's u64 (64-bit ops) or its low half as loaded by ldxw (`32` ops, or 64-bit ops
/// on a zero-extended dividend) by `divisor`; returns whether the IR still divides.
bool divides_after_passes(const std::string& op, std::int64_t divisor, bool load32) {
  const std::string text = std::string(load32 ? "ldxw %r0, [%r1]\n" : "ldxdw %r0, [%r1]\n") + op + " %r0, " +
                           std::to_string(divisor) + "\nexit\n";
  const auto program = assemble_program(text);
  const auto helpers = test_helpers();
  auto interp = vm::Interpreter::create(program, helpers);
  REQUIRE(interp);
  const std::uint64_t d = static_cast<std::uint64_t>(divisor);
  const std::uint64_t dividends[] = {0, 1, 2, 3, d - 1, d, d + 1, 2 * d - 1, 2 * d, 0x7fffffff, 0x80000000,
                                     0xfffffffe, 0xffffffff, 0x100000000, 0x123456789abcdef0,
                                     0x8000000000000000, ~std::uint64_t{0}, (0xffffffffull / (d ? d : 1)) * d};
  for (bool reduce : {true, false}) {
    jit::JitOptions jo;
    jo.optimize = true;
    jo.passes.strength_reduce = reduce;
    auto jp = jit::JitProgram::compile(program, helpers, {}, jo);
    REQUIRE(jp);
    CHECK(jp->tier(jit::Variant::Fast) == jit::Tier::Optimized);
    for (std::uint64_t x : dividends) {
      std::vector<std::uint8_t> input(8), buffer(8);
      std::memcpy(input.data(), &x, 8);
      vm::ExecOptions checked;
      checked.checked = true;
      const auto want = run_engine(*interp, buffer, input, checked, false);
      INFO(text << "x = " << x << " reduce " << reduce);
      REQUIRE(want.ok);
      CHECK(run_engine(*jp, buffer, input, {}, false) == want);
    }
  }
  const auto ir = ir_of(program, {});
  for (auto kind : {isa::Kind::Div, isa::Kind::Mod, isa::Kind::SDiv, isa::Kind::SMod})
    if (ir.find(" k" + std::to_string(static_cast<int>(kind)) + "/") != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("strength reduction: unsigned division and modulo by constants", "[jit][opt][strength]") {
  for (const char* op : {"div32", "mod32"})
    for (std::int64_t d : {0, 1, 2, 8, 1 << 30, 3, 5, 7, 10, 12, 100, 641, 1000000007, 0x7fffffff, -1, -2, -7})
      CHECK_FALSE(divides_after_passes(op, d, false));
  // 64-bit: a dividend with a zero upper half (ldxw) takes the multiply; any other only 0, 1, 2^k.
  for (std::int64_t d : {0, 1, 16, 1 << 20, 3, 7, 10, 0x7fffffff})
    CHECK_FALSE(divides_after_passes("div", d, true));
  for (std::int64_t d : {0, 1, 2, 1 << 20, 1 << 30})
    CHECK_FALSE(divides_after_passes("mod", d, false));
  for (std::int64_t d : {3, 7, 10, -1})
    CHECK(divides_after_passes("div", d, false));  // no 64x64 high multiply in the IR
}

TEST_CASE("strength reduction: signed division keeps its divide except by zero", "[jit][opt][strength]") {
  for (const char* op : {"sdiv", "smod", "sdiv32", "smod32"}) {
    CHECK_FALSE(divides_after_passes(op, 0, false));
    for (std::int64_t d : {-1, 3, 4, -8}) CHECK(divides_after_passes(op, d, false));
  }
}

TEST_CASE("strength: x * 3, 5, 9 on x86-64 is one lea, 32 and 64 bits", "[jit][opt][strength]") {
  // The backend's instruction selection (x86_64/opt_emitter.cpp): `lea t, [x + x*s]` instead of
  // `imul t, x, c` (saturate's `acc * 3 + s`, alu32's `* 9`). A spilled or in-place x, the other
  // multipliers and 32-bit truncation must give the interpreter's products.
  const auto helpers = test_helpers();
  for (const char* mul : {"mul", "mul32"})
    for (std::int64_t c : {std::int64_t{3}, std::int64_t{5}, std::int64_t{9}, std::int64_t{7}, std::int64_t{-3}}) {
      const std::string text = std::string("ldxdw %r2, [%r1]\nmov %r0, %r2\n") + mul + " %r0, " + std::to_string(c) +
                               "\nmov %r3, %r2\n" + mul + " %r3, " + std::to_string(c) + "\nadd %r0, %r3\nxor %r0, %r2\nexit\n";
      INFO(text);
      const auto program = assemble_program(text);
      auto interp = vm::Interpreter::create(program, helpers);
      REQUIRE(interp);
      jit::JitOptions jo;
      jo.optimize = true;
      auto jp = jit::JitProgram::compile(program, helpers, {}, jo);
      REQUIRE(jp);
      REQUIRE(jp->tier(jit::Variant::Fast) == jit::Tier::Optimized);
#if defined(__x86_64__)
      const auto listing = optimized_listing(program);
      const bool small = c == 3 || c == 5 || c == 9;
      CHECK((listing.find("imul") == std::string::npos) == small);
      CHECK((listing.find(c == 3 ? "*2]" : c == 5 ? "*4]" : "*8]") != std::string::npos) == small);
#endif
      for (std::uint64_t x : {0ull, 1ull, 0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x123456789abcdef0ull, ~0ull}) {
        std::vector<std::uint8_t> input(8), buffer(8);
        std::memcpy(input.data(), &x, 8);
        vm::ExecOptions checked;
        checked.checked = true;
        const auto want = run_engine(*interp, buffer, input, checked, false);
        REQUIRE(want.ok);
        CHECK(run_engine(*jp, buffer, input, {}, false) == want);
      }
    }
}
