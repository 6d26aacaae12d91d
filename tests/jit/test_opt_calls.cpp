// The optimizing tier's calls that leave the inlined code: bpf_tail_call from an inlined subprogram
// (the target's r0 returns to the subprogram's caller, its calls nest from the subprogram's depth),
// tail calls in checked builds (the target's stack is its own frame, the caller's frames are the
// stack again after a failed one) and callx (a subprogram address inlined behind a compare, a helper
// id, bpf_tail_call by id, a bad value). Every program must run on the tier in all three variants
// (tier() == Optimized) and agree with the interpreter: result, instruction count, budget errors,
// memory.
#include <catch2/catch.hpp>

#include <linux/bpf.h>

#include "maps/prog_array_map.hpp"
#include "tests/jit/kernel_helper_pair.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

const std::string kTailCall = std::to_string(BPF_FUNC_tail_call);
const std::string kUpdate = std::to_string(BPF_FUNC_map_update_elem);

/// MAP0: a prog array of 4 slots; MAP1: an array of 4 u64 values.
struct CallSetup {
  KernelHelperPair pair;
  maps::ProgArrayMap* progs = nullptr;

  CallSetup() {
    pair.optimize = true;
    progs = static_cast<maps::ProgArrayMap*>(
        &pair.add_map(maps::MapSpec{.type = maps::MapType::ProgArray, .key_size = 4, .value_size = 4, .max_entries = 4}));
    pair.add_map(maps::MapSpec{.type = maps::MapType::Array, .key_size = 4, .value_size = 8, .max_entries = 4});
  }
  KernelHelperPair::Prepared& prepare(const std::string& text, std::uint32_t slot = UINT32_MAX) {
    auto& p = pair.prepare(text);
    if (slot != UINT32_MAX) REQUIRE(progs->set_program(slot, maps::ProgramRef{p.target.get(), slot + 1}) == 0);
    return p;
  }
};

void require_optimized(const KernelHelperPair::Prepared& p) {
  for (auto variant : {jit::Variant::Fast, jit::Variant::Counted, jit::Variant::Checked}) {
    INFO("variant " << static_cast<int>(variant));
    CHECK(p.jit->tier(variant) == jit::Tier::Optimized);
  }
}

/// Every variant, then budgets from 1 up to `max_budget` in counted and checked runs: the same
/// outcome as the interpreter each time. Returns the fast run's.
Outcome compare_everywhere(const CallSetup& s, const KernelHelperPair::Prepared& p, std::uint64_t max_budget) {
  Outcome fast;
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto r = s.pair.both(p, options);
    if (!options.checked && options.budget_insns == 0) fast = r;
  }
  for (std::uint64_t budget = 1; budget <= max_budget; ++budget)
    for (bool checked : {false, true}) {
      INFO("budget " << budget << " checked " << checked);
      s.pair.both(p, vm::ExecOptions{.budget_insns = budget, .checked = checked});
    }
  return fast;
}

}  // namespace

TEST_CASE("the optimizing tier runs a tail call from an inlined subprogram", "[jit][opt][tailcall][calls]") {
  // main keeps r6 across the call; f tail-calls: the target's r0 is f's, returned to main.
  CallSetup s;
  s.prepare("mov %r0, 40\nexit\n", 1);
  auto caller_of = [&](int slot) -> KernelHelperPair::Prepared& {
    return s.prepare("mov %r6, 3\ncall local f\nadd %r0, 100\nadd %r0, %r6\nexit\n"
                     "f:\nmov %r6, 77\nlddw %r2, {MAP0}\nmov %r3, " + std::to_string(slot) + "\ncall " + kTailCall +
                     "\nmov %r0, 5\nexit\n");
  };
  auto& taken = caller_of(1);
  auto& empty = caller_of(2);
  require_optimized(taken);
  require_optimized(empty);
  CHECK(compare_everywhere(s, taken, 20).r0 == 143);
  CHECK(compare_everywhere(s, empty, 20).r0 == 108);
}

