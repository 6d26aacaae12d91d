// The syscall program type's context against the running kernel (issue #15): its verdicts (any
// constant offset below U16_MAX aligned to the size, read or write: syscall_prog_is_valid_access) and
// its test runs (the context is the caller's ctx_in bytes; a run giving fewer bytes than the furthest
// one an access reaches, max_ctx_offset, is refused with EINVAL, as one giving more than 65535).
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "bpfvm/bpfvm.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "vm/assembler.hpp"
#include "vm/program.hpp"

using namespace bpfvm;

namespace {

// BPF_PROG_LOAD of a syscall program (the kernel loads them only sleepable, as libbpf's SEC("syscall")
// does); an invalid fd when refused.
testing::Fd kernel_load(const std::vector<vm::Insn>& insns, std::string& log) {
  const auto bytes = vm::encode_program(insns);
  std::vector<char> buffer(64 * 1024, 0);
  bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_SYSCALL;
  a.prog_flags = BPF_F_SLEEPABLE;
  a.insns = reinterpret_cast<std::uintptr_t>(bytes.data());
  a.insn_cnt = static_cast<std::uint32_t>(insns.size());
  a.license = reinterpret_cast<std::uintptr_t>("GPL");
  a.log_buf = reinterpret_cast<std::uintptr_t>(buffer.data());
  a.log_size = static_cast<std::uint32_t>(buffer.size());
  a.log_level = 1;
  const long fd = testing::kernel_bpf(BPF_PROG_LOAD, a);
  log = buffer.data();
  return testing::Fd(fd < 0 ? -1 : static_cast<int>(fd));
}

// BPF_PROG_TEST_RUN of a syscall program: 0 and retval, ctx updated in place; or -errno.
int kernel_run(const testing::Fd& prog, std::vector<std::uint8_t>& ctx, std::uint32_t& retval) {
  bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.test.prog_fd = static_cast<std::uint32_t>(prog.get());
  a.test.ctx_in = ctx.empty() ? 0 : reinterpret_cast<std::uintptr_t>(ctx.data());
  a.test.ctx_size_in = static_cast<std::uint32_t>(ctx.size());
  if (testing::kernel_bpf(BPF_PROG_TEST_RUN, a) < 0) return -errno;
  retval = a.test.retval;
  return 0;
}

Result<Program> bpfvm_load(Vm& vm, const std::string& text, Engine engine = Engine::Interpreter) {
  auto object = vm.open_assembly(text, *ProgramType::kernel(BPF_PROG_TYPE_SYSCALL), "p");
  if (!object) return std::move(object).error();
  ProgramOptions options;
  options.engine = engine;
  return object->load("p", options);
}

struct Case {
  const char* label;
  const char* text;
  /// bpfvm refuses what the kernel accepts, on purpose (verifier/README.md's table).
  bool bpfvm_refuses = false;
};

// Each program's verdict is the kernel's except where bpfvm_refuses says otherwise.
constexpr Case kVerdictCases[] = {
    {"4-byte stores at 0 and 4", "stw [%r1+0], 0\nstw [%r1+4], 0\nmov %r0, 0\nexit\n"},
    {"8-byte load at 16", "ldxdw %r0, [%r1+16]\nexit\n"},
    {"1-byte load at an odd offset", "ldxb %r0, [%r1+7]\nexit\n"},
    {"misaligned 4-byte load", "ldxw %r0, [%r1+2]\nexit\n"},
    {"misaligned 8-byte store", "stdw [%r1+4], 1\nmov %r0, 0\nexit\n"},
    {"the furthest insn offset, 1 byte", "ldxb %r0, [%r1+32767]\nexit\n"},
    {"8-byte store near the insn offset's end", "stdw [%r1+32760], 1\nmov %r0, 0\nexit\n"},
    {"negative offset", "ldxb %r0, [%r1-1]\nexit\n"},
    {"load through ctx + 8", "add %r1, 8\nldxw %r0, [%r1+0]\nexit\n"},
    {"no access", "mov %r0, 7\nexit\n"},
    // A privileged kernel lets a pointer leak into the caller's bytes (allow_ptr_leaks), whole or narrow.
    {"pointer store", "stxdw [%r1+0], %r10\nmov %r0, 0\nexit\n"},
    {"4-byte pointer store", "stxw [%r1+4], %r10\nmov %r0, 0\nexit\n"},
    {"pointer store, then a load of it", "stxdw [%r1+8], %r1\nldxdw %r0, [%r1+8]\nexit\n"},
};

// Reads ctx[0..4), writes ctx[4..8) and ctx[8..16): reaches byte 16.
constexpr const char* kRunText =
    "ldxw %r2, [%r1+0]\n"
    "mov %r3, %r2\n"
    "add %r3, 1\n"
    "stxw [%r1+4], %r3\n"
    "stdw [%r1+8], -1\n"
    "mov %r0, %r2\n"
    "add %r0, 100\n"
    "exit\n";

}  // namespace

