// verify() API: stats, logs, warnings, line info, the CFG export, privilege modes, speed, and a
// deterministic soundness property over random programs (the fuzz harness's oracle, in ctest).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>
#include <type_traits>

#include "tests/verifier/random_program.hpp"
#include "tests/verifier/soundness_run.hpp"
#include "tests/verifier/verifier_test_support.hpp"
#include "vm/assembler.hpp"
#include "vm/data_file.hpp"
#include "vm/disassembler.hpp"

using namespace bpfvm;
using namespace bpfvm::verifier;

namespace {

vm::Program assemble(const char* text) {
  auto insns = vm::assemble(text);
  REQUIRE(insns.has_value());
  auto p = vm::decode_program(std::move(insns).value(), "test");
  REQUIRE(p.has_value());
  return std::move(p).value();
}

constexpr const char* kXdpParser = R"(
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, pass
ldxh %r5, [%r2+12]
jne %r5, 0x8, pass
mov %r4, %r2
add %r4, 34
jgt %r4, %r3, pass
ldxb %r5, [%r2+23]
jne %r5, 6, udp
mov %r4, %r2
add %r4, 54
jgt %r4, %r3, pass
ldxh %r6, [%r2+36]
jeq %r6, 0x5000, drop
ja pass
udp:
jne %r5, 17, pass
mov %r4, %r2
add %r4, 42
jgt %r4, %r3, pass
ldxh %r6, [%r2+36]
jne %r6, 0x3500, pass
drop:
mov %r0, 1
exit
pass:
mov %r0, 2
exit
)";

}  // namespace

static_assert(!std::is_constructible_v<VerifiedProgram, vm::Program, VerifierStats, std::vector<Warning>>,
              "only verify() may construct a VerifiedProgram");

TEST_CASE("accepted program carries stats, logs at level 1 and 2 describe the exploration") {
  const auto p = assemble(kXdpParser);
  std::string log1, log2;
  VerifierOptions o;
  o.program_type = program_types::xdp();
  o.log_level = 1;
  o.log = &log1;
  auto v = verify(p, o);
  REQUIRE(v.has_value());
  CHECK(v->stats().insns_processed >= p.size());
  CHECK(v->stats().states_stored > 0);
  CHECK(log1.find("verification passed") != std::string::npos);
  o.log_level = 2;
  o.log = &log2;
  REQUIRE(verify(p, o).has_value());
  CHECK(log2.find("R1=ctx") != std::string::npos);
  CHECK(log2.find("pkt_range=14") != std::string::npos);
  CHECK(log2.size() > log1.size());
}

TEST_CASE("rejection: Error names the insn, and the log ends with the reason") {
  const auto p = assemble("ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit");
  std::string log;
  VerifierOptions o;
  o.program_type = program_types::xdp();
  o.log_level = 2;
  o.log = &log;
  o.line_info = [](std::uint32_t pc) { return pc == 1 ? std::string("parse.c:12 `return data[0];`") : std::string(); };
  auto v = verify(p, o);
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().code == Errc::Rejected);
  CHECK(v.error().pc == 1);
  const auto m = v.error().message();
  CHECK(m.find("insn 1: invalid access to packet") != std::string::npos);
  CHECK(m.find("r2=pkt(") != std::string::npos);
  CHECK(m.find("parse.c:12") != std::string::npos);
  CHECK(log.find("verification failed") != std::string::npos);
}

TEST_CASE("constant shifts past the width and div by an immediate 0: refused, or accepted when permissive") {
  CHECK_FALSE(verify(assemble("mov %r0, 1\nlsh %r0, 65\nexit"), VerifierOptions{}).has_value());
  CHECK_FALSE(verify(assemble("mov %r0, 1\nmod %r0, 0\nexit"), VerifierOptions{}).has_value());
  VerifierOptions permissive;
  permissive.permissive_constant_operands = true;
  CHECK(verify(assemble("mov %r0, 1\nmod %r0, 0\nexit"), permissive).has_value());
  auto v = verify(assemble("mov %r0, 1\nlsh %r0, 65\nexit"), permissive);
  REQUIRE(v.has_value());
  REQUIRE(v->warnings().size() == 1);
  CHECK(v->warnings()[0].pc == 1);
  CHECK(v->warnings()[0].message.find("masks") != std::string::npos);
}

