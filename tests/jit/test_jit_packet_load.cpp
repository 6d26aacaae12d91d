// LD_ABS/LD_IND on the JIT against the interpreter: values, offsets, the hidden exit from the main
// function and from subprograms, r1-r5 kept, faults, budgets, on every variant, and on the
// optimizing tier for fast runs. The packet-load
// entry here reads the run's input buffer (r6 must point at it), so no skb layout is involved.
#include <catch2/catch.hpp>

#include <string>

#include "tests/jit/jit_test_support.hpp"
#include "vm/assembler.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

// HelperRegistry::set_packet_load's contract over the input region: big-endian, or -EFAULT outside.
std::uint64_t buffer_packet_load(std::uint64_t ctx, std::uint64_t offset, std::uint64_t size, std::uint64_t,
                                 std::uint64_t, vm::RunContext* run) {
  const vm::Region& input = run->regions.front();
  if (ctx != input.begin) {
    run->helper_fault = "r6 is not the program's context";
    return 0;
  }
  const auto k = static_cast<std::int32_t>(static_cast<std::uint32_t>(offset));
  if (k < 0 || static_cast<std::uint64_t>(k) + size > input.size_bytes) return static_cast<std::uint64_t>(-14);
  std::uint64_t v = 0;
  for (std::uint64_t i = 0; i < size; ++i)
    v = (v << 8) | reinterpret_cast<const std::uint8_t*>(input.begin)[k + static_cast<std::int64_t>(i)];
  return v;
}

Outcome both(const std::string& text, vm::ExecOptions opt) {
  auto insns = vm::assemble(text);
  INFO(text);
  REQUIRE(insns);
  auto program = vm::decode_program(*insns, "test");
  REQUIRE(program);
  auto helpers = test_helpers();
  helpers.set_packet_load({0, "ld_abs/ld_ind", &buffer_packet_load, nullptr, {}});
  auto interp = vm::Interpreter::create(*program, helpers);
  REQUIRE(interp);
  auto jp = jit::JitProgram::compile(*program, helpers, {}, {.blind_constants = opt.budget_insns == 7});
  REQUIRE(jp);
  std::vector<std::uint8_t> buffer(16), initial(16);
  for (std::size_t i = 0; i < initial.size(); ++i) initial[i] = static_cast<std::uint8_t>(0xa0 + 7 * i);
  const bool insns_comparable = opt.checked || opt.budget_insns;
  const auto a = run_engine(*interp, buffer, initial, opt, insns_comparable);
  const auto b = run_engine(*jp, buffer, initial, opt, insns_comparable);
  INFO("interp: " << a.describe() << "\njit:    " << b.describe());
  CHECK(a == b);
  if (opt.checked || opt.budget_insns) return b;
  // Fast runs: the optimizing tier lowers LD_ABS/LD_IND too (a helper-like call and the hidden exit).
  auto optimized = jit::JitProgram::compile(*program, helpers, {}, {.optimize = true});
  REQUIRE(optimized);
  CHECK(optimized->tier(jit::Variant::Fast) == jit::Tier::Optimized);
  const auto c = run_engine(*optimized, buffer, initial, opt, false);
  INFO("optimized: " << c.describe());
  CHECK(a == c);
  return b;
}

// Fast, Counted, Checked, and a budget of 7 (blinded constants) that ends the longer programs early.
const vm::ExecOptions kVariants[] = {{}, {.budget_insns = 1000}, {.checked = true}, {.budget_insns = 7}};

}  // namespace

TEST_CASE("ld_abs/ld_ind: JIT values and offsets equal the interpreter's", "[jit][packet_load]") {
  for (const auto& opt : kVariants) {
    for (const char* size : {"b", "h", "w"}) {
      for (int k : {-1, 0, 1, 5, 12, 13, 14, 15, 16, 1 << 20}) {
        const std::string abs = "mov %r6, %r1\nmov %r0, -1\nldabs" + std::string(size) + " " + std::to_string(k) +
                                "\nadd %r0, 1\nexit\n";
        both(abs, opt);
        // LD_IND: the register plus imm, added in 64 bits; only the low 32 bits count.
        const std::string ind = "mov %r6, %r1\nlddw %r7, 0x100000000\nadd %r7, " + std::to_string(k) +
                                "\nldind" + std::string(size) + " %r7, -1\nadd %r0, 1\nexit\n";
        both(ind, opt);
      }
    }
  }
  auto w = both("mov %r6, %r1\nldabsw 4\nexit\n", {});
  REQUIRE(w.ok);
  CHECK(w.r0 == 0xbcc3cad1);  // bytes 0xa0 + 7i for i = 4..7, big-endian
}

TEST_CASE("ld_abs/ld_ind: the hidden exit ends main with 0 and returns 0 from a subprogram", "[jit][packet_load]") {
  for (const auto& opt : kVariants) {
    auto main_exit = both("mov %r6, %r1\nmov %r7, 5\nldabsw 14\nmov %r0, %r7\nexit\n", opt);
    REQUIRE(main_exit.ok);
    CHECK(main_exit.r0 == 0);
    // Nested subprograms: the innermost load fails, its caller gets 0 and goes on.
    auto sub = both(
        "mov %r6, %r1\nmov %r9, 3\ncall local f\nadd %r0, %r9\nexit\n"
        "f:\nmov %r9, 100\ncall local g\nadd %r0, 40\nexit\n"
        "g:\nstdw [%r10-8], 1\nldabsh 15\nmov %r0, 1000\nexit\n",
        opt);
    if (opt.budget_insns == 7) continue;  // compared above; the budget ends it early
    REQUIRE(sub.ok);
    CHECK(sub.r0 == 43);  // g returns 0, f returns 40, main adds its own r9 (r6-r9 restored)
  }
}

TEST_CASE("ld_abs/ld_ind: r1-r5 kept, r6 faults, missing entry refused at compile time", "[jit][packet_load]") {
  for (const auto& opt : kVariants) {
    auto kept = both("mov %r6, %r1\nmov %r2, 1\nmov %r3, 2\nmov %r4, 3\nmov %r5, 4\nldindb %r2, 0\n"
                     "add %r0, %r2\nadd %r0, %r3\nadd %r0, %r4\nadd %r0, %r5\nldxb %r2, [%r1+0]\nadd %r0, %r2\nexit\n",
                     opt);
    CHECK(kept.ok == (opt.budget_insns != 7));
    auto fault = both("mov %r6, %r10\nldabsb 0\nexit\n", opt);
    REQUIRE_FALSE(fault.ok);
    CHECK(fault.code == Errc::HelperFault);
    CHECK(fault.pc == 1);
    CHECK(fault.reason == "ld_abs/ld_ind: r6 is not the program's context");
  }
  auto program = vm::decode_program(std::vector<vm::Insn>{{0x50, 0, 1, 0, 0}, {0x95}});
  REQUIRE(program);
  const auto helpers = test_helpers();
  auto jp = jit::JitProgram::compile(*program, helpers);
  auto interp = vm::Interpreter::create(*program, helpers);
  REQUIRE_FALSE(jp);
  REQUIRE_FALSE(interp);
  CHECK(jp.error().message() == interp.error().message());
}
