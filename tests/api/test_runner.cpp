// Runner (the host-held per-event form of Program::run), C++ and C: the same results and errors as
// Program::run for plain, context, XDP and socket-filter programs, budgets, helper faults,
// re-entry, the program's lifetime, and a tier upgrade while runners run on other threads.
#include <catch2/catch.hpp>
#include <linux/bpf.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "bpfvm/bpfvm.h"
#include "bpfvm/bpfvm.hpp"

using namespace bpfvm;

namespace {
constexpr Engine kEngines[] = {Engine::Interpreter, Engine::Jit};

// host helper 0x10000: faults when r1 == 13, else returns r1 + 1.
std::uint64_t fault_on_13(std::uint64_t r1, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                          HelperCall* call) {
  if (r1 == 13) helper_fail(call, "thirteen");
  return r1 + 1;
}

// host helper 0x10001: runs the Runner in host_data from inside its own run (which must refuse).
std::uint64_t reenter(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, HelperCall* call) {
  auto* runner = static_cast<Runner*>(helper_host_data(call));
  auto r = runner->run(std::span<const std::uint8_t>{});
  return !r && r.error().code == Errc::InvalidArgument ? 1 : 0;
}

HelperSignature any_args() {
  HelperSignature sig;
  sig.known = true;
  sig.args = {ArgType::Anything, ArgType::DontCare, ArgType::DontCare, ArgType::DontCare, ArgType::DontCare};
  return sig;
}

std::vector<std::uint8_t> packet(std::size_t size) {
  std::vector<std::uint8_t> p(size, 0);
  p[12] = 0x08;  // IPv4
  p[14] = 0x45;
  for (std::size_t i = 15; i < size; ++i) p[i] = static_cast<std::uint8_t>(i * 7);
  return p;
}

// Runner::run and Program::run on the same inputs, one after the other, in both orders of sizes,
// each input twice in a row (a Runner's second run on an input of the same size is its held path).
void check_same(const Program& prog, const std::vector<std::vector<std::uint8_t>>& inputs) {
  Runner runner = prog.runner();
  for (int round = 0; round < 2; ++round)
    for (const auto& in : inputs)
      for (int again = 0; again < 2; ++again) {
        const std::vector<std::uint8_t> caller_bytes = in;
        auto want = prog.run(in);
        auto got = runner.run(in);
        CHECK(in == caller_bytes);  // a program that writes its input writes a copy
        REQUIRE(want.has_value() == got.has_value());
        if (!want) {
          CHECK(got.error().code == want.error().code);
          CHECK(got.error().reason == want.error().reason);
          continue;
        }
        CHECK(*got == want->r0);
        CHECK(runner.output().r0 == want->r0);
        CHECK(runner.output().retval == want->retval);
        CHECK(runner.output().insns_executed == want->insns_executed);
        CHECK(runner.output().data_out == want->data_out);
        CHECK(runner.output().ctx_out == want->ctx_out);
      }
}
}  // namespace

TEST_CASE("Runner: plain and context programs give Program::run's results, buffers and errors") {
  Vm vm;
  // Writes the input's first byte + 1 back (the buffer out shows it) and returns the sum of two bytes.
  auto plain = vm.open_assembly(
      "ldxb %r3, [%r1+0]\nadd %r3, 1\nstxb [%r1+0], %r3\nldxb %r0, [%r1+1]\nadd %r0, %r3\nexit\n",
      ProgramType::plain(2), "p");
  REQUIRE(plain.has_value());
  // kprobe: r0 = the context's first u64 (pt_regs), zero-padded when the input is short.
  auto kprobe = vm.open_assembly("ldxdw %r0, [%r1+0]\nexit\n", ProgramType::kernel(2).value(), "k");
  REQUIRE(kprobe.has_value());
  for (auto engine : kEngines)
    for (bool checked : {false, true}) {
      INFO("engine " << int(engine) << " checked " << checked);
      auto p = plain->load("p", {.engine = engine, .checked = checked});
      REQUIRE(p.has_value());
      check_same(*p, {{1, 2}, {9, 8, 7, 6}, {200, 100, 3}});
      auto k = kprobe->load("k", {.engine = engine, .checked = checked});
      REQUIRE(k.has_value());
      check_same(*k, {{1, 2, 3, 4, 5, 6, 7, 8}, {}, std::vector<std::uint8_t>(168, 0x11)});
    }
}

