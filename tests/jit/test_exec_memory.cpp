// W^X: generated code lives in pages that are read+execute, never writable, between two guard pages;
// dropped pages go back to the pool read+write (never executable) and are reused by the next compile.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "jit/exec_memory.hpp"
#include "jit/exec_page_pool.hpp"
#include "tests/jit/jit_test_support.hpp"
#include "tests/skip.hpp"
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
  // Guard pages on both sides: no access at all, so the block is its own mapping.
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  CHECK(permissions_of(mem->address() - page) == "---p");
  CHECK(permissions_of(mem->address() + mem->mapped_bytes()) == "---p");

  // Moving transfers ownership; dropping makes the pages non-executable (pooled, or unmapped
  // when the pool is full).
  jit::ExecMemory moved = std::move(*mem);
  CHECK(mem->address() == 0);
  const auto addr = moved.address();
  { jit::ExecMemory gone = std::move(moved); }
  const auto perms = permissions_of(addr);
  CHECK((perms == "rw-p" || perms.empty()));
}

namespace {
#if defined(__aarch64__)
const std::uint8_t kRet7[] = {0xe0, 0x00, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6};  // mov w0, #7; ret
const std::uint8_t kRet42Long[] = {0x40, 0x05, 0x80, 0x52, 0x1f, 0x20, 0x03, 0xd5,  // mov w0, #42; nop
                                   0x1f, 0x20, 0x03, 0xd5, 0xc0, 0x03, 0x5f, 0xd6};  // nop; ret
#else
const std::uint8_t kRet7[] = {0xb8, 7, 0, 0, 0, 0xc3};  // mov eax, 7; ret
const std::uint8_t kRet42Long[] = {0xb8, 0x2a, 0, 0, 0, 0x90, 0x90, 0x90, 0x90, 0xc3};  // mov; nops; ret
#endif
}  // namespace

TEST_CASE("ExecMemory reuses dropped pages with fresh contents and W^X kept", "[jit][wx]") {
  auto& pool = jit::ExecPagePool::instance();
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  auto old_code = jit::ExecMemory::create(kRet42Long);
  REQUIRE(old_code);
  const auto old_addr = old_code->address();
  const auto before_drop = pool.pooled_bytes();
  { jit::ExecMemory gone = std::move(*old_code); }
  // A full pool unmaps instead (the next case); ctest runs each case in a fresh process, where it is not.
  if (before_drop + page > jit::ExecPagePool::kMaxPooledBytes)
    bpfvm::testing::skip_test("the executable page pool is already full in this process (run the case alone)");
  CHECK(pool.pooled_bytes() == before_drop + page);
  CHECK(permissions_of(old_addr) == "rw-p");

  // The next one-page block comes from the pool: no stale code after the new code, r-x again.
  auto reused = jit::ExecMemory::create(kRet7);
  REQUIRE(reused);
  CHECK(pool.pooled_bytes() == before_drop);
  CHECK(permissions_of(reused->address()) == "r-xp");
  CHECK(write_crashes(reused->address()));
  CHECK(reinterpret_cast<int (*)()>(reused->address())() == 7);
  for (std::size_t i = sizeof kRet7; i < reused->mapped_bytes(); ++i) REQUIRE(reused->data()[i] == 0);
}

TEST_CASE("ExecMemory unmaps dropped pages beyond the pool's bound", "[jit][wx]") {
  auto& pool = jit::ExecPagePool::instance();
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::vector<jit::ExecMemory> live;
  const std::size_t count = jit::ExecPagePool::kMaxPooledBytes / page + 8;
  for (std::size_t i = 0; i < count; ++i) {
    auto mem = jit::ExecMemory::create(kRet7);
    REQUIRE(mem);
    live.push_back(std::move(*mem));
  }
  std::vector<std::uintptr_t> addrs;
  for (const auto& m : live) addrs.push_back(m.address());
  live.clear();
  CHECK(pool.pooled_bytes() == jit::ExecPagePool::kMaxPooledBytes);
  std::size_t pooled = 0, unmapped = 0;
  for (auto a : addrs) {
    const auto perms = permissions_of(a);
    if (perms == "rw-p") ++pooled;
    else if (perms.empty()) ++unmapped;
    else FAIL("dropped code pages are " << perms);
  }
  CHECK(unmapped >= 8);
  CHECK(pooled + unmapped == count);
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