TEST_CASE("privileged mode allows what unprivileged mode refuses") {
  const auto loop = assemble("mov %r0, 0\nadd %r0, 1\njlt %r0, 4, -2\nexit");
  VerifierOptions o;
  CHECK(verify(loop, o).has_value());
  o.unprivileged = true;
  CHECK_FALSE(verify(loop, o).has_value());
  const auto leak = assemble("mov %r0, %r10\nexit");
  CHECK_FALSE(verify(leak, o).has_value());
  o.unprivileged = false;
  CHECK(verify(leak, o).has_value());
}

TEST_CASE("the conformance suite's negative/error.data is refused: r0 read before written") {
  auto file = vm::read_data_file(std::filesystem::path(BPFVM_CONFORMANCE_DIR) / "negative" / "error.data");
  REQUIRE(file.has_value());
  auto insns = vm::program_of(*file);
  REQUIRE(insns.has_value());
  auto p = vm::decode_program(std::move(insns).value());
  REQUIRE(p.has_value());
  auto v = verify(*p, VerifierOptions{});
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().message().find("R0 !read_ok") != std::string::npos);
}

TEST_CASE("map infos may come from a callback") {
  const auto p = assemble("stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw_map_fd %r1, 7\ncall 1\n"
                          "jeq %r0, 0, +1\nldxw %r0, [%r0+12]\nmov %r0, 0\nexit");
  const auto helpers = test::kernel_like_helpers();
  VerifierOptions o;
  o.helpers = &helpers;
  o.map_info = [](std::uint32_t i) -> std::optional<MapInfo> {
    if (i == 7) return MapInfo{1, 4, 16, 10, 0};
    return std::nullopt;
  };
  CHECK(verify(p, o).has_value());
  o.map_info = [](std::uint32_t i) -> std::optional<MapInfo> {
    if (i == 7) return MapInfo{1, 4, 12, 10, 0};
    return std::nullopt;
  };
  CHECK_FALSE(verify(p, o).has_value());
}

TEST_CASE("CFG export is Graphviz dot with one node per basic block") {
  const auto dot = cfg_to_dot(assemble(kXdpParser));
  CHECK(dot.rfind("digraph", 0) == 0);
  CHECK(dot.find("b0 -> b") != std::string::npos);
  CHECK(dot.find("[label=T]") != std::string::npos);
}

// 28 instructions; the verifier analysed 40 on 2026-12-06 (the header checks fork short paths). Work
// beyond about two passes means lost pruning or a path explosion.
constexpr std::uint64_t kXdpParserMaxProcessed = 56;

TEST_CASE("work: a typical XDP parser verifies with a bounded, repeatable amount of work") {
  // Counts, not time (timing lives in bench/bench_verifier): the instructions the verifier analysed
  // are the same on every run and stay within a few passes over the program.
  const auto p = assemble(kXdpParser);
  VerifierOptions o;
  o.program_type = program_types::xdp();
  auto first = verify(p, o);
  auto second = verify(p, o);
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  const auto processed = first->stats().insns_processed;
  INFO("XDP parser: " << p.size() << " insns, " << processed << " processed");
  CHECK(processed == second->stats().insns_processed);
  CHECK(processed >= p.size() - 1);
  CHECK(processed <= kXdpParserMaxProcessed);
}

