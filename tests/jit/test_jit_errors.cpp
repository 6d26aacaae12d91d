// Run-time errors and contracts, each compared with the interpreter: exact budget pc, call depth,
// helper faults, callx targets, memory faults; plus tail calls, pseudo loads, introspection.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "jit/debug_registration.hpp"
#include "tests/jit/jit_test_support.hpp"
#include "vm/assembler.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {
vm::Program program_of(const char* text) {
  auto insns = vm::assemble(text);
  REQUIRE(insns);
  auto p = vm::decode_program(*insns, "test");
  REQUIRE(p);
  return *p;
}

// Runs text on both engines with these options and requires identical outcomes; returns the JIT's.
Outcome both(const char* text, vm::ExecOptions opt, std::size_t buffer_bytes = 16) {
  const auto program = program_of(text);
  const auto helpers = test_helpers();
  auto interp = vm::Interpreter::create(program, helpers);
  REQUIRE(interp);
  auto jp = jit::JitProgram::compile(program, helpers);
  REQUIRE(jp);
  std::vector<std::uint8_t> buffer(buffer_bytes), initial(buffer_bytes, 0x11);
  const auto a = run_engine(*interp, buffer, initial, opt, opt.checked || opt.budget_insns);
  const auto b = run_engine(*jp, buffer, initial, opt, opt.checked || opt.budget_insns);
  INFO("interp: " << a.describe() << "\njit:    " << b.describe());
  CHECK(a == b);
  return b;
}

constexpr const char* kLoop = R"(
  mov %r0, 0
  mov %r2, 1
loop:
  add %r0, %r2
  lddw %r3, 0x100000000
  stxdw [%r10-8], %r0
  jlt %r0, 10, loop
  exit
)";
}  // namespace

TEST_CASE("budget exhaustion names the interpreter's pc for every budget", "[jit][errors]") {
  for (std::uint64_t budget = 1; budget <= 60; ++budget) {
    for (bool checked : {false, true}) {
      vm::ExecOptions opt;
      opt.budget_insns = budget;
      opt.checked = checked;
      INFO("budget " << budget << " checked " << checked);
      both(kLoop, opt);
    }
  }
  vm::ExecOptions opt;
  opt.budget_insns = 3;
  const auto o = both(kLoop, opt);
  CHECK(o.code == Errc::BudgetExceeded);
  CHECK(o.pc == 3);
  CHECK(o.reason == "instruction budget of 3 exhausted");
}

TEST_CASE("call depth, helper faults and callx targets match the interpreter", "[jit][errors]") {
  vm::ExecOptions checked;
  checked.checked = true;
  const auto depth = both("call local f\nexit\nf:\ncall local f\nexit\n", checked);
  CHECK(depth.code == Errc::CallDepth);
  CHECK(depth.pc == 2);

  const auto fault = both("mov %r1, 8\ncall 2\nexit\n", checked);
  CHECK(fault.code == Errc::HelperFault);
  CHECK(fault.pc == 1);
  CHECK(fault.reason == "test_fault: argument r1 is a multiple of 4");

  const auto callx_bad = both("mov %r3, 77\ncall %r3\nexit\n", checked);
  CHECK(callx_bad.code == Errc::HelperFault);
  CHECK(callx_bad.pc == 1);

  const auto callx_helper = both("mov %r1, 3\nmov %r4, 1\ncall %r4\nexit\n", checked);
  CHECK(callx_helper.ok);

  // r1..r5 survive a helper call, as in the interpreter; r6..r9 survive a local call.
  const auto kept = both("mov %r1, 5\nmov %r5, 9\nmov %r6, 1\ncall 1\ncall local f\nadd %r1, %r5\nadd %r1, %r6\n"
                         "mov %r0, %r1\nexit\nf:\nmov %r6, 100\nmov %r0, 0\nexit\n", checked);
  CHECK(kept.ok);
  CHECK(kept.r0 == 15);
}

TEST_CASE("callx through lddw_func enters the subprogram", "[jit][calls]") {
  // lddw_func (src 4) has no assembler spelling; build it by hand: r2 = &f; callx r2.
  auto insns = vm::assemble("mov %r0, 0\nlddw %r2, 0\ncall %r2\nadd %r0, 1\nexit\nmov %r0, 41\nexit\n");
  REQUIRE(insns);
  (*insns)[1].src = static_cast<std::uint8_t>(isa::LddwSrc::Func);
  (*insns)[1].imm = 4;  // pc 1 + 1 + 4 = 6: mov %r0, 41
  auto program = vm::decode_program(*insns);
  REQUIRE(program);
  const auto helpers = test_helpers();
  auto jp = jit::JitProgram::compile(*program, helpers);
  REQUIRE(jp);
  for (bool checked : {false, true}) {
    vm::RunContext ctx;
    vm::ExecOptions opt;
    opt.checked = checked;
    auto r = jp->run(ctx, {}, opt);
    REQUIRE(r);
    CHECK(r->r0 == 42);
  }
}

