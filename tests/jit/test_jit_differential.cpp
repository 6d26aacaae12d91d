// Differential test: random programs (tests/jit/random_program.hpp) on the interpreter and the JIT,
// checked mode with a budget, then the counted variant, and (for programs that zero their stack
// frames) the fast variant; everything observable must match. Some batches use only baseline
// instructions (JitOptions::baseline_isa_only), the rest what the CPU has.
#include <catch2/catch.hpp>

#include <cstdio>

#include "tests/jit/jit_test_support.hpp"
#include "tests/jit/random_program.hpp"
#include "vm/disassembler.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

struct Tally {
  int programs = 0, rejected = 0, mismatches = 0, ok = 0, faults = 0, budget = 0, depth = 0, helper = 0;
  int counted = 0, fast = 0;  // programs also compared on the counted and the fast variant
};

// The checked interpreter with the run's budget: the reference the fast JIT variant must match.
vm::ExecOptions checked_with_budget(vm::ExecOptions opt) {
  opt.checked = true;
  return opt;
}

void run_differential(std::uint64_t seed, int count, RandomProgramConfig cfg, bool blind, Tally& t,
                      bool baseline_isa = false) {
  RandomProgramGenerator gen(seed, cfg);
  const auto helpers = test_helpers();
  std::vector<std::uint8_t> buffer(cfg.buffer_bytes);
  for (int i = 0; i < count; ++i) {
    auto insns = gen.next();
    auto program = vm::decode_program(insns, "random");
    if (!program) {
      ++t.rejected;
      continue;
    }
    ++t.programs;
    const auto initial = gen.next_input();
    auto interp = vm::Interpreter::create(*program, helpers);
    REQUIRE(interp);
    jit::JitOptions jo;
    jo.checked = true;
    jo.blind_constants = blind;
    jo.baseline_isa_only = baseline_isa;
    auto jp = jit::JitProgram::compile(*program, helpers, {}, jo);
    REQUIRE(jp);
    vm::ExecOptions opt;
    opt.checked = true;
    opt.budget_insns = 1 + gen.rng()() % 3000;
    const auto a = run_engine(*interp, buffer, initial, opt);
    const auto b = run_engine(*jp, buffer, initial, opt);
    if (!(a == b)) {
      ++t.mismatches;
      if (t.mismatches <= 3) {
        std::printf("MISMATCH seed %llu #%d budget %llu\n interp: %s\n jit:    %s\n%s\n",
                    static_cast<unsigned long long>(seed), i, static_cast<unsigned long long>(opt.budget_insns),
                    a.describe().c_str(), b.describe().c_str(),
                    vm::disassemble(*program, vm::DisasmStyle::Listing).c_str());
      }
      continue;
    }
    if (a.ok) ++t.ok;
    switch (a.code) {
      case Errc::MemoryFault: ++t.faults; break;
      case Errc::BudgetExceeded: ++t.budget; break;
      case Errc::CallDepth: ++t.depth; break;
      case Errc::HelperFault: ++t.helper; break;
      default: break;
    }
    // The counted variant (unchecked memory, exact budget) is safe when the checked run never
    // faulted on memory: the same input makes the same accesses. It is compared with the checked
    // interpreter run, because both zero the stack (the unchecked interpreter does not, so
    // programs reading stack they never wrote would see garbage there).
    if (a.code != Errc::MemoryFault) {
      opt.checked = false;
      const auto& c = a;
      const auto d = run_engine(*jp, buffer, initial, opt);
      ++t.counted;
      if (!(c == d)) {
        ++t.mismatches;
        if (t.mismatches <= 3)
          std::printf("MISMATCH (counted) seed %llu #%d\n interp: %s\n jit:    %s\n%s\n",
                      static_cast<unsigned long long>(seed), i, c.describe().c_str(), d.describe().c_str(),
                      vm::disassemble(*program, vm::DisasmStyle::Listing).c_str());
      }
    }
    // The fast variant (no memory checks, no budget, stack not zeroed) is what verified programs run.
    // It is safe here when the checked run neither faulted on memory nor ran out of budget (the same
    // input takes the same path, so it ends), and comparable when every function zeroes its frame
    // first. It does not count instructions.
    if (cfg.zero_stack_first && a.code != Errc::MemoryFault && a.code != Errc::BudgetExceeded) {
      vm::ExecOptions fast;  // unchecked, no budget: Variant::Fast
      REQUIRE(jit::variant_for(fast) == jit::Variant::Fast);
      const auto c = run_engine(*interp, buffer, initial, checked_with_budget(opt), /*compare_insns=*/false);
      const auto d = run_engine(*jp, buffer, initial, fast, /*compare_insns=*/false);
      ++t.fast;
      if (!(c == d)) {
        ++t.mismatches;
        if (t.mismatches <= 3)
          std::printf("MISMATCH (fast) seed %llu #%d\n interp: %s\n jit:    %s\n%s\n",
                      static_cast<unsigned long long>(seed), i, c.describe().c_str(), d.describe().c_str(),
                      vm::disassemble(*program, vm::DisasmStyle::Listing).c_str());
      }
    }
  }
}

}  // namespace

TEST_CASE("JIT equals the interpreter on random programs", "[jit][differential]") {
  Tally t;
  RandomProgramConfig cfg;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) run_differential(seed, 1500, cfg, false, t);
  cfg.main_insns = 120;
  cfg.sub_insns = 30;
  run_differential(99, 1000, cfg, false, t);
  run_differential(7, 1000, cfg, /*blind=*/true, t);
  run_differential(11, 1000, cfg, /*blind=*/false, t, /*baseline_isa=*/true);  // no BMI2 shifts
  // The fast variant, on programs that zero their frames: plain, blinded and baseline code.
  cfg.zero_stack_first = true;
  run_differential(21, 1500, cfg, false, t);
  run_differential(22, 500, cfg, /*blind=*/true, t);
  run_differential(23, 500, cfg, false, t, /*baseline_isa=*/true);
  std::printf("differential: %d programs (%d undecodable skipped), %d mismatches; outcomes: %d ok, "
              "%d memory faults, %d budget, %d call depth, %d helper faults; %d also on the counted variant, "
              "%d on the fast one\n",
              t.programs, t.rejected, t.mismatches, t.ok, t.faults, t.budget, t.depth, t.helper, t.counted, t.fast);
  CHECK(t.mismatches == 0);
  CHECK(t.counted > 3000);
  CHECK(t.fast > 500);
  CHECK(t.programs > 5000);
  // The generator must reach every outcome, or the comparison proves little.
  CHECK(t.ok > 100);
  CHECK(t.faults > 100);
  CHECK(t.budget > 100);
  CHECK(t.depth > 0);
  CHECK(t.helper > 100);
}