// 20,000 random programs in 4 test cases of 5,000, so ctest -j runs them side by side (one case
// took 6 of the 7.6 minutes of a loaded -j2 run, and longer under ASan). Round r's program comes from
// its own generator seeded with (seed, r): the 4 parts are exactly the rounds of one 20,000-round run.
// BPFVM_SOUNDNESS_ROUNDS (total, split across the parts) / BPFVM_SOUNDNESS_SEED deepen a run by hand.
namespace {
void check_soundness_part(int part, int parts) {
  const auto helpers = test::kernel_like_helpers();
  const char* rounds_env = std::getenv("BPFVM_SOUNDNESS_ROUNDS");
  const char* seed_env = std::getenv("BPFVM_SOUNDNESS_SEED");
  const long rounds = rounds_env ? std::atol(rounds_env) : 20000;
  const std::uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : 42;
  int accepted = 0, decoded = 0;
  for (long round = rounds * part / parts; round < rounds * (part + 1) / parts; ++round) {
    std::seed_seq round_seed{std::uint32_t(seed), std::uint32_t(seed >> 32), std::uint32_t(round)};
    std::mt19937_64 rng(round_seed);
    std::vector<std::uint8_t> bytes(8 + rng() % 120);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    test::ByteSource src(bytes);
    auto p = vm::decode_program(test::random_program(src, 48));
    if (!p) continue;
    ++decoded;
    const std::uint32_t mem_size = 8u * static_cast<std::uint32_t>(rng() % 9);
    VerifierOptions o;
    o.program_type = program_types::plain(mem_size);
    o.helpers = &helpers;
    o.max_processed_insns = 100'000;
    auto v = verify(*p, o);
    if (!v) continue;
    ++accepted;
    const auto fault = test::run_accepted(*v, helpers, mem_size, rng());
    INFO("round " << round);
    INFO(vm::disassemble(*p, vm::DisasmStyle::Listing));
    INFO((fault ? *fault : std::string()));
    REQUIRE_FALSE(fault.has_value());
  }
  std::cout << "verifier soundness property, part " << part + 1 << " of " << parts << ": " << accepted
            << " accepted of " << decoded << " decoded random programs\n";
  CHECK(accepted > 100 / parts);
}
}  // namespace

TEST_CASE("soundness property: accepted random programs run without faults in checked mode (part 1 of 4)") {
  check_soundness_part(0, 4);
}
TEST_CASE("soundness property: accepted random programs run without faults in checked mode (part 2 of 4)") {
  check_soundness_part(1, 4);
}
TEST_CASE("soundness property: accepted random programs run without faults in checked mode (part 3 of 4)") {
  check_soundness_part(2, 4);
}
TEST_CASE("soundness property: accepted random programs run without faults in checked mode (part 4 of 4)") {
  check_soundness_part(3, 4);
}

// Global functions (VerifierOptions::global_funcs): verified once on their own from their prototype;
// calls check the arguments and are not followed.
namespace {

// main: r1 = fp-8 (initialised when `init`), call f(r1), exit; f (insn 5 or 6): r0 = *(u32 *)r1.
vm::Program global_call_program(bool init, bool null_check) {
  std::string text = init ? "stdw [%r10-8], 0\n" : "mov %r0, 0\n";
  text += "mov %r1, %r10\nadd %r1, -8\ncall local f\nexit\nf:\n";
  if (null_check) text += "mov %r0, 0\njeq %r1, 0, +1\n";
  text += "ldxw %r0, [%r1+0]\nexit\n";
  return assemble(text.c_str());
}

VerifierOptions global_options(std::uint32_t pc, std::uint32_t size_bytes) {
  VerifierOptions o;
  o.program_type = program_types::xdp();
  o.global_funcs.push_back(GlobalFunc{pc, "f", {GlobalArg{GlobalArgKind::Mem, size_bytes}}, {}});
  return o;
}

}  // namespace

TEST_CASE("global function: a pointer argument may be NULL whatever the callers pass") {
  const auto unchecked = global_call_program(true, false);
  auto v = verify(unchecked, global_options(5, 8));
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().pc == 5);
  CHECK(v.error().message().find("may be null") != std::string::npos);
  CHECK(v.error().message().find("in global function f") != std::string::npos);
  // The same function static: verified inline with the caller's pointer, accepted.
  VerifierOptions o;
  o.program_type = program_types::xdp();
  CHECK(verify(unchecked, o).has_value());
  // With a NULL check: accepted, the callee processed once on its own.
  auto checked = verify(global_call_program(true, true), global_options(5, 8));
  REQUIRE(checked.has_value());
  CHECK(checked->stats().insns_processed < 20);
}

