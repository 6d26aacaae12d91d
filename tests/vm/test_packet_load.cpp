// LD_ABS/LD_IND in the interpreter: the registry's packet-load entry does the read (here a test
// entry over a plain buffer), the engine computes the offset, sets r0, and on a negative result
// returns 0 from the current function: the whole program from main, to the caller from a subprogram.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "vm/assembler.hpp"
#include "vm/interpreter.hpp"

using namespace bpfvm;

namespace {

// What r6 points to in these tests: a packet and the last request the entry saw.
struct TestSkb {
  std::vector<std::uint8_t> packet;
  std::int32_t last_offset = 0;
  std::uint64_t last_size = 0;
};

// The contract of HelperRegistry::set_packet_load: low 32 bits of offset, big-endian value, or negative.
std::uint64_t test_packet_load(std::uint64_t ctx, std::uint64_t offset, std::uint64_t size, std::uint64_t,
                               std::uint64_t, vm::RunContext*) {
  auto* skb = reinterpret_cast<TestSkb*>(static_cast<std::uintptr_t>(ctx));
  const auto k = static_cast<std::int32_t>(static_cast<std::uint32_t>(offset));
  skb->last_offset = k;
  skb->last_size = size;
  if (k < 0 || static_cast<std::uint64_t>(k) + size > skb->packet.size()) return static_cast<std::uint64_t>(-14);
  std::uint64_t v = 0;
  for (std::uint64_t i = 0; i < size; ++i) v = (v << 8) | skb->packet[static_cast<std::size_t>(k) + i];
  return v;
}

std::uint64_t refusing_packet_load(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                   vm::RunContext* run) {
  run->helper_fault = "r6 is not the program's context";
  return 0;
}

struct Harness {
  vm::HelperRegistry helpers;
  TestSkb skb{{0x45, 0x00, 0x00, 0x54, 0xde, 0xad, 0xbe, 0xef, 0x80, 0x01}};
  Harness() { helpers.set_packet_load({0, "ld_abs/ld_ind", &test_packet_load, nullptr, {}}); }

  // r1 = the test skb; programs move it to r6 themselves, as compiled ones do.
  Result<vm::ExecResult> run(std::string_view text, vm::ExecOptions options = {}) {
    auto insns = vm::assemble(text);
    if (!insns) return std::move(insns).error();
    auto p = vm::decode_program(std::move(*insns), "test");
    if (!p) return std::move(p).error();
    auto in = vm::Interpreter::create(*p, helpers);
    if (!in) return std::move(in).error();
    vm::RunContext ctx;
    const std::uint64_t args[] = {reinterpret_cast<std::uintptr_t>(&skb)};
    return in->run(ctx, args, options);
  }
};

}  // namespace

TEST_CASE("ld_abs/ld_ind: r0 = the entry's value, offsets imm or src + imm") {
  Harness h;
  for (bool checked : {false, true}) {
    INFO("checked " << checked);
    const vm::ExecOptions o{.checked = checked};
    auto w = h.run("mov %r6, %r1\nldabsw 4\nexit\n", o);
    REQUIRE(w.has_value());
    CHECK(w->r0 == 0xdeadbeef);
    CHECK(h.skb.last_size == 4);
    auto hw = h.run("mov %r6, %r1\nldabsh 2\nexit\n", o);
    REQUIRE(hw.has_value());
    CHECK(hw->r0 == 0x54);
    auto b = h.run("mov %r6, %r1\nmov %r0, -1\nldabsb 8\nexit\n", o);
    REQUIRE(b.has_value());
    CHECK(b->r0 == 0x80);  // zero-extended: r0's old upper bits are gone
    auto ind = h.run("mov %r6, %r1\nmov %r3, 6\nldindh %r3, 2\nexit\n", o);
    REQUIRE(ind.has_value());
    CHECK(ind->r0 == 0x8001);
    CHECK(h.skb.last_offset == 8);
    // src + imm is added in 64 bits like the kernel's r2; the entry sees the low 32 bits.
    auto wrap = h.run("mov %r6, %r1\nlddw %r3, 0x100000004\nldindb %r3, -2\nexit\n", o);
    REQUIRE(wrap.has_value());
    CHECK(h.skb.last_offset == 2);
    CHECK(wrap->r0 == 0x00);
  }
}

TEST_CASE("ld_abs/ld_ind: outside the packet the program ends with r0 = 0") {
  Harness h;
  const char* prog = "mov %r6, %r1\nmov %r7, 99\nldabsw 8\nmov %r0, %r7\nexit\n";  // bytes 8..11 of 10
  auto r = h.run(prog);
  REQUIRE(r.has_value());
  CHECK(r->r0 == 0);
  CHECK(r->insns_executed == 3);
  auto neg = h.run("mov %r6, %r1\nmov %r2, -20\nldindb %r2, 0\nmov %r0, 1\nexit\n");
  REQUIRE(neg.has_value());
  CHECK(neg->r0 == 0);
  // The budget counts the load that ended the run, nothing after it.
  auto budget = h.run(prog, {.budget_insns = 3});
  REQUIRE(budget.has_value());
  CHECK(budget->r0 == 0);
}

TEST_CASE("ld_abs/ld_ind: from a subprogram, the hidden exit returns 0 to the caller") {
  Harness h;
  // f returns 0 at the failed load; main goes on and adds 5 (the kernel's bpf_gen_ld_abs semantics).
  const char* prog =
      "mov %r6, %r1\nmov %r0, 77\ncall local f\nadd %r0, 5\nexit\n"
      "f:\nldabsw 100\nmov %r0, 1\nexit\n";
  for (bool checked : {false, true}) {
    auto r = h.run(prog, {.checked = checked});
    REQUIRE(r.has_value());
    CHECK(r->r0 == 5);
  }
}

TEST_CASE("ld_abs/ld_ind: r1-r5 are left alone, faults and a missing entry are errors") {
  Harness h;
  auto kept = h.run("mov %r6, %r1\nmov %r2, 1\nmov %r5, 7\nldindb %r2, 0\nadd %r0, %r5\nexit\n");
  REQUIRE(kept.has_value());
  CHECK(kept->r0 == 7);  // packet[1] == 0, plus r5

  h.helpers.set_packet_load({0, "ld_abs/ld_ind", &refusing_packet_load, nullptr, {}});
  auto fault = h.run("mov %r0, 0\nldabsb 0\nexit\n");
  REQUIRE_FALSE(fault.has_value());
  CHECK(fault.error().code == Errc::HelperFault);
  CHECK(fault.error().message() == "insn 1: ld_abs/ld_ind: r6 is not the program's context");

  vm::HelperRegistry none;
  auto p = vm::decode_program(std::vector<vm::Insn>{{0x30, 0, 0, 0, 1}, {0x95}});
  REQUIRE(p.has_value());
  auto in = vm::Interpreter::create(*p, none);
  REQUIRE_FALSE(in.has_value());
  CHECK(in.error().code == Errc::Unsupported);
  CHECK(in.error().message() ==
        "insn 0: ldabsb: the helper registry has no packet-load entry for legacy packet loads "
        "(register_kernel_helpers sets it)");
}
