// bpf_tail_call on the JIT, each case compared with the interpreter in every variant: a taken tail
// call, an index out of range, an empty slot, a chain stopped by MAX_TAIL_CALL_CNT, a tail call from
// a subprogram, budget and memory errors inside the target, and a target not built for the JIT.
#include <catch2/catch.hpp>

#include <linux/bpf.h>

#include "jit/native_run.hpp"
#include "maps/prog_array_map.hpp"
#include "tests/jit/kernel_helper_pair.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

struct TailCallSetup {
  KernelHelperPair pair;
  maps::ProgArrayMap* progs = nullptr;

  TailCallSetup() {
    progs = static_cast<maps::ProgArrayMap*>(
        &pair.add_map(maps::MapSpec{.type = maps::MapType::ProgArray, .key_size = 4, .value_size = 4, .max_entries = 4}));
  }
  void put(std::uint32_t slot, KernelHelperPair::Prepared& p) {
    REQUIRE(progs->set_program(slot, maps::ProgramRef{p.target.get(), slot + 1}) == 0);
  }
};

// r1 = buffer; tail-calls slot IDX (keeping r1), then returns 1000 if the call fell through.
std::string caller_of(int index) {
  return "mov %r6, %r1\nstdw [%r6], 7\nlddw %r2, {MAP0}\nmov %r3, " + std::to_string(index) +
         "\ncall " + std::to_string(BPF_FUNC_tail_call) + "\nmov %r0, 1000\nexit\n";
}

// Adds 5 to the buffer's first word and returns it: proves it ran with the caller's r1.
constexpr const char* kTarget = "ldxdw %r0, [%r1]\nadd %r0, 5\nstxdw [%r1], %r0\nexit\n";

}  // namespace

TEST_CASE("a taken tail call replaces the program and failed ones fall through", "[jit][tailcall]") {
  TailCallSetup s;
  s.pair.optimize = GENERATE(false, true);  // callers (and targets) on either tier
  auto& target = s.pair.prepare(kTarget);
  s.put(0, target);
  auto& taken = s.pair.prepare(caller_of(0));
  auto& empty = s.pair.prepare(caller_of(2));
  auto& out_of_range = s.pair.prepare(caller_of(9));
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto t = s.pair.both(taken, options);
    CHECK(t.ok);
    CHECK(t.r0 == 12);  // the caller's "mov r0, 1000" never runs
    const auto e = s.pair.both(empty, options);
    CHECK(e.r0 == 1000);
    const auto o = s.pair.both(out_of_range, options);
    CHECK(o.r0 == 1000);
  }
}

TEST_CASE("a self tail-call chain stops after MAX_TAIL_CALL_CNT (33) tail calls", "[jit][tailcall]") {
  TailCallSetup s;
  s.pair.optimize = GENERATE(false, true);  // callers (and targets) on either tier
  // Counts its runs in the buffer's first word, tail-calls itself, returns the count on fall-through.
  auto& chain = s.pair.prepare(
      "mov %r6, %r1\nldxdw %r0, [%r6]\nadd %r0, 1\nstxdw [%r6], %r0\nmov %r1, %r6\nlddw %r2, {MAP0}\n"
      "mov %r3, 0\ncall " + std::to_string(BPF_FUNC_tail_call) + "\nldxdw %r0, [%r6]\nexit\n");
  s.put(0, chain);
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto r = s.pair.both(chain, options);
    CHECK(r.ok);
    CHECK(r.r0 == 34);  // the first run and 33 tail calls
  }
  // Budgets that run out somewhere in the chain: same pc, same message, every time.
  // Each run executes 8 instructions up to its tail call; the last one 2 more: 34 * 8 + 2 = 274.
  for (std::uint64_t budget = 1; budget <= 300; budget += 7)
    for (bool checked : {false, true}) {
      INFO("budget " << budget << " checked " << checked);
      const auto r = s.pair.both(chain, vm::ExecOptions{.budget_insns = budget, .checked = checked});
      CHECK(r.ok == (budget >= 274));
    }
}

TEST_CASE("a tail call from a subprogram returns the target's r0 to the subprogram's caller", "[jit][tailcall]") {
  TailCallSetup s;
  s.pair.optimize = GENERATE(false, true);  // callers (and targets) on either tier
  auto& target = s.pair.prepare("mov %r0, 40\nexit\n");
  s.put(1, target);
  // main keeps r6 across the call (restored by the callee's frame), f tail-calls slot 1.
  auto& caller = s.pair.prepare(
      "mov %r6, 3\ncall local f\nadd %r0, 100\nadd %r0, %r6\nexit\n"
      "f:\nmov %r6, 77\nlddw %r2, {MAP0}\nmov %r3, 1\ncall " + std::to_string(BPF_FUNC_tail_call) +
      "\nmov %r0, 5\nexit\n");
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto r = s.pair.both(caller, options);
    CHECK(r.ok);
    CHECK(r.r0 == 143);
  }
}

TEST_CASE("errors inside a tail-call target name the target's pc", "[jit][tailcall]") {
  TailCallSetup s;
  s.pair.optimize = GENERATE(false, true);  // callers (and targets) on either tier
  // Slot 0 faults in checked mode at its pc 1 (reads past the 16-byte buffer).
  auto& faulting = s.pair.prepare("mov %r0, 0\nldxdw %r0, [%r1+16]\nexit\n");
  s.put(0, faulting);
  auto& caller = s.pair.prepare(caller_of(0));
  const auto r = s.pair.both(caller, vm::ExecOptions{.checked = true});
  CHECK(r.code == Errc::MemoryFault);
  CHECK(r.pc == 1);
  for (std::uint64_t budget = 1; budget <= 10; ++budget) {
    INFO("budget " << budget);
    s.pair.both(caller, vm::ExecOptions{.budget_insns = budget, .checked = true});  // the target faults: checked
  }
}

