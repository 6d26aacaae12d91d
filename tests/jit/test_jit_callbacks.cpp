// Helpers that call back into the program (bpf_loop, bpf_for_each_map_elem) on the JIT, compared
// with the interpreter in every variant: results, the shared instruction budget (exhausted inside a
// callback: same pc and message), call depth inside a callback, callbacks after a tail call.
#include <catch2/catch.hpp>

#include <linux/bpf.h>

#include "maps/prog_array_map.hpp"
#include "maps/user_ringbuf_map.hpp"
#include "tests/jit/kernel_helper_pair.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

const std::string kLoop = std::to_string(BPF_FUNC_loop);

// bpf_loop(10, cb, &sum, 0): cb adds i to sum and stops after i == 6; returns calls * 1000 + sum.
const std::string kLoopProgram =
    "stdw [%r10-8], 0\nmov %r1, 10\nlddw_func %r2, cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
    "call " + kLoop + "\nmul %r0, 1000\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit\n"
    "cb:\nldxdw %r0, [%r2]\nadd %r0, %r1\nstxdw [%r2], %r0\nmov %r0, 0\njlt %r1, 6, out\nmov %r0, 1\nout:\nexit\n";

}  // namespace

TEST_CASE("bpf_loop runs the callback subprogram on the JIT", "[jit][callback]") {
  KernelHelperPair pair;
  pair.optimize = GENERATE(false, true);  // programs (and targets) on either tier
  auto& p = pair.prepare(kLoopProgram);
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto r = pair.both(p, options);
    CHECK(r.ok);
    CHECK(r.r0 == 7 * 1000 + 21);
  }
}

TEST_CASE("a budget exhausted inside a callback fails like the interpreter", "[jit][callback]") {
  KernelHelperPair pair;
  pair.optimize = GENERATE(false, true);  // programs (and targets) on either tier
  auto& p = pair.prepare(kLoopProgram);
  bool failed_in_callback = false;
  for (std::uint64_t budget = 1; budget <= 80; ++budget)
    for (bool checked : {false, true}) {
      INFO("budget " << budget << " checked " << checked);
      const auto r = pair.both(p, vm::ExecOptions{.budget_insns = budget, .checked = checked});
      if (r.code == Errc::HelperFault) failed_in_callback = true;  // "bpf_loop: callback: ..."
    }
  CHECK(failed_in_callback);
}

TEST_CASE("callbacks start at call depth 0 and keep their own r6-r9", "[jit][callback]") {
  KernelHelperPair pair;
  pair.optimize = GENERATE(false, true);  // programs (and targets) on either tier
  // The callback nests local calls: starting at depth 0 like a run, 7 fit in isa::kMaxCallFrames,
  // the 8th is a call-depth error, reported through bpf_loop's fault at the bpf_loop call.
  auto nested = [&](int levels) {
    std::string text = "mov %r6, 11\nmov %r1, 1\nlddw_func %r2, cb\nmov %r3, 0\nmov %r4, 0\ncall " + kLoop +
                       "\nadd %r0, %r6\nexit\ncb:\nmov %r6, 99\n";
    for (int i = 0; i < levels; ++i) text += "call local f" + std::to_string(i) + "\nexit\nf" + std::to_string(i) + ":\n";
    text += "mov %r0, 0\nexit\n";
    return text;
  };
  for (int levels : {6, 7, 8}) {
    auto& p = pair.prepare(nested(levels));
    for (const auto& options : every_variant()) {
      INFO("levels " << levels << " checked " << options.checked << " budget " << options.budget_insns);
      const auto r = pair.both(p, options);
      if (levels < 8) {
        CHECK(r.ok);
        CHECK(r.r0 == 1 + 11);
      } else {
        CHECK(r.code == Errc::HelperFault);
      }
    }
  }
}

TEST_CASE("bpf_for_each_map_elem hands the callback map memory that checked mode allows", "[jit][callback]") {
  KernelHelperPair pair;
  pair.optimize = GENERATE(false, true);  // programs (and targets) on either tier
  auto& array = pair.add_map(maps::MapSpec{.type = maps::MapType::Array, .key_size = 4, .value_size = 8, .max_entries = 4});
  for (std::uint32_t k = 0; k < 4; ++k) {
    const std::uint64_t v = 10 * (k + 1);
    REQUIRE(array.host_update(&k, &v, 0) == 0);
  }
  // Sums key * value over the elements through callback_ctx; returns visited * 1000 + sum.
  auto& p = pair.prepare(
      "stdw [%r10-8], 0\nlddw %r1, {MAP0}\nlddw_func %r2, cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
      "call " + std::to_string(BPF_FUNC_for_each_map_elem) + "\nmul %r0, 1000\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit\n"
      "cb:\nldxw %r2, [%r2]\nldxdw %r3, [%r3]\nmul %r3, %r2\nldxdw %r0, [%r4]\nadd %r0, %r3\nstxdw [%r4], %r0\n"
      "mov %r0, 0\nexit\n");
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto r = pair.both(p, options);
    CHECK(r.ok);
    CHECK(r.r0 == 4 * 1000 + (0 * 10 + 1 * 20 + 2 * 30 + 3 * 40));
  }
}