TEST_CASE("checked mode faults match the interpreter", "[jit][errors]") {
  vm::ExecOptions checked;
  checked.checked = true;
  const auto read = both("ldxdw %r0, [%r1+12]\nexit\n", checked);
  CHECK(read.code == Errc::MemoryFault);
  CHECK(read.pc == 0);
  const auto write = both("mov %r0, 0\nstw [%r1-1], 3\nexit\n", checked);
  CHECK(write.code == Errc::MemoryFault);
  CHECK(write.pc == 1);
  const auto atomic = both("mov %r2, 1\nlock fetch or [%r1+16], %r2\nexit\n", checked);
  CHECK(atomic.code == Errc::MemoryFault);
  const auto stack_ok = both("stdw [%r10-512], 5\nldxdw %r0, [%r10-512]\nexit\n", checked);
  CHECK(stack_ok.ok);
  CHECK(stack_ok.r0 == 5);
  // A callee may read its caller's frame (the live region covers every frame), not below its own.
  both("stdw [%r10-8], 9\ncall local f\nexit\nf:\nldxdw %r0, [%r10+504]\nexit\n", checked);
  // Below the callee's frame: both fault at pc 2 (the address is each engine's own stack).
  const auto program = program_of("call local f\nexit\nf:\nldxdw %r0, [%r10-520]\nexit\n");
  const auto helpers = test_helpers();
  auto interp = vm::Interpreter::create(program, helpers);
  auto jp = jit::JitProgram::compile(program, helpers);
  REQUIRE(interp);
  REQUIRE(jp);
  std::vector<std::uint8_t> buffer(16), initial(16);
  const auto a = run_engine(*interp, buffer, initial, checked);
  const auto b = run_engine(*jp, buffer, initial, checked);
  CHECK(a.code == Errc::MemoryFault);
  CHECK(b.code == Errc::MemoryFault);
  CHECK(a.pc == 2);
  CHECK(b.pc == 2);
}

namespace {
// Shrinks the input region to 4 bytes, as bpf_xdp_adjust_tail shrinks a packet.
std::uint64_t helper_shrink_input(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                  vm::RunContext* ctx) {
  ctx->regions[0].size_bytes = 4;
  return 0;
}
}  // namespace

TEST_CASE("checked mode forgets the region it passed inline once a helper runs", "[jit][errors]") {
  // The x86-64 JIT tests a region the slow path allowed inline from then on; a helper may shrink or
  // drop regions, so after a call the same access must fault exactly where the interpreter faults.
  auto helpers = test_helpers();
  helpers.add(vm::HelperEntry{6, "test_shrink_input", &helper_shrink_input, nullptr, {}});
  vm::ExecOptions checked;
  checked.checked = true;
  for (const char* text : {
           "mov %r6, %r1\nldxb %r0, [%r6+8]\nldxb %r0, [%r6+9]\ncall 6\nldxb %r0, [%r6+8]\nexit\n",
           "mov %r6, %r1\nstb [%r6+8], 1\nstb [%r6+9], 2\ncall 6\nstb [%r6+8], 3\nexit\n",
       }) {
    INFO(text);
    const auto program = program_of(text);
    auto interp = vm::Interpreter::create(program, helpers);
    auto jp = jit::JitProgram::compile(program, helpers);
    REQUIRE(interp);
    REQUIRE(jp);
    std::vector<std::uint8_t> buffer(16), initial(16, 0x11);
    const auto a = run_engine(*interp, buffer, initial, checked);
    const auto b = run_engine(*jp, buffer, initial, checked);
    INFO("interp: " << a.describe() << "\njit:    " << b.describe());
    CHECK(a == b);
    CHECK(b.code == Errc::MemoryFault);
    CHECK(b.pc == 4);
  }
  // Without the call both accesses pass, the second one inline.
  const auto ok = both("mov %r6, %r1\nldxb %r0, [%r6+8]\nstb [%r6+9], 7\nldxb %r0, [%r6+9]\nexit\n", checked);
  CHECK(ok.ok);
  CHECK(ok.r0 == 7);
}

