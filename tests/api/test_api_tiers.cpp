// Engine::JitOptimized and the tiering API: which tier runs (Program::jit_tier), optimize on request,
// and the same results as the interpreter through the public API.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "bpfvm/bpfvm.hpp"

using namespace bpfvm;

namespace {
// A loop over the input with a BPF-to-BPF call: r0 = sum over i < 16 of f(mem[i]), f(x) = x * 3 + 1.
constexpr const char* kLoopWithCall =
    "mov %r6, %r1\nmov %r7, 0\nmov %r8, 0\n"
    "L1:\nmov %r2, %r6\nadd %r2, %r8\nldxb %r1, [%r2+0]\ncall local L2\nadd %r7, %r0\nadd %r8, 1\n"
    "jlt %r8, 16, L1\nmov %r0, %r7\nexit\n"
    "L2:\nmov %r0, %r1\nmul %r0, 3\nadd %r0, 1\nexit\n";
}  // namespace

TEST_CASE("Engine::JitOptimized runs optimized code and agrees with the interpreter") {
  Vm vm;
  auto obj = vm.open_assembly(kLoopWithCall, ProgramType::plain(16), "loop");
  INFO((obj ? "" : obj.error().message()));
  REQUIRE(obj);
  std::vector<std::uint8_t> mem(16);
  for (std::size_t i = 0; i < mem.size(); ++i) mem[i] = static_cast<std::uint8_t>(7 * i + 1);
  std::uint64_t want = 0;
  for (auto b : mem) want += b * 3u + 1;

  auto interp = obj->load("loop", ProgramOptions{.engine = Engine::Interpreter});
  REQUIRE(interp);
  CHECK(interp->jit_tier() == JitTier::None);
  CHECK_FALSE(interp->optimize());

  auto opt = obj->load("loop", ProgramOptions{.engine = Engine::JitOptimized});
  REQUIRE(opt);
  CHECK(opt->jit_tier() == JitTier::Optimized);
  auto out = opt->run(mem);
  REQUIRE(out);
  CHECK(out->r0 == want);
  CHECK(out->r0 == interp->run(mem)->r0);
  // The listing is of the code that runs, and says which tier that is.
  auto listing = opt->native_listing();
  REQUIRE(listing);
  CHECK(listing->starts_with("tier: optimized"));

  // Checked runs and runs under a budget get the tier's checked and counted builds (x86-64 and
  // arm64), with the interpreter's instruction count.
  const auto interp_count = obj->load("loop", ProgramOptions{.engine = Engine::Interpreter, .checked = true});
  REQUIRE(interp_count);
  const auto want_insns = interp_count->run(mem)->insns_executed;
  for (const auto& options : {ProgramOptions{.engine = Engine::JitOptimized, .checked = true},
                              ProgramOptions{.engine = Engine::JitOptimized, .budget_insns = 1'000'000}}) {
    auto checked = obj->load("loop", options);
    REQUIRE(checked);
    CHECK(checked->jit_tier() == JitTier::Optimized);
    auto run = checked->run(mem);
    REQUIRE(run);
    CHECK(run->r0 == want);
    CHECK(run->insns_executed == want_insns);
    CHECK(checked->native_listing()->starts_with("tier: optimized"));
  }

  // Engine::Jit: baseline at once, optimized on request.
  auto jit = obj->load("loop", ProgramOptions{.engine = Engine::Jit});
  REQUIRE(jit);
  CHECK(jit->jit_tier() == JitTier::Baseline);
  CHECK(jit->run(mem)->r0 == want);
  auto upgraded = jit->optimize();
  CHECK(upgraded.has_value());
  CHECK(jit->jit_tier() == JitTier::Optimized);
  CHECK(jit->run(mem)->r0 == want);
  CHECK(jit->native_listing()->starts_with("tier: optimized"));

  // Unverified programs stay on the baseline (the tier builds on what the verifier proved).
  auto unverified = obj->load("loop", ProgramOptions{.engine = Engine::JitOptimized, .verify = false});
  REQUIRE(unverified);
  CHECK(unverified->jit_tier() == JitTier::Baseline);
}

TEST_CASE("dead writes to r10: every engine runs the verified program and none loads it unverified") {
  // mem[0] is a byte, so `r2 > 255` is never taken: the r10 writes behind it (a mov, an lddw, a
  // load) are dead code, as in the kernel's verifier_bounds_tail selftests. The kernel refuses a
  // write to r10 only on a path it explores; the verifier turns the dead ones into exit.
  constexpr const char* kDeadWrites =
      "ldxb %r2, [%r1+0]\njgt %r2, 255, dead\nmov %r0, %r2\nadd %r0, 1\nexit\n"
      "dead:\nmov %r10, 0\nlddw %r10, 0x1234\nldxdw %r10, [%r1+0]\nmov %r0, 0\nexit\n";
  Vm vm;
  auto obj = vm.open_assembly(kDeadWrites, ProgramType::plain(8), "dead");
  INFO((obj ? "" : obj.error().message()));
  REQUIRE(obj);
  std::vector<std::uint8_t> mem(8, 41);
  for (const Engine engine : {Engine::Interpreter, Engine::Jit, Engine::JitOptimized}) {
    for (const bool checked : {false, true}) {
      INFO(static_cast<int>(engine) << " checked " << checked);
      auto p = obj->load("dead", ProgramOptions{.engine = engine, .checked = checked});
      INFO((p ? "" : p.error().message()));
      REQUIRE(p);
      auto out = p->run(mem);
      REQUIRE(out);
      CHECK(out->r0 == 42);
    }
    auto unverified = obj->load("dead", ProgramOptions{.engine = engine, .verify = false});
    REQUIRE_FALSE(unverified);
    CHECK(unverified.error().message().find("r10 is the read-only frame pointer") != std::string::npos);
  }
  // An explored write is refused with the kernel's words.
  auto live = vm.open_assembly("mov %r10, 0\nmov %r0, 0\nexit\n", ProgramType::plain(8), "live");
  REQUIRE(live);
  auto refused = live->load("live", ProgramOptions{});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("frame pointer is read only") != std::string::npos);
}
