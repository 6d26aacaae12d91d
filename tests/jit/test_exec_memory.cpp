// W^X: generated code lives in pages that are read+execute, never writable, and unmapped on drop.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "jit/exec_memory.hpp"
#include "tests/jit/jit_test_support.hpp"
#include "vm/assembler.hpp"

using namespace bpfvm;

namespace {
// Permissions of the mapping that contains addr, e.g. "r-xp"; empty when unmapped.
std::string permissions_of(std::uintptr_t addr) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long lo = 0, hi = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi) return perms;
  }
  return {};
}

bool write_crashes(std::uintptr_t addr) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::signal(SIGSEGV, SIG_DFL);  // Catch2 installs its own handler
    std::signal(SIGBUS, SIG_DFL);
    *reinterpret_cast<volatile std::uint8_t*>(addr) = 0xcc;
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
}
}  // namespace

TEST_CASE("ExecMemory pages are read+execute and not writable", "[jit][wx]") {
#if defined(__aarch64__)
  const std::uint8_t ret42[] = {0x40, 0x05, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6};  // mov w0, #42; ret
#else
  const std::uint8_t ret42[] = {0xb8, 0x2a, 0, 0, 0, 0xc3};  // mov eax, 42; ret
#endif
  auto mem = jit::ExecMemory::create(ret42);
  REQUIRE(mem);
  CHECK(permissions_of(mem->address()) == "r-xp");
  CHECK(reinterpret_cast<int (*)()>(mem->address())() == 42);
  CHECK(write_crashes(mem->address()));

  // Moving transfers ownership; dropping unmaps.
  jit::ExecMemory moved = std::move(*mem);
  CHECK(mem->address() == 0);
  const auto addr = moved.address();
  { jit::ExecMemory gone = std::move(moved); }
  CHECK(permissions_of(addr).empty());
}

TEST_CASE("JIT-compiled programs run from r-x pages", "[jit][wx]") {
  auto insns = vm::assemble("mov %r0, 7\nexit\n");
  REQUIRE(insns);
  auto program = vm::decode_program(*insns);
  REQUIRE(program);
  const auto helpers = testing::test_helpers();
  auto jp = jit::JitProgram::compile(*program, helpers);
  REQUIRE(jp);
  const auto code = jp->code(jit::Variant::Fast);
  REQUIRE(!code.empty());
  const auto addr = reinterpret_cast<std::uintptr_t>(code.data());
  CHECK(permissions_of(addr) == "r-xp");
  CHECK(write_crashes(addr));
  CHECK(jp->code(jit::Variant::Checked).empty());  // built lazily
  vm::RunContext ctx;
  vm::ExecOptions opt;
  opt.checked = true;
  auto r = jp->run(ctx, {}, opt);
  REQUIRE(r);
  CHECK(r->r0 == 7);
  CHECK(r->insns_executed == 2);
  CHECK(permissions_of(reinterpret_cast<std::uintptr_t>(jp->code(jit::Variant::Checked).data())) == "r-xp");
}