TEST_CASE("Runner: checked runs see the input region of this call's size, not the previous call's") {
  Vm vm;
  // Reads 4 bytes whatever the input's size (unverified: plain(0) promises no bytes): checked mode
  // must fault on a shorter input.
  auto obj = vm.open_assembly("ldxw %r0, [%r1+0]\nexit\n", ProgramType::plain(0), "w");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines) {
    auto p = obj->load("w", {.engine = engine, .verify = false, .checked = true});
    REQUIRE(p.has_value());
    Runner runner = p->runner();
    const std::vector<std::uint8_t> four{1, 0, 0, 0}, two{2, 0};
    for (int i = 0; i < 3; ++i) {
      CHECK(runner.run(four).value() == 1);
      auto short_read = runner.run(two);  // same buffer, fewer bytes
      REQUIRE_FALSE(short_read.has_value());
      CHECK(short_read.error().code == Errc::MemoryFault);
      RunOutput out;
      CHECK(p->run(RunInput{.data = four}, out).has_value());
      CHECK(p->run(RunInput{.data = two}, out).error().code == Errc::MemoryFault);
    }
  }
}

TEST_CASE("Runner: XDP and socket-filter runs give Program::run's verdicts and packets") {
  Vm vm;
  // XDP: r0 = data_end - data after moving the head forward 4 bytes (the packet out shrinks).
  auto xdp = vm.open_assembly(
      "mov %r6, %r1\nmov %r2, 4\ncall 44\nldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nmov %r0, %r3\nsub %r0, %r2\nexit\n",
      ProgramType::kernel(6).value(), "x");
  REQUIRE(xdp.has_value());
  // Socket filter: r0 = skb->len.
  auto skb = vm.open_assembly("ldxw %r0, [%r1+0]\nexit\n", ProgramType::kernel(1).value(), "s");
  REQUIRE(skb.has_value());
  for (auto engine : kEngines) {
    INFO("engine " << int(engine));
    auto x = xdp->load("x", {.engine = engine});
    REQUIRE(x.has_value());
    check_same(*x, {packet(60), packet(128), std::vector<std::uint8_t>(3, 0) /* too short: EINVAL */});
    auto s = skb->load("s", {.engine = engine});
    REQUIRE(s.has_value());
    check_same(*s, {packet(60), packet(90)});
  }
}

TEST_CASE("Runner: budgets and helper faults are errors, and the next run is clean") {
  Vm vm;
  vm.add_helper(HostHelper{0x10000, "fault_on_13", &fault_on_13, nullptr, any_args()});
  auto obj = vm.open_assembly("ldxb %r1, [%r1+0]\ncall 65536\nexit\n", ProgramType::plain(1), "h");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines)
    for (bool checked : {false, true}) {
      auto p = obj->load("h", {.engine = engine, .checked = checked});
      REQUIRE(p.has_value());
      check_same(*p, {{5}, {13}, {6}, {13}, {13}, {7}});
      Runner runner = p->runner();
      auto bad = runner.run(std::vector<std::uint8_t>{13});
      REQUIRE_FALSE(bad.has_value());
      CHECK(bad.error().code == Errc::HelperFault);
      CHECK(bad.error().reason.find("thirteen") != std::string::npos);
      CHECK(runner.run(std::vector<std::uint8_t>{41}).value() == 42);
    }
  auto counted = vm.open_assembly("mov %r0, 0\nadd %r0, 1\nadd %r0, 1\nexit\n", ProgramType::plain(0), "b");
  REQUIRE(counted.has_value());
  for (auto engine : kEngines) {
    auto tight = counted->load("b", {.engine = engine, .budget_insns = 2});
    REQUIRE(tight.has_value());
    auto over = tight->runner().run(std::span<const std::uint8_t>{});
    REQUIRE_FALSE(over.has_value());
    CHECK(over.error().code == Errc::BudgetExceeded);
    auto enough = counted->load("b", {.engine = engine, .budget_insns = 4});
    REQUIRE(enough.has_value());
    Runner r = enough->runner();
    CHECK(r.run(std::span<const std::uint8_t>{}).value() == 2);
    CHECK(r.output().insns_executed == 4);
  }
}

