// vm::ExecOptions::runs (the repeat loop of a test run) on the JIT, compared with the interpreter in
// every variant: memory written by one run is seen by the next, while the budget, the instruction
// count, the tail-call count and checked mode's zeroed stack start afresh in every run.
#include <catch2/catch.hpp>

#include <linux/bpf.h>

#include "maps/prog_array_map.hpp"
#include "tests/jit/kernel_helper_pair.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

vm::ExecOptions with_runs(vm::ExecOptions options, std::uint32_t runs) {
  options.runs = runs;
  return options;
}

}  // namespace

TEST_CASE("repeated runs share memory and report the last run", "[jit][repeat]") {
  KernelHelperPair pair;
  // Adds 1 to the buffer's first word and returns it: 4 instructions per run.
  auto& counter = pair.prepare("ldxdw %r0, [%r1]\nadd %r0, 1\nstxdw [%r1], %r0\nexit\n");
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto r = pair.both(counter, with_runs(options, 5));
    CHECK(r.ok);
    CHECK(r.r0 == 5);
    CHECK(r.insns == (options.checked || options.budget_insns ? 4 : 0));  // the last run's count
  }
  // The budget is per run: five runs of 4 instructions fit a budget of 4.
  for (bool checked : {false, true}) {
    const auto r = pair.both(counter, vm::ExecOptions{.budget_insns = 4, .checked = checked, .runs = 5});
    CHECK(r.ok);
    CHECK(r.r0 == 5);
  }
}

TEST_CASE("every repeated run gets its own 33 tail calls", "[jit][repeat][tailcall]") {
  KernelHelperPair pair;
  auto* progs = static_cast<maps::ProgArrayMap*>(
      &pair.add_map(maps::MapSpec{.type = maps::MapType::ProgArray, .key_size = 4, .value_size = 4, .max_entries = 1}));
  // Counts its entries in the buffer's first word and tail-calls itself; falls through after 33.
  auto& chain = pair.prepare(
      "mov %r6, %r1\nldxdw %r0, [%r6]\nadd %r0, 1\nstxdw [%r6], %r0\nmov %r1, %r6\nlddw %r2, {MAP0}\n"
      "mov %r3, 0\ncall " + std::to_string(BPF_FUNC_tail_call) + "\nldxdw %r0, [%r6]\nexit\n");
  REQUIRE(progs->set_program(0, maps::ProgramRef{chain.target.get(), 1}) == 0);
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto r = pair.both(chain, with_runs(options, 3));
    CHECK(r.ok);
    CHECK(r.r0 == 3 * 34);  // each run: itself and 33 tail calls
  }
  // One run needs 274 instructions (see test_jit_tail_calls); three runs fit that budget each.
  const auto r = pair.both(chain, vm::ExecOptions{.budget_insns = 274, .checked = true, .runs = 3});
  CHECK(r.ok);
}

TEST_CASE("checked mode zeroes the stack before every repeated run", "[jit][repeat]") {
  KernelHelperPair pair;
  // Unverified: reads a stack slot no one wrote in this run, then writes it.
  auto& p = pair.prepare("ldxdw %r0, [%r10-8]\nstdw [%r10-8], 7\nexit\n");
  const auto r = pair.both(p, vm::ExecOptions{.checked = true, .runs = 3});
  CHECK(r.ok);
  CHECK(r.r0 == 0);
}

TEST_CASE("a failing run ends the repeat loop with its error", "[jit][repeat]") {
  KernelHelperPair pair;
  // The second run reads past the 16-byte buffer: the first word counts runs, the offset is 8 * count.
  auto& p = pair.prepare(
      "ldxdw %r2, [%r1]\nadd %r2, 1\nstxdw [%r1], %r2\nlsh %r2, 3\nadd %r2, %r1\nldxdw %r0, [%r2]\nexit\n");
  const auto ok = pair.both(p, vm::ExecOptions{.checked = true, .runs = 1});
  CHECK(ok.ok);
  const auto failed = pair.both(p, vm::ExecOptions{.checked = true, .runs = 5});
  CHECK_FALSE(failed.ok);
  CHECK(failed.code == Errc::MemoryFault);
  CHECK(failed.pc == 5);
}
