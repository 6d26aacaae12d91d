// Interpreter behaviour beyond the conformance suite: budget, checked memory, frames, callx, helpers.
#include <catch2/catch.hpp>

#include <cstring>
#include <thread>
#include <vector>

#include "vm/assembler.hpp"
#include "vm/interpreter.hpp"

using namespace bpfvm;

namespace {

vm::Program program_of(std::string_view text) {
  auto insns = vm::assemble(text);
  INFO(text);
  REQUIRE(insns.has_value());
  auto p = vm::decode_program(std::move(*insns), "test");
  REQUIRE(p.has_value());
  return std::move(*p);
}

struct Harness {
  vm::HelperRegistry helpers;
  std::vector<std::uint8_t> mem;

  Result<vm::ExecResult> run(std::string_view text, vm::ExecOptions options = {}) {
    auto in = vm::Interpreter::create(program_of(text), helpers);
    if (!in) return std::move(in).error();
    vm::RunContext ctx;
    const auto base = reinterpret_cast<std::uintptr_t>(mem.data());
    ctx.regions.push_back(vm::Region{base, mem.size(), true, "input"});
    const std::uint64_t args[] = {base, mem.size()};
    return in->run(ctx, args, options);
  }
};

std::uint64_t add_helper(std::uint64_t a, std::uint64_t b, std::uint64_t, std::uint64_t, std::uint64_t, vm::RunContext*) {
  return a + b;
}
std::uint64_t faulting_helper(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, vm::RunContext* run) {
  run->helper_fault = "refuses r1";
  return 0;
}
std::uint64_t user_helper(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, vm::RunContext* run) {
  return *static_cast<std::uint64_t*>(run->current_helper->user);
}

}  // namespace

TEST_CASE("budget stops the run at the first instruction over it") {
  Harness h;
  const char* loop = "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit\n";
  auto r = h.run(loop, {.budget_insns = 10});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::BudgetExceeded);
  // 10 executed: mov, then (add, ja) x 4, add; the 11th would be the ja at insn 2.
  CHECK(r.error().message() == "insn 2: instruction budget of 10 exhausted");
  auto ok = h.run("mov %r0, 7\nexit\n", {.budget_insns = 2});
  REQUIRE(ok.has_value());
  CHECK(ok->r0 == 7);
  CHECK(ok->insns_executed == 2);
}

TEST_CASE("checked mode confines loads and stores to the stack and the run's regions") {
  Harness h;
  h.mem.assign(8, 0xab);
  auto inside = h.run("ldxdw %r0, [%r1+0]\nexit\n", {.checked = true});
  REQUIRE(inside.has_value());
  CHECK(inside->r0 == 0xababababababababull);

  auto past_end = h.run("ldxw %r0, [%r1+6]\nexit\n", {.checked = true});
  REQUIRE_FALSE(past_end.has_value());
  CHECK(past_end.error().code == Errc::MemoryFault);
  CHECK(past_end.error().pc == 0);
  CHECK(past_end.error().reason.find("invalid 4-byte read at 0x") == 0);

  auto below_stack = h.run("stdw [%r10-520], 1\nmov %r0, 0\nexit\n", {.checked = true});
  REQUIRE_FALSE(below_stack.has_value());
  CHECK(below_stack.error().reason.find("invalid 8-byte write") == 0);

  auto wild = h.run("lddw %r1, 0x1000\nldxb %r0, [%r1+0]\nexit\n", {.checked = true});
  REQUIRE_FALSE(wild.has_value());
  CHECK(wild.error().message().find("insn 2: invalid 1-byte read at 0x1000") == 0);

  auto stack_ok = h.run("stdw [%r10-512], 9\nldxdw %r0, [%r10-512]\nexit\n", {.checked = true});
  REQUIRE(stack_ok.has_value());
  CHECK(stack_ok->r0 == 9);
}