TEST_CASE("a slot whose program was not built for the JIT is an error at the tail call", "[jit][tailcall]") {
  TailCallSetup s;
  auto& target = s.pair.prepare(kTarget);
  target.target->jit = nullptr;
  s.put(0, target);
  auto& caller = s.pair.prepare(caller_of(0));
  vm::RunContext ctx;
  std::uint64_t word = 0;
  const std::uint64_t args[] = {reinterpret_cast<std::uintptr_t>(&word)};
  auto r = caller.jit->run(ctx, args);
  REQUIRE(!r);
  CHECK(r.error().code == Errc::Unsupported);
  CHECK(r.error().pc == 5);  // the call (lddw takes two slots)
}

TEST_CASE("a tail call into a program whose fast runs are optimized enters its baseline code", "[jit][tailcall][opt]") {
  // The tail call jumps to the target's pc 0 with the caller's registers in the baseline's mapping:
  // the target's optimized code (a function with its own entry contract) cannot be entered that way.
  TailCallSetup s;
  auto& target = s.pair.prepare(kTarget);
  REQUIRE(target.jit->optimize());
  REQUIRE(target.jit->tier(jit::Variant::Fast) == jit::Tier::Optimized);
  s.put(0, target);
  auto& taken = s.pair.prepare(caller_of(0));
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto t = s.pair.both(taken, options);
    CHECK(t.ok);
    CHECK(t.r0 == 12);
  }
  // Run on its own, the target still uses its optimized code.
  const auto alone = s.pair.both(target, {});
  CHECK(alone.ok);
}

TEST_CASE("the optimizing tier lowers bpf_tail_call in every build", "[jit][tailcall][opt]") {
  // The caller's optimized code runs the target through its trampoline: the target's r0 is the
  // run's, a fall-through keeps the helper's result, and the chain limit holds.
  TailCallSetup s;
  s.pair.optimize = true;
  auto& target = s.pair.prepare(kTarget);
  s.put(0, target);
  auto& taken = s.pair.prepare(caller_of(0));
  auto& empty = s.pair.prepare(caller_of(2));
  auto& chain = s.pair.prepare(
      "mov %r6, %r1\nldxdw %r0, [%r6]\nadd %r0, 1\nstxdw [%r6], %r0\nmov %r1, %r6\nlddw %r2, {MAP0}\n"
      "mov %r3, 1\ncall " + std::to_string(BPF_FUNC_tail_call) + "\nadd %r0, 2\nldxdw %r1, [%r6]\nadd %r0, %r1\nexit\n");
  s.put(1, chain);
  for (auto* p : {&taken, &empty, &chain}) {
    CHECK(p->jit->tier(jit::Variant::Fast) == jit::Tier::Optimized);
    CHECK(p->jit->tier(jit::Variant::Counted) == jit::Tier::Optimized);
    CHECK(p->jit->tier(jit::Variant::Checked) == jit::Tier::Optimized);
  }
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    CHECK(s.pair.both(taken, options).r0 == 12);
    CHECK(s.pair.both(empty, options).r0 == 1000);
    const auto c = s.pair.both(chain, options);
    CHECK(c.ok);
    CHECK(c.r0 == 34);  // the 34th run's tail call fails (-ENOENT), then adds 2 and the count: -2 + 2 + 34
  }
  for (std::uint64_t budget = 1; budget <= 320; budget += 3) {
    INFO("budget " << budget);
    s.pair.both(chain, vm::ExecOptions{.budget_insns = budget});
  }
}

TEST_CASE("held runs of an optimized caller start at its own code after a taken tail call", "[jit][tailcall][opt]") {
  // The caller also passes a callback, so its optimized code dispatches on JitState::entry at offset 0:
  // a HeldRun keeps that field between runs, so the tail call must leave it as the run found it.
  TailCallSetup s;
  s.pair.optimize = true;
  auto& target = s.pair.prepare(kTarget);
  s.put(0, target);
  auto& caller = s.pair.prepare("mov %r7, %r1\nmov %r1, 1\nlddw_func %r2, cb\nmov %r3, 0\nmov %r4, 0\ncall " +
                                std::to_string(BPF_FUNC_loop) + "\nmov %r1, %r7\n" + caller_of(0) +
                                "cb:\nmov %r0, 0\nexit\n");
  REQUIRE(caller.jit->tier(jit::Variant::Fast) == jit::Tier::Optimized);
  vm::RunContext ctx;
  helpers::HelperRun hr;
  ctx.host = &hr;
  jit::HeldRun held;
  held.prepare(*caller.jit, ctx, vm::ExecOptions{});
  for (int run = 0; run < 3; ++run) {
    INFO("run " << run);
    std::uint64_t word = 0;  // the caller stores 7, the target adds 5
    const std::uint64_t args[] = {reinterpret_cast<std::uintptr_t>(&word)};
    REQUIRE(held.run(args));
    CHECK(held.r0() == 12);
    CHECK(word == 12);
  }
}