TEST_CASE("Runner: bpf_loop callbacks run in the held JIT run as in Program::run") {
  Vm vm;
  // bpf_loop(input[0], cb, &sum, 0): cb adds i + input[1] to sum, stops after i == 6; r0 = calls * 1000 + sum.
  auto obj = vm.open_assembly(
      "ldxb %r6, [%r1+1]\nstxdw [%r10-16], %r6\nstdw [%r10-8], 0\nldxb %r1, [%r1+0]\nlddw_func %r2, cb\n"
      "mov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall " + std::to_string(BPF_FUNC_loop) +
      "\nmul %r0, 1000\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit\n"
      "cb:\nldxdw %r3, [%r2+8]\nadd %r3, %r1\nldxdw %r4, [%r2+0]\nadd %r3, %r4\nstxdw [%r2+8], %r3\n"
      "mov %r0, 0\njlt %r1, 6, out\nmov %r0, 1\nout:\nexit\n",
      ProgramType::plain(2), "l");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines)
    for (bool checked : {false, true})
      for (std::uint64_t budget : {0u, 200u, 50u}) {  // 50: runs out inside a callback for 10 loops
        INFO("engine " << int(engine) << " checked " << checked << " budget " << budget);
        auto p = obj->load("l", {.engine = engine, .checked = checked, .budget_insns = budget});
        REQUIRE(p.has_value());
        check_same(*p, {{10, 1}, {3, 5}, {0, 9}, {2, 0}, {10, 2}});
        Runner runner = p->runner();
        for (int i = 0; i < 3; ++i) {
          auto r = runner.run(std::vector<std::uint8_t>{3, 5});
          REQUIRE(r.has_value());
          CHECK(*r == 3 * 1000 + (0 + 1 + 2 + 3 * 5));
          if (budget == 50) CHECK_FALSE(runner.run(std::vector<std::uint8_t>{10, 1}).has_value());  // then clean again
        }
      }
}

TEST_CASE("Runner: a held run's output and state are its own: timings, faults in calls, every input size") {
  Vm vm;
  vm.add_helper(HostHelper{0x10000, "fault_on_13", &fault_on_13, nullptr, any_args()});
  // r0 = input[0] + 1 through a local call into a helper (faults on 13 at depth 1), then the sum of
  // the input's last and first bytes (so each size's copy is checked at both ends).
  auto obj = vm.open_assembly(
      "mov %r6, %r1\nmov %r7, %r2\nldxb %r1, [%r1+0]\ncall local f\nmov %r8, %r6\nadd %r8, %r7\n"
      "ldxb %r1, [%r8-1]\nadd %r0, %r1\nldxb %r1, [%r6+0]\nadd %r0, %r1\nstb [%r6+0], 99\nexit\n"
      "f:\ncall 65536\nexit\n",
      ProgramType::plain(1), "c");
  REQUIRE(obj.has_value());
  for (bool checked : {false, true}) {
    auto p = obj->load("c", {.engine = Engine::Jit, .checked = checked});
    REQUIRE(p.has_value());
    Runner runner = p->runner();
    // A timed run through run(RunInput) (repeated, so its mean is surely above 0): the runs after it
    // (run_and_hold's, then held ones) show no timing.
    std::vector<std::uint8_t> in(8, 1);
    REQUIRE(runner.run(RunInput{.data = in, .repeat = 1000, .measure_time = true}).has_value());
    REQUIRE(runner.output().ns_per_run > 0);
    for (int i = 0; i < 3; ++i) {
      REQUIRE(runner.run(in).value() == 2 + 1 + 1);
      CHECK(runner.output().ns_per_run == 0);
      CHECK(runner.output().cpu_ns_per_run == 0);
    }
    // Faults inside the call, between clean runs: each clean run starts at depth 0, status 0.
    for (int round = 0; round < 12; ++round) {
      in[0] = round % 3 == 1 ? 13 : 5;
      auto r = runner.run(in);
      if (in[0] == 13) {
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == Errc::HelperFault);
        CHECK(runner.output().r0 == 0);
      } else {
        REQUIRE(r.has_value());
        CHECK(*r == 6 + 1 + 5);
        CHECK(runner.output().r0 == 12);
        CHECK(runner.output().data_out[0] == 99);  // the program wrote its copy
      }
    }
    // Sizes on both sides of the inline copy's ranges, twice each (the second run is held); and
    // output().data_out passed back in (the program's write of 99 is then its input).
    for (std::size_t size : {1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 200}) {
      std::vector<std::uint8_t> bytes(size);
      for (std::size_t k = 0; k < size; ++k) bytes[k] = static_cast<std::uint8_t>(k * 5 + 2);
      const std::uint64_t want = 2 + 1 + bytes.back() + 2;
      for (int again = 0; again < 2; ++again) {
        INFO("size " << size << " again " << again);
        CHECK(runner.run(bytes).value() == want);
        CHECK(bytes[0] == 2);
        CHECK(std::equal(bytes.begin() + 1, bytes.end(), runner.output().data_out.begin() + 1));
      }
      const std::vector<std::uint8_t> out = runner.output().data_out;
      const std::uint64_t again_want = 99 + 1 + (size == 1 ? 99 : out.back()) + 99;
      CHECK(runner.run(runner.output().data_out).value() == again_want);
      CHECK(runner.output().data_out == out);
    }
  }
}