TEST_CASE("each local call gets a fresh frame, r6-r9 restored, at most 8 frames") {
  Harness h;
  auto r = h.run(
      "stdw [%r10-8], 1\n"
      "call local f\n"
      "ldxdw %r0, [%r10-8]\n"   // the callee wrote its own frame, not ours
      "exit\n"
      "f:\n"
      "stdw [%r10-8], 2\n"
      "exit\n", {.checked = true});
  REQUIRE(r.has_value());
  CHECK(r->r0 == 1);

  // main + 7 nested calls = 8 frames is fine; the call in f7 (insn 22) would make a 9th.
  auto depth = [&](int calls) {
    std::string text = "mov %r0, 0\ncall local f1\nexit\n";
    for (int i = 1; i <= calls; ++i) {
      text += "f" + std::to_string(i) + ":\nadd %r0, 1\n";
      if (i < calls) text += "call local f" + std::to_string(i + 1) + "\n";
      text += "exit\n";
    }
    return h.run(text);
  };
  auto eight = depth(7);
  REQUIRE(eight.has_value());
  CHECK(eight->r0 == 7);
  auto nine = depth(8);
  REQUIRE_FALSE(nine.has_value());
  CHECK(nine.error().code == Errc::CallDepth);
  CHECK(nine.error().message() == "insn 22: call nests deeper than 8 frames");
}

TEST_CASE("callx reaches subprograms by BPF_PSEUDO_FUNC address and helpers by id") {
  Harness h;
  h.helpers.add({7, "add", &add_helper, nullptr, {}});
  auto sub = h.run("lddw_func %r3, f\nmov %r1, 40\ncall %r3\nexit\nf:\nmov %r0, %r1\nadd %r0, 2\nexit\n");
  REQUIRE(sub.has_value());
  CHECK(sub->r0 == 42);
  auto helper = h.run("mov %r1, 40\nmov %r2, 2\nmov %r4, 7\ncall %r4\nexit\n");
  REQUIRE(helper.has_value());
  CHECK(helper->r0 == 42);
  auto bad = h.run("mov %r4, 99\ncall %r4\nexit\n");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message() == "insn 1: callx target 0x63 is neither a subprogram nor a registered helper");
}

TEST_CASE("helpers: unknown ids refused at load, faults stop the run, user data reachable") {
  Harness h;
  auto unknown = h.run("call 1234\nexit\n");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message() == "insn 0: call to unknown helper 1234");

  h.helpers.add({1000000, "bpf_refuser", &faulting_helper, nullptr, {}});
  auto fault = h.run("mov %r0, 0\ncall 1000000\nexit\n");
  REQUIRE_FALSE(fault.has_value());
  CHECK(fault.error().code == Errc::HelperFault);
  CHECK(fault.error().message() == "insn 1: bpf_refuser: refuses r1");

  std::uint64_t secret = 0x5ec2e7;
  h.helpers.add({3, "user", &user_helper, &secret, {}});
  auto user = h.run("call 3\nexit\n");
  REQUIRE(user.has_value());
  CHECK(user->r0 == 0x5ec2e7);
}

TEST_CASE("map pseudo loads need a resolver") {
  vm::HelperRegistry helpers;
  auto p = program_of("lddw_map_fd %r1, 3\nmov %r0, 0\nexit\n");
  auto none = vm::Interpreter::create(p, helpers);
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code == Errc::Unsupported);
  auto resolved = vm::Interpreter::create(p, helpers, [](isa::LddwSrc src, std::int32_t imm, std::int32_t, std::uint32_t) -> Result<std::uint64_t> {
    CHECK(src == isa::LddwSrc::MapFd);
    return 0x1000u + static_cast<std::uint64_t>(imm);
  });
  REQUIRE(resolved.has_value());
}

TEST_CASE("one interpreter runs on many threads at once") {
  vm::HelperRegistry helpers;
  auto p = program_of(
      "mov %r0, 0\nmov %r3, 0\nloop:\nstxdw [%r10-8], %r3\nldxdw %r4, [%r10-8]\nadd %r0, %r4\nadd %r3, 1\n"
      "jlt %r3, 1000, loop\nexit\n");
  auto in = vm::Interpreter::create(p, helpers);
  REQUIRE(in.has_value());
  std::vector<std::thread> threads;
  // Every run's r0 is kept: one wrong run among the 50 of a thread must show.
  std::vector<std::vector<std::uint64_t>> results(4, std::vector<std::uint64_t>(50, 0));
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      vm::RunContext ctx;
      for (std::size_t k = 0; k < 50; ++k) {
        auto r = in->run(ctx, {}, {.checked = (k % 2) == 0});
        results[static_cast<std::size_t>(t)][k] = r ? r->r0 : 0;
      }
    });
  for (auto& t : threads) t.join();
  for (std::size_t t = 0; t < results.size(); ++t)
    for (std::size_t k = 0; k < results[t].size(); ++k) {
      INFO("thread " << t << " run " << k);
      CHECK(results[t][k] == 499500);
    }
}