TEST_CASE("bpf_user_ringbuf_drain hands the callback a dynptr over each sample", "[jit][callback]") {
  KernelHelperPair pair;
  pair.optimize = GENERATE(false, true);  // programs (and targets) on either tier
  auto* ring = static_cast<maps::UserRingbufMap*>(
      &pair.add_map(maps::MapSpec{.type = maps::MapType::UserRingbuf, .max_entries = 4096}));
  // Before each engine's run: samples holding 1..5 as u64 (and a discarded 99 between 2 and 3).
  pair.before_run = [ring] {
    for (std::uint64_t v : {1, 2, 99, 3, 4, 5}) {
      std::byte* s = nullptr;
      REQUIRE(ring->reserve(8, &s) == 0);
      std::memcpy(s, &v, 8);
      REQUIRE((v == 99 ? ring->discard(s) : ring->submit(s)) == 0);
    }
  };
  // The callback adds the sample's u64 (bpf_dynptr_read) and its first byte (bpf_dynptr_data) into
  // callback_ctx; returns drained * 1000000 + sum.
  auto& p = pair.prepare(
      "stdw [%r10-8], 0\nlddw %r1, {MAP0}\nlddw_func %r2, cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
      "call " + std::to_string(BPF_FUNC_user_ringbuf_drain) + "\nmul %r0, 1000000\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit\n"
      "cb:\nmov %r6, %r2\nmov %r7, %r1\nstdw [%r10-8], 0\nmov %r3, %r1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\n"
      "mov %r4, 0\nmov %r5, 0\ncall " + std::to_string(BPF_FUNC_dynptr_read) + "\nldxdw %r0, [%r10-8]\n"
      "ldxdw %r1, [%r6]\nadd %r1, %r0\nstxdw [%r6], %r1\nmov %r1, %r7\nmov %r2, 0\nmov %r3, 1\n"
      "call " + std::to_string(BPF_FUNC_dynptr_data) + "\njeq %r0, 0, skip\nldxb %r1, [%r0]\nldxdw %r2, [%r6]\n"
      "add %r2, %r1\nstxdw [%r6], %r2\nskip:\nmov %r0, 0\nexit\n");
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto r = pair.both(p, options);
    CHECK(r.ok);
    CHECK(r.r0 == 5 * 1000000 + 2 * (1 + 2 + 3 + 4 + 5));
  }
}

TEST_CASE("a callback after a tail call runs the target's subprogram", "[jit][callback][tailcall]") {
  KernelHelperPair pair;
  pair.optimize = GENERATE(false, true);  // programs (and targets) on either tier
  auto* progs = static_cast<maps::ProgArrayMap*>(
      &pair.add_map(maps::MapSpec{.type = maps::MapType::ProgArray, .key_size = 4, .value_size = 4, .max_entries = 1}));
  auto& target = pair.prepare(kLoopProgram);
  REQUIRE(progs->set_program(0, maps::ProgramRef{target.target.get(), 1}) == 0);
  auto& caller = pair.prepare("lddw %r2, {MAP0}\nmov %r3, 0\ncall " + std::to_string(BPF_FUNC_tail_call) +
                              "\nmov %r0, 1\nexit\n");
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto r = pair.both(caller, options);
    CHECK(r.ok);
    CHECK(r.r0 == 7 * 1000 + 21);
  }
}