TEST_CASE("tail calls from subprograms nest from the subprogram's depth", "[jit][opt][tailcall][calls]") {
  CallSetup s;
  SECTION("a chain of 33 tail calls, each one call deeper, returns through every level") {
    // Each level's main calls f, which counts and tail-calls the program again; the last f's tail
    // call fails (MAX_TAIL_CALL_CNT) and returns the count, 34; each of the 34 mains adds 1.
    auto& chain = s.prepare("mov %r6, %r1\ncall local f\nadd %r0, 1\nexit\n"
                            "f:\nldxdw %r0, [%r6]\nadd %r0, 1\nstxdw [%r6], %r0\nmov %r1, %r6\nlddw %r2, {MAP0}\n"
                            "mov %r3, 0\ncall " + kTailCall + "\nldxdw %r0, [%r6]\nexit\n", 0);
    require_optimized(chain);
    CHECK(compare_everywhere(s, chain, 400).r0 == 68);
  }
  SECTION("two calls per level reach the run's frame limit at the interpreter's pc") {
    // Tail calls from depth 2, 4, ... 40: main at depth 40 cannot call f (isa::kMaxRunFrames).
    auto& deep = s.prepare("mov %r6, %r1\ncall local f\nexit\nf:\ncall local g\nexit\n"
                           "g:\nldxdw %r0, [%r6]\nadd %r0, 1\nstxdw [%r6], %r0\nmov %r1, %r6\nlddw %r2, {MAP0}\n"
                           "mov %r3, 0\ncall " + kTailCall + "\nldxdw %r0, [%r6]\nexit\n", 0);
    require_optimized(deep);
    const auto r = compare_everywhere(s, deep, 300);
    CHECK(r.code == Errc::CallDepth);
    CHECK(r.pc == 1);
  }
}

TEST_CASE("a checked build's tail call gives the target its frame and the caller its frames back", "[jit][opt][tailcall][calls]") {
  CallSetup s;
  // The target writes a map from keys on its own stack: the checked helper tests them against the stack.
  const std::string update = "lddw %r1, {MAP1}\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall " +
                             kUpdate + "\n";
  s.prepare("stw [%r10-4], 1\nstdw [%r10-16], 99\n" + update + "ldxdw %r0, [%r10-16]\nexit\n", 1);
  // f (depth 1) tail-calls slot SLOT, then (a failed call) uses its own stack with a helper likewise.
  auto caller_of = [&](int slot) -> KernelHelperPair::Prepared& {
    return s.prepare("mov %r6, 3\ncall local f\nadd %r0, %r6\nexit\n"
                     "f:\nmov %r7, %r1\nstw [%r10-4], 2\nstdw [%r10-16], 55\nlddw %r2, {MAP0}\nmov %r3, " +
                     std::to_string(slot) + "\ncall " + kTailCall + "\n" + update +
                     "ldxdw %r0, [%r10-16]\nldxdw %r1, [%r7]\nadd %r0, %r1\nexit\n");
  };
  auto& taken = caller_of(1);
  auto& empty = caller_of(3);
  auto& at_depth0 = s.prepare("mov %r6, %r1\nstdw [%r10-8], 4\nlddw %r2, {MAP0}\nmov %r3, 1\ncall " + kTailCall +
                              "\nldxdw %r0, [%r10-8]\nexit\n");
  for (auto* p : {&taken, &empty, &at_depth0}) require_optimized(*p);
  CHECK(compare_everywhere(s, taken, 30).r0 == 102);
  CHECK(compare_everywhere(s, empty, 30).r0 == 58);
  CHECK(compare_everywhere(s, at_depth0, 30).r0 == 99);
  // A target faulting in a checked run: its pc, its message.
  s.prepare("ldxdw %r0, [%r1+16]\nexit\n", 2);
  auto& faulting = caller_of(2);
  require_optimized(faulting);
  const auto r = s.pair.both(faulting, vm::ExecOptions{.checked = true});
  CHECK(r.code == Errc::MemoryFault);
  CHECK(r.pc == 0);
}

TEST_CASE("callx of a subprogram address runs it as a local call on the tier", "[jit][opt][calls]") {
  CallSetup s;
  struct Case {
    const char* what;
    std::string text;
    std::uint64_t max_budget, r0;
  };
  const Case cases[] = {
      {"r6..r9 kept, the callee sees the caller's registers",
       "mov %r6, 5\nlddw_func %r3, f\ncall %r3\nadd %r0, %r6\nexit\nf:\nmov %r6, 100\nldxdw %r0, [%r1]\nadd %r0, 7\nexit\n",
       12, 12},
      {"the value chooses between two subprograms",
       "mov %r7, 0\nmov %r8, 0\nloop:\nlddw_func %r3, f\njeq %r7, 0, go\nlddw_func %r3, g\ngo:\ncall %r3\nlsh %r8, 4\n"
       "add %r8, %r0\nadd %r7, 1\njlt %r7, 2, loop\nmov %r0, %r8\nexit\nf:\nmov %r0, 1\nexit\ng:\nmov %r7, 9\nmov %r0, 2\nexit\n",
       40, 0x12},
      {"the callee reads the caller's frame through a pointer (checked builds check it)",
       "stdw [%r10-8], 21\nmov %r2, %r10\nadd %r2, -8\nlddw_func %r3, f\ncall %r3\nexit\n"
       "f:\nldxdw %r0, [%r2]\nmul %r0, 2\nstdw [%r10-8], 1\nexit\n",
       12, 42},
      {"callx from a subprogram",
       "mov %r6, 1\ncall local f\nadd %r0, %r6\nexit\nf:\nlddw_func %r4, g\nmov %r6, 2\ncall %r4\nadd %r0, %r6\nexit\n"
       "g:\nmov %r6, 40\nmov %r0, 300\nexit\n",
       20, 303},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto& p = s.prepare(c.text);
    require_optimized(p);
    CHECK(compare_everywhere(s, p, c.max_budget).r0 == c.r0);
  }
}