TEST_CASE("syscall context verdicts equal the running kernel's") {
  for (const auto& c : kVerdictCases) {
    INFO(c.label);
    auto insns = vm::assemble(c.text);
    REQUIRE(insns.has_value());
    std::string log;
    const bool kernel = kernel_load(*insns, log).valid();
    INFO("kernel log: " << log);
    Vm vm;
    auto ours = bpfvm_load(vm, c.text);
    INFO("bpfvm: " << (ours ? std::string("accepts") : ours.error().message()));
    CHECK(ours.has_value() == (kernel && !c.bpfvm_refuses));
    if (c.bpfvm_refuses) CHECK(kernel);  // a listed difference that is gone fails too: fix the entry
  }
}

TEST_CASE("syscall test runs: the context is the caller's bytes, at least as many as the program reaches") {
  auto insns = vm::assemble(kRunText);
  REQUIRE(insns.has_value());
  std::string log;
  const testing::Fd prog = kernel_load(*insns, log);
  INFO(log);
  REQUIRE(prog.valid());
  Vm vm;
  for (const Engine engine : {Engine::Interpreter, Engine::Jit}) {
    auto program = bpfvm_load(vm, kRunText, engine);
    REQUIRE(program.has_value());
    for (const std::size_t size : {0u, 4u, 15u, 16u, 24u, 65535u, 65536u}) {
      INFO("ctx bytes " << size << ", engine " << static_cast<int>(engine));
      std::vector<std::uint8_t> ctx(size);
      for (std::size_t i = 0; i < size; ++i) ctx[i] = static_cast<std::uint8_t>(i * 7 + 3);
      const std::vector<std::uint8_t> in = ctx;
      std::uint32_t retval = 0;
      const int kernel = kernel_run(prog, ctx, retval);
      auto ours = program->run(RunInput{{}, in, 1, nullptr, {}, false});
      INFO("kernel: " << kernel << ", bpfvm: " << (ours ? std::string("ran") : ours.error().message()));
      REQUIRE(ours.has_value() == (kernel == 0));
      if (kernel != 0) {
        CHECK(kernel == -EINVAL);
        CHECK(ours.error().code == Errc::InvalidArgument);
        continue;
      }
      CHECK(ours->retval == retval);
      CHECK(ours->ctx_out == ctx);  // the kernel copies the context back into ctx_in
    }
  }
}

TEST_CASE("syscall: a pointer stored into the context runs on both engines; unprivileged, it is refused") {
  // The kernel's test run of this program returns 0 (verdict above); the stored address is the host's.
  const char* text = "stxdw [%r1+8], %r10\nmov %r0, 0\nexit\n";
  Vm vm;
  for (const Engine engine : {Engine::Interpreter, Engine::Jit}) {
    auto program = bpfvm_load(vm, text, engine);
    REQUIRE(program.has_value());
    const std::vector<std::uint8_t> in(16, 0);
    auto ours = program->run(RunInput{{}, in, 1, nullptr, {}, false});
    REQUIRE(ours.has_value());
    CHECK(ours->retval == 0);
    REQUIRE(ours->ctx_out.size() == 16);
    std::uint64_t stored = 0;
    std::memcpy(&stored, ours->ctx_out.data() + 8, 8);
    CHECK(stored != 0);  // the frame pointer's address
  }
  auto object = vm.open_assembly(text, *ProgramType::kernel(BPF_PROG_TYPE_SYSCALL), "p");
  REQUIRE(object.has_value());
  ProgramOptions unprivileged;
  unprivileged.unprivileged = true;
  auto refused = object->load("p", unprivileged);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().reason.find("leaks addr") != std::string::npos);
}
