// bpf_strtol / bpf_strtoul against the kernel: each string and flags value is parsed by a program run
// in the kernel (run_r0_64: an XDP program's subprogram, the string in an array map value) and by the
// same program on bpfvm's interpreter and JIT (a plain program on the same bytes). The return value
// and what the helper left in *res must be the kernel's.
#include <linux/bpf.h>

#include <cstdint>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "bpfvm/bpfvm.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "vm/assembler.hpp"

using namespace bpfvm;

namespace {

struct Case {
  std::string text;
  std::uint32_t flags;
};

// r1 = the string, r2 = its length; *res starts as 77 so a helper that leaves it alone shows.
// want_result: r0 = what the helper left in *res, else the helper's return value.
std::string body(std::uint32_t helper, std::size_t len, std::uint32_t flags, bool want_result) {
  return "mov %r2, " + std::to_string(len) + "\nmov %r3, " + std::to_string(flags) +
         "\nmov %r4, 77\nstxdw [%r10-8], %r4\nmov %r4, %r10\nadd %r4, -8\ncall " + std::to_string(helper) +
         (want_result ? "\nldxdw %r0, [%r10-8]" : "") + "\nexit\n";
}

}  // namespace

TEST_CASE("bpf_strtol / bpf_strtoul: return value and *res equal the kernel's on every engine") {
  const std::vector<Case> cases = {
      {"42", 10}, {"  -0x1f", 0}, {"0777", 0}, {"0x", 0}, {"0x", 16}, {"0X1A", 16}, {"ff", 16}, {"12abc", 10},
      {"abc", 10}, {"-", 10}, {"", 10}, {"12", 3}, {"12", 10 | 0x20}, {"\t\n\v\f\r 9", 10},
      {"\xa0" "5", 10},  // the kernel's isspace: 0xa0 is a space
      {"-5", 10}, {"9223372036854775807", 10}, {"9223372036854775808", 10}, {"-9223372036854775808", 10},
      {"18446744073709551615", 10}, {"18446744073709551616", 10}, {"99999999999999999999", 10},
      {std::string(70, '1'), 10},  // only 63 characters are parsed
      {"0000000000000000000000000000000000000000000000000000000000000000000000012", 10},
      {"08", 0}, {"0x8g", 0}, {"-0", 10}, {"+5", 10}, {"7\0" "8", 10},
  };
  Vm vm;
  std::size_t compared = 0;
  for (const std::uint32_t helper : {std::uint32_t{BPF_FUNC_strtol}, std::uint32_t{BPF_FUNC_strtoul}}) {
    for (const auto& c : cases) {
      for (const bool want_result : {false, true}) {
        // A zero-length buffer cannot be passed (ARG_CONST_SIZE); "" is given as one NUL byte.
        const std::size_t len = c.text.empty() ? 1 : c.text.size();
        std::vector<std::uint8_t> mem(len, 0);
        std::memcpy(mem.data(), c.text.data(), c.text.size());
        const std::string text = body(helper, len, c.flags, want_result);
        INFO("helper " << helper << " on \"" << c.text << "\" flags " << c.flags << (want_result ? " (*res)" : " (r0)"));
        auto insns = vm::assemble(text);
        REQUIRE(insns.has_value());
        std::string log;
        auto kernel = testing::run_r0_64(*insns, mem, &log);
        INFO(log);
        REQUIRE(kernel.has_value());
        for (const Engine engine : {Engine::Interpreter, Engine::Jit}) {
          auto object = vm.open_assembly(text, ProgramType::plain(static_cast<std::uint32_t>(len)), "strtox");
          REQUIRE(object.has_value());
          auto program = object->load("strtox", {.engine = engine});
          INFO((program ? std::string() : program.error().message()));
          REQUIRE(program.has_value());
          auto out = program->run(RunInput{.data = mem});
          INFO((out ? std::string() : out.error().message()));
          REQUIRE(out.has_value());
          CHECK(out->r0 == *kernel);
          ++compared;
        }
      }
    }
  }
  std::cout << "bpf_strtol/bpf_strtoul: " << compared << " runs equal to the kernel's\n";
}