TEST_CASE("global function: call sites check memory arguments against the prototype") {
  // Unwritten stack bytes: the privileged kernel reads them (allow_uninit_stack); the engines then start
  // every run on a zeroed stack. Unprivileged, refused.
  auto privileged = verify(global_call_program(false, true), global_options(5, 8));
  REQUIRE(privileged.has_value());
  CHECK(privileged->reads_uninit_stack());
  CHECK_FALSE(verify(global_call_program(true, true), global_options(5, 8))->reads_uninit_stack());
  auto unprivileged_options = global_options(5, 8);
  unprivileged_options.unprivileged = true;
  auto uninit = verify(global_call_program(false, true), unprivileged_options);
  REQUIRE_FALSE(uninit.has_value());
  CHECK(uninit.error().pc == 3);
  CHECK(uninit.error().message().find("call to global function f: arg 0 (R1) expected pointer to 8 bytes of "
                                      "memory or NULL, got fp: the stack bytes it points to are not all "
                                      "initialised") != std::string::npos);
  auto too_small = verify(global_call_program(true, true), global_options(5, 16));
  REQUIRE_FALSE(too_small.has_value());
  CHECK(too_small.error().message().find("expected pointer to 16 bytes") != std::string::npos);
  // A scalar other than 0 is not a pointer; 0 is NULL.
  auto scalar = verify(assemble("mov %r1, 1\ncall local f\nexit\nf:\nmov %r0, 0\nexit"), global_options(3, 8));
  REQUIRE_FALSE(scalar.has_value());
  CHECK(scalar.error().message().find("got scalar") != std::string::npos);
  CHECK(verify(assemble("mov %r1, 0\ncall local f\nexit\nf:\nmov %r0, 0\nexit"), global_options(3, 8)).has_value());
}

TEST_CASE("global function: r1-r5 are clobbered, r0 unknown, the caller's stack written through the pointer") {
  // After the call r1 is unreadable.
  auto clobbered = verify(assemble("mov %r1, 0\ncall local f\nmov %r0, %r1\nexit\nf:\nmov %r0, 0\nexit"),
                          global_options(4, 8));
  REQUIRE_FALSE(clobbered.has_value());
  CHECK(clobbered.error().pc == 2);
  // fp-8 held 0 before the call; after it, an unknown scalar: using it as a ctx offset is refused.
  const char* stack_written = R"(stdw [%r10-8], 0
mov %r6, %r1
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r2, [%r10-8]
add %r6, %r2
ldxw %r0, [%r6+0]
exit
f:
mov %r0, 0
exit)";
  auto v = verify(assemble(stack_written), global_options(9, 8));
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().pc >= 6);
  VerifierOptions o;
  o.program_type = program_types::xdp();
  CHECK(verify(assemble(stack_written), o).has_value());  // inline: fp-8 is still 0
}

TEST_CASE("global function: ctx and scalar arguments, scalar return, unsupported prototypes") {
  VerifierOptions o;
  o.program_type = program_types::xdp();
  o.global_funcs.push_back(GlobalFunc{3, "g", {GlobalArg{GlobalArgKind::Ctx, 0}, GlobalArg{}}, {}});
  const char* ctx_call = "mov %r2, 7\ncall local g\nexit\ng:\nldxw %r0, [%r1+12]\nadd %r0, %r2\nexit";
  CHECK(verify(assemble(ctx_call), o).has_value());
  auto moved = verify(assemble("add %r1, 4\nmov %r2, 7\ncall local g\nexit\ng:\nmov %r0, 0\nexit"),
                      [] {
                        VerifierOptions m;
                        m.program_type = program_types::xdp();
                        m.global_funcs.push_back(GlobalFunc{4, "g", {GlobalArg{GlobalArgKind::Ctx, 0}}, {}});
                        return m;
                      }());
  REQUIRE_FALSE(moved.has_value());
  CHECK(moved.error().message().find("expected the unmodified ctx pointer, got ctx") != std::string::npos);
  auto uninit_scalar = verify(assemble("call local g\nexit\ng:\nmov %r0, 0\nexit"), [] {
    VerifierOptions m;
    m.program_type = program_types::xdp();
    m.global_funcs.push_back(GlobalFunc{2, "g", {GlobalArg{GlobalArgKind::Ctx, 0}, GlobalArg{}}, {}});
    return m;
  }());
  REQUIRE_FALSE(uninit_scalar.has_value());
  CHECK(uninit_scalar.error().message().find("arg 1 (R2) expected a scalar, got not_init") != std::string::npos);
  auto pointer_return = verify(assemble("call local g\nexit\ng:\nmov %r0, %r10\nexit"), [] {
    VerifierOptions m;
    m.program_type = program_types::xdp();
    m.global_funcs.push_back(GlobalFunc{2, "g", {}, {}});
    return m;
  }());
  REQUIRE_FALSE(pointer_return.has_value());
  CHECK(pointer_return.error().message().find("R0 is not a scalar value") != std::string::npos);
  auto unsupported = verify(assemble("call local g\nexit\ng:\nmov %r0, 0\nexit"), [] {
    VerifierOptions m;
    m.program_type = program_types::xdp();
    m.global_funcs.push_back(GlobalFunc{2, "g", {}, "Global function g() doesn't return scalar."});
    return m;
  }());
  REQUIRE_FALSE(unsupported.has_value());
  CHECK(unsupported.error().message().find("global function g: Global function g() doesn't return scalar") !=
        std::string::npos);
}