TEST_CASE("callx of a helper id, of bpf_tail_call, and of a bad value on the tier", "[jit][opt][calls]") {
  CallSetup s;
  s.prepare("ldxdw %r0, [%r1]\nadd %r0, 40\nexit\n", 1);
  SECTION("a helper id, with a subprogram address taken in the program (compared first)") {
    // bpf_map_update_elem by id: MAP1[2] = 77, then bpf_map_lookup_elem by id reads it back.
    auto& p = s.prepare("lddw_func %r9, f\nstw [%r10-4], 2\nstdw [%r10-16], 77\nlddw %r1, {MAP1}\nmov %r2, %r10\n"
                        "add %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\nmov %r5, " + kUpdate + "\ncall %r5\n"
                        "lddw %r1, {MAP1}\nmov %r2, %r10\nadd %r2, -4\nmov %r5, " + std::to_string(BPF_FUNC_map_lookup_elem) +
                        "\ncall %r5\njeq %r0, 0, out\nldxdw %r0, [%r0]\nout:\nexit\nf:\nmov %r0, 1\nexit\n");
    require_optimized(p);
    CHECK(compare_everywhere(s, p, 30).r0 == 77);
  }
  SECTION("bpf_tail_call by id, from the program and from a subprogram") {
    auto& p = s.prepare("mov %r6, %r1\nstdw [%r6], 2\nlddw %r2, {MAP0}\nmov %r3, 1\nmov %r4, " + kTailCall +
                        "\ncall %r4\nmov %r0, 1000\nexit\n");
    require_optimized(p);
    CHECK(compare_everywhere(s, p, 12).r0 == 42);
    auto& sub = s.prepare("mov %r6, 3\ncall local f\nadd %r0, %r6\nexit\nf:\nlddw %r2, {MAP0}\nmov %r3, 1\nmov %r5, " +
                          kTailCall + "\ncall %r5\nmov %r0, 1000\nexit\n");
    require_optimized(sub);
    CHECK(compare_everywhere(s, sub, 12).r0 == 43);
  }
  SECTION("a value that names neither fails at the callx") {
    auto& p = s.prepare("lddw_func %r9, f\nmov %r0, 1\nlddw %r2, 0x123456789\ncall %r2\nexit\nf:\nmov %r0, 1\nexit\n");
    require_optimized(p);
    const auto r = compare_everywhere(s, p, 6);
    CHECK(r.code == Errc::HelperFault);
    CHECK(r.pc == 5);  // the callx (each lddw takes two slots)
  }
}

TEST_CASE("after a tail call from a subprogram the caller runs as itself", "[jit][opt][tailcall][calls]") {
  // The target switched the running program and wrote the trampoline's stack pointer: the caller's
  // callback (bpf_loop), a fault in its checked code (unwound to its own frame) and a budget running
  // out after the return must all still be the caller's.
  CallSetup s;
  s.prepare("mov %r0, 40\nexit\n", 1);
  auto caller_reading = [&](int offset) -> KernelHelperPair::Prepared& {
    return s.prepare("mov %r7, %r1\ncall local f\nmov %r6, %r0\nmov %r1, 2\nlddw_func %r2, cb\nmov %r3, 0\nmov %r4, 0\n"
                     "call " + std::to_string(BPF_FUNC_loop) + "\nadd %r0, %r6\nldxdw %r1, [%r7+" +
                     std::to_string(offset) + "]\nadd %r0, %r1\nexit\n"
                     "f:\nlddw %r2, {MAP0}\nmov %r3, 1\ncall " + kTailCall + "\nmov %r0, 5\nexit\ncb:\nmov %r0, 0\nexit\n");
  };
  auto& in_bounds = caller_reading(8);
  require_optimized(in_bounds);
  CHECK(compare_everywhere(s, in_bounds, 30).r0 == 42);
  auto& past_end = caller_reading(16);
  require_optimized(past_end);
  const auto r = s.pair.both(past_end, vm::ExecOptions{.checked = true});
  CHECK(r.code == Errc::MemoryFault);
  CHECK(r.pc == 10);
}