TEST_CASE("Runner: a redirect recorded by one held run is not in the next run's output") {
  Vm vm;
  // bpf_redirect(ifindex 5) when input[0] != 0.
  auto obj = vm.open_assembly("ldxb %r1, [%r1+0]\nmov %r0, 1\njeq %r1, 0, out\nmov %r1, 5\nmov %r2, 0\ncall " +
                                  std::to_string(BPF_FUNC_redirect) + "\nmov %r0, 2\nout:\nexit\n",
                              ProgramType::plain(1), "r");
  REQUIRE(obj.has_value());
  auto p = obj->load("r", {.engine = Engine::Jit});
  REQUIRE(p.has_value());
  Runner runner = p->runner();
  for (std::uint8_t first : {0, 0, 1, 0, 1, 1, 0}) {
    INFO("input " << int(first));
    auto r = runner.run(std::vector<std::uint8_t>{first});
    REQUIRE(r.has_value());
    auto want = p->run(std::vector<std::uint8_t>{first});
    REQUIRE(want.has_value());
    CHECK(*r == want->r0);
    CHECK(runner.output().redirect_ifindex == want->redirect_ifindex);
    CHECK(runner.output().redirect_ifindex.has_value() == (first != 0));
  }
}

TEST_CASE("Runner: not re-entrant from its own run, and keeps its program alive") {
  Vm vm;
  vm.add_helper(HostHelper{0x10001, "reenter", &reenter, nullptr, any_args()});
  std::optional<Runner> runner;
  {
    auto obj = vm.open_assembly("call 65537\nexit\n", ProgramType::plain(0), "r");
    REQUIRE(obj.has_value());
    auto p = obj->load("r", {.engine = Engine::Jit});
    REQUIRE(p.has_value());
    runner.emplace(p->runner());
  }  // the Program and Object handles are gone; the runner holds what it runs
  CHECK(runner->run(std::span<const std::uint8_t>{}, &*runner).value() == 1);
  CHECK(runner->run(std::span<const std::uint8_t>{}, &*runner).value() == 1);  // and the refusal left it usable
}

TEST_CASE("Runner: runners on several threads while Program::optimize() upgrades the tier") {
  Vm vm;
  // r0 = sum over the 16 input bytes of b * 3 + 1, through a loop and a BPF-to-BPF call.
  auto obj = vm.open_assembly(
      "mov %r6, %r1\nmov %r7, 0\nmov %r8, 0\n"
      "L1:\nmov %r2, %r6\nadd %r2, %r8\nldxb %r1, [%r2+0]\ncall local L2\nadd %r7, %r0\nadd %r8, 1\n"
      "jlt %r8, 16, L1\nmov %r0, %r7\nexit\n"
      "L2:\nmov %r0, %r1\nmul %r0, 3\nadd %r0, 1\nexit\n",
      ProgramType::plain(16), "loop");
  REQUIRE(obj.has_value());
  auto prog = obj->load("loop", {.engine = Engine::Jit});
  REQUIRE(prog.has_value());
  REQUIRE(prog->jit_tier() == JitTier::Baseline);
  std::atomic<int> wrong{0}, started{0};
  std::atomic<bool> upgraded{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      Runner runner = prog->runner();
      std::vector<std::uint8_t> in(16);
      started.fetch_add(1);
      // Until some time after the upgrade, so runs straddle it.
      for (int i = 0, after = 0; after < 2000 && i < 5000000; ++i) {
        for (std::size_t k = 0; k < in.size(); ++k) in[k] = static_cast<std::uint8_t>(i + k * t);
        std::uint64_t want = 0;
        for (auto b : in) want += b * 3u + 1;
        auto r = runner.run(in);
        if (!r || *r != want) wrong.fetch_add(1);
        if (upgraded.load()) ++after;
      }
    });
  while (started.load() < 3) std::this_thread::yield();
  auto tier = prog->optimize();
  upgraded.store(true);
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
  if (tier) CHECK(*tier == JitTier::Optimized);  // where the optimizing tier supports the host
}

