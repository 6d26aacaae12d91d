// XDP test runs with a ctx_in (struct xdp_md) against the kernel's BPF_PROG_TEST_RUN: every case the
// kernel refuses bpfvm refuses with the same errno; every case it runs on a linear frame bpfvm runs
// with the same retval and packet; a data_end short of data_in (the kernel puts the rest in frags)
// is bpfvm's "not supported yet" (multi-buffer XDP), never a refusal the kernel does not make.
#include <linux/bpf.h>

#include <cerrno>
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
  std::uint32_t data_size_in;
  xdp_md md;
};

// r0 = (data_end - data) << 16 | (data - data_meta): the linear packet and metadata lengths it saw.
constexpr const char* kProgram =
    "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r4, [%r1+8]\n"
    "mov %r0, %r3\nsub %r0, %r2\nlsh %r0, 16\nmov %r5, %r2\nsub %r5, %r4\nor %r0, %r5\nexit\n";

// The kernel's linear frame: a 4096-byte page less XDP_PACKET_HEADROOM and the skb_shared_info
// tailroom; metadata comes out of the headroom, so it adds to this.
constexpr std::uint32_t kMaxLinearBytes = 4096 - 256 - 320;

xdp_md make_md(std::uint32_t data, std::uint32_t data_end, std::uint32_t data_meta = 0, std::uint32_t egress = 0,
               std::uint32_t ingress = 0, std::uint32_t rxq = 0) {
  xdp_md m{};
  m.data = data;
  m.data_end = data_end;
  m.data_meta = data_meta;
  m.egress_ifindex = egress;
  m.ingress_ifindex = ingress;
  m.rx_queue_index = rxq;
  return m;
}

}  // namespace

TEST_CASE("XDP ctx_in: bpfvm refuses exactly what the kernel's test run refuses") {
  const std::vector<Case> cases = {
      {64, make_md(0, 64)},       {64, make_md(4, 64)},      {64, make_md(0, 0)},         {64, make_md(0, 63)},
      {64, make_md(4, 8)},        {64, make_md(4, 4)},       {64, make_md(0, 65)},        {64, make_md(4, 0)},
      {64, make_md(8, 4)},        {64, make_md(0, 0, 4)},    {64, make_md(3, 64)},        {300, make_md(216, 300)},
      {300, make_md(212, 300)},   {300, make_md(220, 300)},  {300, make_md(252, 300)},    {300, make_md(256, 300)},
      {16, make_md(4, 16)},       {18, make_md(4, 18)},      {14, make_md(0, 14)},        {64, make_md(0, 64, 0, 1)},
      {64, make_md(0, 0, 0, 1)},  {64, make_md(0, 64, 0, 0, 0, 1)},                  {64, make_md(0, 0, 0, 0, 0, 1)},
      {3800, make_md(0, 3800)},   {3800, make_md(216, 3800)},
  };
  auto insns = vm::assemble(kProgram);
  REQUIRE(insns.has_value());
  auto fd = testing::load_program(BPF_PROG_TYPE_XDP, *insns);
  INFO((fd ? std::string() : fd.error().message()));
  REQUIRE(fd.has_value());
  Vm vm;
  auto type = ProgramType::kernel(BPF_PROG_TYPE_XDP);
  REQUIRE(type.has_value());
  std::size_t refused = 0, ran = 0, frags = 0;
  for (const Case& c : cases) {
    std::vector<std::uint8_t> packet(c.data_size_in);
    for (std::size_t i = 0; i < packet.size(); ++i) packet[i] = static_cast<std::uint8_t>(i * 7 + 1);
    std::vector<std::uint8_t> ctx(sizeof(xdp_md));
    std::memcpy(ctx.data(), &c.md, sizeof c.md);
    INFO("data_size_in " << c.data_size_in << " data " << c.md.data << " data_end " << c.md.data_end << " data_meta "
                         << c.md.data_meta << " egress " << c.md.egress_ifindex << " rx_queue " << c.md.rx_queue_index);
    auto kernel = testing::test_run(*fd, packet, 1, ctx);
    INFO("kernel: " << (kernel ? "ran, retval " + std::to_string(kernel->retval) : kernel.error().message()));
    for (const Engine engine : {Engine::Interpreter, Engine::Jit}) {
      auto object = vm.open_assembly(kProgram, *type, "xdp_ctx");
      REQUIRE(object.has_value());
      auto program = object->load("xdp_ctx", {.engine = engine});
      INFO((program ? std::string() : program.error().message()));
      REQUIRE(program.has_value());
      auto out = program->run(RunInput{.data = packet, .ctx = ctx});
      INFO("bpfvm: " << (out ? "ran, retval " + std::to_string(out->retval) : out.error().message()));
      if (!kernel) {
        // Both refuse, with the kernel's errno ("bpf(...): ... (EINVAL)" there, "EINVAL: ..." here).
        REQUIRE(!out);
        CHECK(kernel.error().message().find("(EINVAL)") != std::string::npos);
        CHECK(out.error().message().rfind("EINVAL:", 0) == 0);
        ++refused;
      } else if (c.md.data_end < c.data_size_in || c.data_size_in > kMaxLinearBytes + c.md.data) {
        // The kernel keeps data_in past data_end in frags: bpfvm has no multi-buffer XDP yet.
        REQUIRE(!out);
        CHECK(out.error().code == Errc::Unsupported);
        CHECK(out.error().message().find("multi-buffer XDP (not supported yet)") != std::string::npos);
        ++frags;
      } else {
        REQUIRE(out.has_value());
        CHECK(out->retval == kernel->retval);
        CHECK(out->data_out == kernel->data_out);
        ++ran;
      }
    }
  }
  std::cout << "XDP ctx_in: " << refused << " refusals, " << ran << " runs equal to the kernel's, " << frags
            << " multi-buffer runs reported not supported\n";
}