namespace {
vm::TailCallTarget g_tail_target;  // test-only: the program the tail-call helper jumps to
std::uint64_t tail_helper(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, vm::RunContext* run) {
  run->tail_call_target = &g_tail_target;
  return 0;
}
// Calls the callback in r1 with (r2, 0, 0, 0, 0) r3 times and sums its results.
std::uint64_t loop_helper(std::uint64_t fn, std::uint64_t arg, std::uint64_t times, std::uint64_t, std::uint64_t,
                          vm::RunContext* run) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < times; ++i) {
    const std::uint64_t a[5] = {arg, i, 0, 0, 0};
    auto r = run->call_back(fn, a);
    if (!r) {
      run->helper_fault = r.error().message();
      return 0;
    }
    sum += *r;
  }
  return sum;
}
}  // namespace

TEST_CASE("tail calls continue in the target program on the same frame") {
  vm::HelperRegistry helpers;
  helpers.add({12, "tail", &tail_helper, nullptr, {}});
  auto target = vm::Interpreter::create(program_of("mov %r0, %r1\nadd %r0, 100\nexit\n"), helpers);
  REQUIRE(target.has_value());
  g_tail_target.interpreter = &*target;
  auto caller = vm::Interpreter::create(program_of("mov %r1, 5\ncall 12\nmov %r0, 1\nexit\n"), helpers);
  REQUIRE(caller.has_value());
  for (bool checked : {false, true}) {
    vm::RunContext ctx;
    auto r = caller->run(ctx, {}, {.checked = checked});
    REQUIRE(r.has_value());
    CHECK(r->r0 == 105);  // the caller's "mov r0, 1" never runs
    CHECK(r->insns_executed == 5);
  }
}

TEST_CASE("helpers call back into the program, callbacks share the run budget") {
  vm::HelperRegistry helpers;
  helpers.add({181, "loop", &loop_helper, nullptr, {}});
  auto in = vm::Interpreter::create(
      program_of("lddw_func %r1, cb\nmov %r2, 10\nmov %r3, 4\ncall 181\nexit\ncb:\nmov %r0, %r1\nadd %r0, %r2\nexit\n"),
      helpers);
  REQUIRE(in.has_value());
  for (bool checked : {false, true}) {
    vm::RunContext ctx;
    auto r = in->run(ctx, {}, {.checked = checked});
    REQUIRE(r.has_value());
    CHECK(r->r0 == 10 + 11 + 12 + 13);
    CHECK(r->insns_executed == 5 + 4 * 3);
    auto starved = in->run(ctx, {}, {.budget_insns = 10, .checked = checked});
    REQUIRE_FALSE(starved.has_value());
    CHECK(starved.error().message().find("instruction budget of 10 exhausted") != std::string::npos);
  }
}

TEST_CASE("a write to r10 decodes (the kernel refuses only one its verifier explores) but no engine prepares it") {
  vm::HelperRegistry helpers;
  for (const char* text : {"mov %r10, 0\nexit\n", "lddw %r10, 7\nexit\n", "ldxdw %r10, [%r1+0]\nexit\n",
                           "neg %r10\nexit\n", "lock fetch add [%r1+0], %r10\nexit\n", "lock xchg [%r1+0], %r10\nexit\n"}) {
    INFO(text);
    const auto p = program_of(text);
    CHECK(vm::writes_frame_pointer(p.op(0), p.insns[0]));
    auto in = vm::Interpreter::create(p, helpers);
    REQUIRE_FALSE(in.has_value());
    CHECK(in.error().code == Errc::Malformed);
    CHECK(in.error().message().find("insn 0: ") == 0);
    CHECK(in.error().reason.find("r10 is the read-only frame pointer") != std::string::npos);
  }
  // Reads of r10, stores through it, and a cmpxchg (which loads r0) write nothing to it.
  for (const char* text : {"mov %r0, %r10\nexit\n", "stdw [%r10-8], 0\nexit\n", "lock cmpxchg [%r1+0], %r10\nexit\n",
                           "lock add [%r1+0], %r10\nexit\n"}) {
    INFO(text);
    const auto p = program_of(text);
    CHECK_FALSE(vm::writes_frame_pointer(p.op(0), p.insns[0]));
  }
}