TEST_CASE("C API: bpfvm_runner_run/test_run agree with bpfvm_program_run/test_run") {
  bpfvm_error err;
  bpfvm_vm* vm = nullptr;
  REQUIRE(bpfvm_vm_create(0, &vm, &err) == BPFVM_OK);
  bpfvm_object* plain = nullptr;
  REQUIRE(bpfvm_vm_open_assembly(vm, "ldxb %r3, [%r1+0]\nadd %r3, 1\nstxb [%r1+0], %r3\nmov %r0, %r2\nexit\n",
                                 BPFVM_PROG_TYPE_PLAIN, 1, "p", &plain, &err) == BPFVM_OK);
  bpfvm_object* xdp = nullptr;
  REQUIRE(bpfvm_vm_open_assembly(vm, "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r0, %r3\nsub %r0, %r2\nexit\n",
                                 6 /* BPF_PROG_TYPE_XDP */, 0, "x", &xdp, &err) == BPFVM_OK);
  for (int engine : {BPFVM_ENGINE_INTERPRETER, BPFVM_ENGINE_JIT}) {
    bpfvm_program_options o = BPFVM_PROGRAM_OPTIONS_DEFAULT;
    o.engine = engine;
    bpfvm_program* p = nullptr;
    REQUIRE(bpfvm_object_load(plain, "p", &o, &p, &err) == BPFVM_OK);
    bpfvm_runner* runner = nullptr;
    REQUIRE(bpfvm_runner_new(p, &runner, &err) == BPFVM_OK);
    bpfvm_program_destroy(p);  // the runner keeps the program
    const std::uint8_t data[5] = {9, 1, 2, 3, 4};
    std::uint64_t r0 = 0;
    REQUIRE(bpfvm_runner_run(runner, data, sizeof data, &r0, &err) == BPFVM_OK);
    CHECK(r0 == 5);
    std::size_t size = 0;
    const auto* out = static_cast<const std::uint8_t*>(bpfvm_runner_data_out(runner, &size));
    REQUIRE(size == 5);
    CHECK(out[0] == 10);
    CHECK(data[0] == 9);  // the caller's bytes are copied, never written
    CHECK(bpfvm_runner_run(runner, nullptr, 3, &r0, &err) == BPFVM_EINVALID_ARGUMENT);
    bpfvm_runner_destroy(runner);

    REQUIRE(bpfvm_object_load(xdp, "x", &o, &p, &err) == BPFVM_OK);
    REQUIRE(bpfvm_runner_new(p, &runner, &err) == BPFVM_OK);
    const auto pkt = packet(60);
    std::uint8_t a_out[128], b_out[128];
    bpfvm_test_run a{}, b{};
    a.data_in = b.data_in = pkt.data();
    a.data_size_in = b.data_size_in = pkt.size();
    a.data_out = a_out;
    b.data_out = b_out;
    a.data_size_out = b.data_size_out = sizeof a_out;
    REQUIRE(bpfvm_program_test_run(p, &a, &err) == BPFVM_OK);
    REQUIRE(bpfvm_runner_test_run(runner, &b, &err) == BPFVM_OK);
    CHECK(a.r0 == 60);
    CHECK(b.r0 == a.r0);
    CHECK(b.retval == a.retval);
    REQUIRE(b.data_size_out == a.data_size_out);
    CHECK(std::vector<std::uint8_t>(a_out, a_out + a.data_size_out) == std::vector<std::uint8_t>(b_out, b_out + b.data_size_out));
    REQUIRE(bpfvm_runner_run(runner, pkt.data(), pkt.size(), &r0, &err) == BPFVM_OK);
    CHECK(r0 == 60);
    CHECK(bpfvm_runner_run(runner, pkt.data(), 3, &r0, &err) == BPFVM_EINVALID_ARGUMENT);  // as the kernel: EINVAL
    bpfvm_runner_destroy(runner);
    bpfvm_program_destroy(p);
  }
  CHECK(bpfvm_runner_new(nullptr, nullptr, &err) == BPFVM_EINVALID_ARGUMENT);
  bpfvm_runner_destroy(nullptr);
  bpfvm_object_destroy(plain);
  bpfvm_object_destroy(xdp);
  bpfvm_vm_destroy(vm);
}