TEST_CASE("a tail call inside a callback ends the callback, and the caller's next callback is its own", "[jit][callback][tailcall]") {
  KernelHelperPair pair;
  pair.optimize = GENERATE(false, true);  // programs (and targets) on either tier
  auto* progs = static_cast<maps::ProgArrayMap*>(
      &pair.add_map(maps::MapSpec{.type = maps::MapType::ProgArray, .key_size = 4, .value_size = 4, .max_entries = 1}));
  auto& target = pair.prepare("mov %r0, 0\nexit\n");
  REQUIRE(progs->set_program(0, maps::ProgramRef{target.target.get(), 1}) == 0);
  // The first bpf_loop's callback tail-calls the target (which returns 0 to bpf_loop); the second
  // bpf_loop's callback must still be looked up in the caller, not in the tail-call target.
  auto& caller = pair.prepare(
      "mov %r1, 1\nlddw_func %r2, cb\nmov %r3, 0\nmov %r4, 0\ncall " + kLoop + "\nmov %r6, %r0\n"
      "mov %r1, 2\nlddw_func %r2, cb2\nmov %r3, 0\nmov %r4, 0\ncall " + kLoop + "\nmul %r0, 10\nadd %r0, %r6\nexit\n"
      "cb:\nlddw %r2, {MAP0}\nmov %r3, 0\ncall " + std::to_string(BPF_FUNC_tail_call) + "\nmov %r0, 1\nexit\n"
      "cb2:\nmov %r0, 0\nexit\n");
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto r = pair.both(caller, options);
    CHECK(r.ok);
    CHECK(r.r0 == 2 * 10 + 1);
  }
}

TEST_CASE("the optimizing tier compiles callbacks as functions of their own", "[jit][callback][opt]") {
  // bpf_loop's and bpf_for_each_map_elem's callbacks, callbacks that pass callbacks themselves (roots
  // reached only from other roots), and a local call beside them.
  KernelHelperPair pair;
  pair.optimize = true;
  auto& array = pair.add_map(maps::MapSpec{.type = maps::MapType::Array, .key_size = 4, .value_size = 8, .max_entries = 2});
  for (std::uint32_t k = 0; k < 2; ++k) {
    const std::uint64_t v = k + 5;
    REQUIRE(array.host_update(&k, &v, 0) == 0);
  }
  auto& loop = pair.prepare(kLoopProgram);
  // bpf_loop(3, cb); cb: bpf_loop(2, inner); inner: for_each over the map adding values to the
  // stack word; then the local call twice(4).
  auto& nested = pair.prepare(
      "stdw [%r10-8], 0\nmov %r1, 3\nlddw_func %r2, cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall " + kLoop +
      "\nmov %r6, %r0\nmov %r1, 4\ncall local twice\nadd %r0, %r6\nldxdw %r1, [%r10-8]\nmul %r1, 100\nadd %r0, %r1\nexit\n"
      "cb:\nmov %r6, %r2\nmov %r1, 2\nlddw_func %r2, inner\nmov %r3, %r6\nmov %r4, 0\ncall " + kLoop + "\nmov %r0, 0\nexit\n"
      "inner:\nmov %r3, %r2\nlddw %r1, {MAP0}\nlddw_func %r2, twice_cb\nmov %r4, 0\ncall " +
      std::to_string(BPF_FUNC_for_each_map_elem) + "\nmov %r0, 0\nexit\n"
      "twice_cb:\nldxdw %r0, [%r3]\nldxdw %r1, [%r4]\nadd %r1, %r0\nstxdw [%r4], %r1\nmov %r0, 0\nexit\n"
      "twice:\nmov %r0, %r1\nmul %r0, 2\nexit\n");
  // The listing names the tier first (the dispatcher at offset 0 comes after), then each callback's function.
  const auto listing = loop.jit->listing(jit::Variant::Fast);
  REQUIRE(listing);
  CHECK(listing->starts_with("tier: optimized"));
  CHECK(listing->find("function of the callback at pc") != std::string::npos);
  for (auto* p : {&loop, &nested}) {
    CHECK(p->jit->tier(jit::Variant::Fast) == jit::Tier::Optimized);
    CHECK(p->jit->tier(jit::Variant::Counted) == jit::Tier::Optimized);
    CHECK(p->jit->tier(jit::Variant::Checked) == jit::Tier::Optimized);
  }
  for (const auto& options : every_variant()) {
    INFO("checked " << options.checked << " budget " << options.budget_insns);
    const auto l = pair.both(loop, options);
    CHECK(l.ok);
    CHECK(l.r0 == 7 * 1000 + 21);
    const auto n = pair.both(nested, options);
    CHECK(n.ok);
    CHECK(n.r0 == 3 * 2 * (5 + 6) * 100 + 3 + 8);  // the sum, bpf_loop's 3 calls, twice(4)
  }
  for (std::uint64_t budget = 1; budget <= 120; budget += 2)
    for (bool checked : {false, true}) {
      INFO("budget " << budget << " checked " << checked);
      pair.both(nested, vm::ExecOptions{.budget_insns = budget, .checked = checked});
    }
}
