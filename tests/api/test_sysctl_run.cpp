// cgroup_sysctl runs (no kernel test run): RunInput::sysctl gives the sysctl the hook would, the
// context's `write` follows it, and RunOutput::sysctl_new_value is the value the write goes on with
// (the kernel's __cgroup_bpf_run_filter_sysctl), on every engine.
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "bpfvm/bpfvm.hpp"

using namespace bpfvm;

namespace {

constexpr Engine kEngines[] = {Engine::Interpreter, Engine::Jit, Engine::JitOptimized};

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// Fills 32 stack bytes with 0xaa, calls `call` (which sets r1..r5 from r6 = ctx and r7 = the buffer),
// stores its result in file_pos, hands the 32 bytes to bpf_sysctl_set_new_value, and returns `verdict`.
std::string program(const std::string& call, int verdict = 1) {
  return "mov %r6, %r1\nlddw %r1, 0xaaaaaaaaaaaaaaaa\nstxdw [%r10-32], %r1\nstxdw [%r10-24], %r1\n"
         "stxdw [%r10-16], %r1\nstxdw [%r10-8], %r1\nmov %r7, %r10\nadd %r7, -32\n" +
         call +
         "\nstxw [%r6+4], %r0\nmov %r1, %r6\nmov %r2, %r7\nmov %r3, 32\ncall 104\n"
         "mov %r0, " +
         std::to_string(verdict) + "\nexit\n";
}

struct Ran {
  std::uint32_t write = 0, file_pos = 0;
  RunOutput out;
};

// `text` as a cgroup_sysctl program of `vm` on `engine`.
Program load_sysctl(Vm& vm, const std::string& text, Engine engine) {
  auto type = ProgramType::kernel(BPF_PROG_TYPE_CGROUP_SYSCTL);
  REQUIRE(type.has_value());
  auto object = vm.open_assembly(text, *type, "sysctl");
  REQUIRE(object.has_value());
  auto prog = object->load("sysctl", {.engine = engine});
  INFO((prog ? std::string() : prog.error().message()));
  REQUIRE(prog.has_value());
  return std::move(*prog);
}

Ran run(Engine engine, const std::string& text, const SysctlAccess* access) {
  Vm vm;
  const Program prog = load_sysctl(vm, text, engine);
  const std::vector<std::uint8_t> ctx(sizeof(bpf_sysctl), 0);
  auto out = prog.run(RunInput{.ctx = ctx, .sysctl = access});
  INFO((out ? std::string() : out.error().message()));
  REQUIRE(out.has_value());
  Ran r;
  r.out = std::move(*out);
  REQUIRE(r.out.ctx_out.size() >= sizeof(bpf_sysctl));
  std::memcpy(&r.write, r.out.ctx_out.data(), 4);
  std::memcpy(&r.file_pos, r.out.ctx_out.data() + 4, 4);
  return r;
}

std::string text_of(const std::optional<std::vector<std::uint8_t>>& v) {
  REQUIRE(v.has_value());
  return std::string(v->begin(), v->end());
}

}  // namespace

TEST_CASE("cgroup_sysctl run: RunInput::sysctl feeds the sysctl helpers, the new value comes back") {
  const auto current = bytes("Linux\n");
  const auto written = bytes("bpfvm\n");
  const SysctlAccess write{.name = "kernel/ostype", .current_value = current, .write = true, .new_value = written};
  const std::string aa(1, '\xaa');
  for (const Engine engine : kEngines) {
    INFO("engine " << static_cast<int>(engine));
    // Full name, then the base name; strscpy leaves the bytes after the NUL alone.
    auto r = run(engine, program("mov %r1, %r6\nmov %r2, %r7\nmov %r3, 32\nmov %r4, 0\ncall 101"), &write);
    CHECK(r.file_pos == 13);
    CHECK(r.write == 1);  // the context's write follows SysctlAccess::write
    CHECK(text_of(r.out.sysctl_new_value) == std::string("kernel/ostype\0", 14) + std::string(18, '\xaa'));
    CHECK(r.out.cgroup_retval == 0);
    r = run(engine, program("mov %r1, %r6\nmov %r2, %r7\nmov %r3, 5\nmov %r4, 1\ncall 101"), &write);
    CHECK(static_cast<std::int32_t>(r.file_pos) == -E2BIG);
    CHECK(text_of(r.out.sysctl_new_value) == std::string("osty\0", 5) + std::string(27, '\xaa'));
    // The current value, zero-padded.
    r = run(engine, program("mov %r1, %r6\nmov %r2, %r7\nmov %r3, 32\ncall 102"), &write);
    CHECK(r.file_pos == 6);
    CHECK(text_of(r.out.sysctl_new_value) == "Linux\n" + std::string(26, '\0'));
    // The write's value, cut to 3 bytes with a NUL.
    r = run(engine, program("mov %r1, %r6\nmov %r2, %r7\nmov %r3, 3\ncall 103"), &write);
    CHECK(static_cast<std::int32_t>(r.file_pos) == -E2BIG);
    CHECK(text_of(r.out.sysctl_new_value) == std::string("bp\0", 3) + std::string(29, '\xaa'));
    // A program that refuses the write (returns 0): the hook's -EPERM, and no new value goes on.
    r = run(engine, program("mov %r1, %r6\nmov %r2, %r7\nmov %r3, 32\ncall 102", 0), &write);
    CHECK(r.out.cgroup_retval == -EPERM);
    CHECK_FALSE(r.out.sysctl_new_value.has_value());
  }
}