TEST_CASE("global function: verified once, only when called, however many call sites") {
  const char* two_calls = "mov %r1, 1\ncall local g\nmov %r1, 2\ncall local g\nexit\ng:\nmov %r0, %r1\nexit";
  VerifierOptions o;
  o.program_type = program_types::xdp();
  o.global_funcs.push_back(GlobalFunc{5, "g", {GlobalArg{}}, {}});
  std::string log;
  o.log_level = 1;
  o.log = &log;
  auto v = verify(assemble(two_calls), o);
  REQUIRE(v.has_value());
  CHECK(v->stats().insns_processed == 5 + 2);
  CHECK(log.find("global function g at insn 5: verified on its own") != std::string::npos);
  // Call depth through global functions is bounded over the static call graph (recursion included).
  o.log_level = 0;
  auto recursive = verify(assemble("mov %r1, 1\ncall local g\nexit\ng:\ncall local g\nmov %r0, 0\nexit"), [] {
    VerifierOptions m;
    m.program_type = program_types::xdp();
    m.global_funcs.push_back(GlobalFunc{3, "g", {GlobalArg{}}, {}});
    return m;
  }());
  REQUIRE_FALSE(recursive.has_value());
  CHECK(recursive.error().pc == 3);
  CHECK(recursive.error().message().find("recursive call") != std::string::npos);
  // A hostile chain of 500,000 functions, each calling the next: refused at the 8th call, without
  // recursing down the whole chain.
  std::string chain;
  for (int i = 0; i < 500'000; ++i) chain += "call local +1\nexit\n";
  chain += "mov %r0, 0\nexit\n";
  VerifierOptions with_global;
  with_global.program_type = program_types::xdp();
  with_global.global_funcs = {GlobalFunc{2, "g", {}, {}}};
  auto long_chain = verify(assemble(chain.c_str()), with_global);
  REQUIRE_FALSE(long_chain.has_value());
  CHECK(long_chain.error().message().find("too deep") != std::string::npos);
  // A global function that passes on a chain of 100,000 callbacks (each names the next with lddw_func):
  // whether the chain may move packet data is found without recursing or rescanning it.
  std::string callbacks = "mov %r1, 1\ncall local g\nexit\ng:\nlddw_func %r2, f0\nmov %r0, 0\nexit\n";
  for (int i = 0; i < 100'000; ++i) {
    callbacks += "f" + std::to_string(i) + ":\n";
    if (i + 1 < 100'000) callbacks += "lddw_func %r2, f" + std::to_string(i + 1) + "\n";
    callbacks += "mov %r0, 0\nexit\n";
  }
  with_global.global_funcs = {GlobalFunc{3, "g", {GlobalArg{}}, {}}};
  CHECK(verify(assemble(callbacks.c_str()), with_global).has_value());
  // Never called on any path: never verified (the kernel verifies only global functions it saw called).
  o.log_level = 0;
  o.global_funcs = {GlobalFunc{4, "h", {}, {}}};
  CHECK(verify(assemble("mov %r0, 0\njeq %r0, 0, +1\ncall local h\nexit\nh:\nldxw %r0, [%r10+0]\nexit"), o).has_value());
}