TEST_CASE("compile-time refusals", "[jit][errors]") {
  vm::HelperRegistry helpers = test_helpers();
  auto unknown = jit::JitProgram::compile(program_of("call 99\nexit\n"), helpers);
  REQUIRE(!unknown);
  CHECK(unknown.error().code == Errc::HelperFault);
  CHECK(unknown.error().pc == 0);

  auto insns = vm::assemble("lddw %r0, 0\nexit\n");
  REQUIRE(insns);
  (*insns)[0].src = static_cast<std::uint8_t>(isa::LddwSrc::MapFd);
  (*insns)[0].imm = 3;
  auto program = vm::decode_program(*insns);
  REQUIRE(program);
  auto no_maps = jit::JitProgram::compile(*program, helpers);
  REQUIRE(!no_maps);
  CHECK(no_maps.error().code == Errc::Unsupported);
  vm::PseudoResolver resolve = [](isa::LddwSrc, std::int32_t imm, std::int32_t, std::uint32_t) -> Result<std::uint64_t> {
    return 0x1000u + static_cast<std::uint64_t>(imm);
  };
  for (bool blind : {false, true}) {
    jit::JitOptions jo;
    jo.blind_constants = blind;
    auto with_maps = jit::JitProgram::compile(*program, helpers, resolve, jo);
    REQUIRE(with_maps);
    vm::RunContext ctx;
    auto r = with_maps->run(ctx, {});
    REQUIRE(r);
    CHECK(r->r0 == 0x1003);
  }
}

TEST_CASE("helpers see the live frames in ctx->stack, run restores it", "[jit][calls]") {
  static std::size_t seen = 0;
  vm::HelperRegistry helpers = test_helpers();
  helpers.add(vm::HelperEntry{9, "stack_size", [](std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                                  std::uint64_t, vm::RunContext* ctx) -> std::uint64_t {
                                seen = ctx->stack.size_bytes;
                                return 0;
                              }, nullptr, {}});
  const auto program = program_of("call local f\nexit\nf:\ncall local g\nexit\ng:\ncall 9\nexit\n");
  auto jp = jit::JitProgram::compile(program, helpers);
  REQUIRE(jp);
  vm::RunContext ctx;
  ctx.stack = vm::Region{1, 2, false, "before"};
  auto r = jp->run(ctx, {});
  REQUIRE(r);
  CHECK(seen == 3 * isa::kStackBytes);
  CHECK(ctx.stack.begin == 1);
  CHECK(ctx.stack.size_bytes == 2);
}

TEST_CASE("disassemble_native marks eBPF instruction boundaries", "[jit][introspection]") {
  const auto helpers = test_helpers();
  auto text = jit::disassemble_native(program_of("mov %r0, 1\nadd %r0, 2\nexit\n"), helpers);
  REQUIRE(text);
  CHECK(text->find("pc 0: mov %r0, 1") != std::string::npos);
  CHECK(text->find("pc 1: add %r0, 2") != std::string::npos);
  CHECK(text->find("pc 2: exit") != std::string::npos);
  CHECK(text->find("ret") != std::string::npos);
  auto checked = jit::disassemble_native(program_of("ldxdw %r0, [%r1+0]\nexit\n"), helpers, {}, {},
                                         jit::Variant::Checked);
  REQUIRE(checked);
  CHECK(checked->find("stub: checked access slow path") != std::string::npos);
}

TEST_CASE("perf map and GDB JIT registration", "[jit][introspection]") {
  const auto helpers = test_helpers();
  jit::JitOptions jo;
  jo.name = "bpfvm_test_prog";
  jo.register_with_debuggers = true;
  auto jp = jit::JitProgram::compile(program_of("mov %r0, 3\nexit\n"), helpers, {}, jo);
  REQUIRE(jp);
  std::ifstream map("/tmp/perf-" + std::to_string(getpid()) + ".map");
  std::stringstream ss;
  ss << map.rdbuf();
  char expected[64];
  std::snprintf(expected, sizeof expected, "%lx ",
                static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(jp->code(jit::Variant::Fast).data())));
  CHECK(ss.str().find(std::string(expected)) != std::string::npos);
  CHECK(ss.str().find("bpfvm_test_prog_fast") != std::string::npos);
  const auto elf = jit::make_symfile("f", 0x1000, 16);
  REQUIRE(elf.size() > 64);
  CHECK(elf[0] == 0x7f);
  CHECK(elf[1] == 'E');
  CHECK(elf[2] == 'L');
  CHECK(elf[3] == 'F');
}