TEST_CASE("cgroup_sysctl run: a read access (write 0) has no new value, and without RunInput::sysctl the helpers stop") {
  const auto current = bytes("1\n");
  const SysctlAccess read{.name = "net/ipv4/ip_forward", .current_value = current};
  for (const Engine engine : kEngines) {
    INFO("engine " << static_cast<int>(engine));
    // get_new_value on a read: -EINVAL with the buffer zeroed; set_new_value -EINVAL (no value back).
    const std::string zeroed_first_word =
        "mov %r6, %r1\nlddw %r1, 0xaaaaaaaaaaaaaaaa\nstxdw [%r10-8], %r1\nmov %r1, %r6\nmov %r2, %r10\n"
        "add %r2, -8\nmov %r3, 8\ncall 103\nstxw [%r6+4], %r0\nldxdw %r1, [%r10-8]\nmov %r0, 1\njeq %r1, 0, +1\n"
        "mov %r0, 0\nexit\n";
    auto r = run(engine, zeroed_first_word, &read);
    CHECK(static_cast<std::int32_t>(r.file_pos) == -EINVAL);
    CHECK(r.write == 0);
    CHECK(r.out.r0 == 1);
    r = run(engine, program("mov %r1, %r6\nmov %r2, %r7\nmov %r3, 32\nmov %r4, 1\ncall 101"), &read);
    CHECK(r.file_pos == 10);  // "ip_forward"
    CHECK_FALSE(r.out.sysctl_new_value.has_value());

    Vm vm;
    const Program prog = load_sysctl(vm, program("mov %r1, %r6\nmov %r2, %r7\nmov %r3, 32\ncall 102"), engine);
    const std::vector<std::uint8_t> ctx(sizeof(bpf_sysctl), 0);
    auto stopped = prog.run(RunInput{.ctx = ctx});
    REQUIRE_FALSE(stopped.has_value());
    CHECK(stopped.error().message().find("bpf_sysctl_get_current_value is not supported yet") != std::string::npos);
  }
}

TEST_CASE("cgroup_sysctl run: a Runner passes RunInput::sysctl to the helpers as Program::run does") {
  const auto current = bytes("Linux\n");
  const auto written = bytes("bpfvm\n");
  const SysctlAccess write{.name = "kernel/ostype", .current_value = current, .write = true, .new_value = written};
  for (const Engine engine : kEngines) {
    INFO("engine " << static_cast<int>(engine));
    Vm vm;
    const Program prog = load_sysctl(vm, program("mov %r1, %r6\nmov %r2, %r7\nmov %r3, 32\ncall 102"), engine);
    Runner runner = prog.runner();
    const std::vector<std::uint8_t> ctx(sizeof(bpf_sysctl), 0);
    // Twice: the second run reuses the runner's prepared state.
    for (int round = 0; round < 2; ++round) {
      auto ran = runner.run(RunInput{.ctx = ctx, .sysctl = &write});
      INFO((ran ? std::string() : ran.error().message()));
      REQUIRE(ran.has_value());
      const RunOutput& out = runner.output();
      std::uint32_t write_field = 0, file_pos = 0;
      REQUIRE(out.ctx_out.size() >= sizeof(bpf_sysctl));
      std::memcpy(&write_field, out.ctx_out.data(), 4);
      std::memcpy(&file_pos, out.ctx_out.data() + 4, 4);
      CHECK(write_field == 1);
      CHECK(file_pos == 6);
      CHECK(text_of(out.sysctl_new_value) == "Linux\n" + std::string(26, '\0'));
      CHECK(out.cgroup_retval == 0);
    }
    // Without it the helpers stop, through the Runner too.
    auto stopped = runner.run(RunInput{.ctx = ctx});
    REQUIRE_FALSE(stopped.has_value());
    CHECK(stopped.error().message().find("bpf_sysctl_get_current_value is not supported yet") != std::string::npos);
  }
}
