// Programs on the interpreter: ctx rewrite, XDP adjust helpers, __sk_buff helpers, test_run results.
#include <catch2/catch.hpp>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <cerrno>
#include <cstring>
#include <numeric>

#include "helper_call.hpp"
#include "helpers/contexts.hpp"
#include "helpers/test_run.hpp"
#include "maps/perf_event_array_map.hpp"
#include "vm/assembler.hpp"
#include "vm/interpreter.hpp"

using namespace bpfvm;

namespace {

vm::Program program_of(std::string_view text, helpers::ProgType type) {
  auto insns = vm::assemble(text);
  INFO(text);
  REQUIRE(insns.has_value());
  auto p = vm::decode_program(std::move(*insns), "test");
  REQUIRE(p.has_value());
  auto rewritten = helpers::rewrite_ctx_access(*p, type);
  if (!rewritten) FAIL(rewritten.error().message());
  return std::move(*rewritten);
}

struct Bench {
  vm::HelperRegistry registry;
  helpers::HelperRuntime runtime;
  std::vector<std::string> trace;
  Bench() {
    runtime.trace_sink = [this](std::string_view m) { trace.emplace_back(m); };
    helpers::register_kernel_helpers(registry, runtime);
  }
  helpers::TestRunResult run(std::string_view text, helpers::TestRunOptions o) {
    auto in = vm::Interpreter::create(program_of(text, o.type), registry);
    REQUIRE(in.has_value());
    auto r = helpers::test_run(*in, o);
    if (!r) FAIL(r.error().message());
    return std::move(*r);
  }
};

std::vector<std::uint8_t> packet(std::size_t n) {
  std::vector<std::uint8_t> p(n);
  std::iota(p.begin(), p.end(), std::uint8_t{0});
  if (n >= 14) {
    p[12] = 0x08;  // EtherType IPv4
    p[13] = 0x00;
  }
  return p;
}

const char* kXdpLen = R"(
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r0, %r3
sub %r0, %r2
exit
)";

}  // namespace

TEST_CASE("XDP: data/data_end loads are rewritten to real pointers") {
  Bench b;
  for (bool checked : {false, true}) {
    auto r = b.run(kXdpLen, {.type = helpers::ProgType::Xdp, .data_in = packet(60), .repeat = 3, .checked = checked});
    CHECK(r.retval == 60);
    CHECK(r.data_out == packet(60));
    REQUIRE(r.ctx_out.size() == sizeof(xdp_md));
    xdp_md md;
    std::memcpy(&md, r.ctx_out.data(), sizeof md);
    CHECK(md.data == 0);
    CHECK(md.data_end == 60);
    CHECK(md.ingress_ifindex == 1);
  }
}

TEST_CASE("XDP: repeated runs share one frame, as the kernel's test run does") {
  // Each run increments byte 2 and then drops two bytes from the front, so run k works on what run
  // k-1 left: after three runs the packet starts at original byte 6, which was incremented once.
  Bench b;
  for (bool checked : {false, true}) {
    auto r = b.run(R"(
mov %r6, %r1
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 3
jgt %r4, %r3, shrink
ldxb %r5, [%r2+2]
add %r5, 1
stxb [%r2+2], %r5
shrink:
mov %r1, %r6
mov %r2, 2
call 44
mov %r0, 2
exit
)",
                   {.type = helpers::ProgType::Xdp, .data_in = packet(60), .repeat = 3, .checked = checked});
    auto expected = packet(60);
    expected.erase(expected.begin(), expected.begin() + 6);
    expected[0] += 1;
    CHECK(r.retval == 2);
    CHECK(r.data_out == expected);
  }
}

TEST_CASE("XDP: direct packet access reads the frame") {
  Bench b;
  // Return byte 13 when at least 14 bytes are present (the verifier-style bounds check).
  auto r = b.run(R"(
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
mov %r0, 0
jgt %r4, %r3, exit
ldxb %r0, [%r2+12]
exit
)", {.type = helpers::ProgType::Xdp, .data_in = packet(20), .checked = true});
  CHECK(r.retval == 0x08);
}

TEST_CASE("XDP: bpf_xdp_adjust_head/tail/meta move the frame within kernel bounds") {
  Bench b;
  const char* adjust = R"(
mov %r6, %r1
mov %r2, {delta}
call {id}
exit
)";
  auto run_adjust = [&](int id, int delta, std::size_t size = 60) {
    std::string text = adjust;
    text.replace(text.find("{delta}"), 7, std::to_string(delta));
    text.replace(text.find("{id}"), 4, std::to_string(id));
    return b.run(text, {.type = helpers::ProgType::Xdp, .data_in = packet(size), .checked = true});
  };
  auto head = run_adjust(BPF_FUNC_xdp_adjust_head, 14);
  CHECK(head.r0 == 0);
  const auto full = packet(60);
  CHECK(head.data_out == std::vector<std::uint8_t>(full.begin() + 14, full.end()));
  auto grow = run_adjust(BPF_FUNC_xdp_adjust_head, -16);
  CHECK(grow.r0 == 0);
  CHECK(grow.data_out.size() == 76);
  CHECK(static_cast<std::int64_t>(run_adjust(BPF_FUNC_xdp_adjust_head, -300).r0) == -EINVAL);  // past headroom
  CHECK(static_cast<std::int64_t>(run_adjust(BPF_FUNC_xdp_adjust_head, -217).r0) == -EINVAL);  // into xdp_frame
  CHECK(run_adjust(BPF_FUNC_xdp_adjust_head, -216).r0 == 0);
  CHECK(static_cast<std::int64_t>(run_adjust(BPF_FUNC_xdp_adjust_head, 47).r0) == -EINVAL);  // < ETH_HLEN left
  CHECK(run_adjust(BPF_FUNC_xdp_adjust_head, 46).r0 == 0);

  auto tail = run_adjust(BPF_FUNC_xdp_adjust_tail, 8);
  CHECK(tail.r0 == 0);
  REQUIRE(tail.data_out.size() == 68);
  CHECK(std::all_of(tail.data_out.begin() + 60, tail.data_out.end(), [](std::uint8_t x) { return x == 0; }));
  CHECK(run_adjust(BPF_FUNC_xdp_adjust_tail, -46).r0 == 0);
  CHECK(static_cast<std::int64_t>(run_adjust(BPF_FUNC_xdp_adjust_tail, -47).r0) == -EINVAL);
  CHECK(run_adjust(BPF_FUNC_xdp_adjust_tail, 4096 - 256 - 320 - 60).r0 == 0);
  CHECK(static_cast<std::int64_t>(run_adjust(BPF_FUNC_xdp_adjust_tail, 4096 - 256 - 320 - 60 + 1).r0) == -EINVAL);

  auto meta = run_adjust(BPF_FUNC_xdp_adjust_meta, -8);
  CHECK(meta.r0 == 0);
  CHECK(meta.data_out.size() == 68);
  xdp_md md;
  std::memcpy(&md, meta.ctx_out.data(), sizeof md);
  CHECK(md.data == 8);
  CHECK(md.data_end == 68);
  CHECK(static_cast<std::int64_t>(run_adjust(BPF_FUNC_xdp_adjust_meta, -6).r0) == -EACCES);
  CHECK(run_adjust(BPF_FUNC_xdp_adjust_meta, -216).r0 == 0);  // metadata up to the xdp_frame
  CHECK(static_cast<std::int64_t>(run_adjust(BPF_FUNC_xdp_adjust_meta, -220).r0) == -EINVAL);
  CHECK(static_cast<std::int64_t>(run_adjust(BPF_FUNC_xdp_adjust_meta, 4).r0) == -EINVAL);
}

TEST_CASE("XDP: the headroom and a grown tail read as zero, never as an earlier run's bytes") {
  // test_run's frame is reused host stack and clears only the headroom (issue #19): a run that fills
  // the headroom and the whole tailroom must leave nothing the next run can read there.
  Bench b;
  const std::string grow = R"(
mov %r6, %r1
mov %r2, -216
call )" + std::to_string(BPF_FUNC_xdp_adjust_head) + R"(
mov %r1, %r6
mov %r2, )" + std::to_string(4096 - 256 - 320 - 60) + R"(
call )" + std::to_string(BPF_FUNC_xdp_adjust_tail) + R"(
ldxw %r2, [%r6+0]
ldxw %r3, [%r6+4]
)";
  const std::string fill = grow + R"(
lddw %r4, 0xaaaaaaaaaaaaaaaa
stxdw [%r2+0], %r4
stxdw [%r2+200], %r4
stxdw [%r3-8], %r4
stxdw [%r3-1000], %r4
mov %r0, 0
exit
)";
  const std::string read = grow + R"(
ldxdw %r0, [%r2+0]
ldxdw %r4, [%r2+200]
or %r0, %r4
ldxdw %r4, [%r3-8]
or %r0, %r4
ldxdw %r4, [%r3-1000]
or %r0, %r4
exit
)";
  const auto frame = packet(60);  // outlives the options' span
  const helpers::TestRunOptions o{.type = helpers::ProgType::Xdp, .data_in = frame, .checked = true};
  CHECK(b.run(fill, o).r0 == 0);
  const auto after = b.run(read, o);
  CHECK(after.r0 == 0);
  REQUIRE(after.data_out.size() == 4096 - 40 - 320);
  CHECK(std::all_of(after.data_out.begin(), after.data_out.begin() + 216, [](std::uint8_t x) { return x == 0; }));
  CHECK(std::all_of(after.data_out.begin() + 216 + 60, after.data_out.end(), [](std::uint8_t x) { return x == 0; }));
}

TEST_CASE("XDP test_run input checks follow the kernel") {
  Bench b;
  auto in = vm::Interpreter::create(program_of(kXdpLen, helpers::ProgType::Xdp), b.registry);
  REQUIRE(in.has_value());
  auto small = helpers::test_run(*in, {.type = helpers::ProgType::Xdp, .data_in = packet(13)});
  REQUIRE_FALSE(small.has_value());
  CHECK(small.error().reason.rfind("EINVAL", 0) == 0);
  xdp_md md{};
  md.data = 4;
  md.data_end = 60;
  std::vector<std::uint8_t> ctx(sizeof md);
  std::memcpy(ctx.data(), &md, sizeof md);
  auto with_meta = helpers::test_run(*in, {.type = helpers::ProgType::Xdp, .data_in = packet(60), .ctx_in = ctx});
  REQUIRE(with_meta.has_value());
  CHECK(with_meta->retval == 56);  // data starts after 4 bytes of metadata
  CHECK(with_meta->data_out == packet(60));
  auto cut = helpers::test_run(*in, {.type = helpers::ProgType::Xdp, .data_in = packet(60), .data_size_out = 10});
  REQUIRE(cut.has_value());
  CHECK(cut->err == -ENOSPC);
  CHECK(cut->data_out.size() == 10);
  CHECK(cut->data_size_out == 60);
}

TEST_CASE("ctx rewrite refuses what it cannot prove") {
  auto p = vm::decode_program(*vm::assemble("ldxw %r0, [%r1+76]\nexit\n"), "t");
  REQUIRE(p.has_value());
  auto sf = helpers::rewrite_ctx_access(*p, helpers::ProgType::SocketFilter);
  REQUIRE_FALSE(sf.has_value());
  CHECK(sf.error().code == Errc::Rejected);
  auto narrow = vm::decode_program(*vm::assemble("ldxh %r0, [%r1+0]\nexit\n"), "t");
  CHECK(helpers::rewrite_ctx_access(*narrow, helpers::ProgType::Xdp).error().code == Errc::Rejected);
  auto mixed = vm::decode_program(*vm::assemble("jeq %r2, 0, +1\nmov %r1, %r10\nldxw %r0, [%r1-8]\nexit\n"), "t");
  CHECK(helpers::rewrite_ctx_access(*mixed, helpers::ProgType::Xdp).error().code == Errc::Unsupported);
  // A spilled and reloaded context is still recognised.
  auto spill = vm::decode_program(
      *vm::assemble("stxdw [%r10-8], %r1\nmov %r1, 0\nldxdw %r2, [%r10-8]\nldxw %r0, [%r2+4]\nexit\n"), "t");
  auto rw = helpers::rewrite_ctx_access(*spill, helpers::ProgType::Xdp);
  REQUIRE(rw.has_value());
  CHECK(rw->insns[3].off == static_cast<std::int16_t>(offsetof(helpers::XdpCtx, data_end)));
  // Kprobe contexts are read in place.
  CHECK(helpers::rewrite_ctx_access(*narrow, helpers::ProgType::Kprobe)->insns == narrow->insns);
}

TEST_CASE("tc: skb_load_bytes, store_bytes, l3_csum_replace and redirect") {
  Bench b;
  // r0 = the EtherType read through bpf_skb_load_bytes.
  auto load = b.run(R"(
mov %r2, 12
mov %r3, %r10
add %r3, -8
mov %r4, 2
call 26
jne %r0, 0, exit
ldxh %r0, [%r10-8]
exit
)", {.type = helpers::ProgType::SchedCls, .data_in = packet(60), .checked = true});
  CHECK(load.retval == 0x0008);
  auto oob = b.run("mov %r2, 59\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 2\ncall 26\nexit\n",
                   {.type = helpers::ProgType::SchedCls, .data_in = packet(60), .checked = true});
  CHECK(static_cast<std::int64_t>(oob.r0) == -EFAULT);
  auto store = b.run(R"(
mov %r6, 0xabcd
stxh [%r10-8], %r6
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 2
mov %r5, 0
call 9
exit
)", {.type = helpers::ProgType::SchedCls, .data_in = packet(60), .checked = true});
  CHECK(store.r0 == 0);
  CHECK(store.data_out[0] == 0xcd);
  CHECK(store.data_out[1] == 0xab);
  auto redirect = b.run("mov %r1, 7\nmov %r2, 0\ncall 23\nexit\n", {.type = helpers::ProgType::SchedCls, .data_in = packet(60)});
  CHECK(redirect.retval == TC_ACT_REDIRECT);
  CHECK(redirect.redirect.set);
  CHECK(redirect.redirect.ifindex == 7);
  auto bad_flags = b.run("mov %r1, 7\nmov %r2, 2\ncall 23\nexit\n", {.type = helpers::ProgType::SchedCls, .data_in = packet(60)});
  CHECK(bad_flags.retval == static_cast<std::uint32_t>(TC_ACT_SHOT));
  auto xdp_redirect = b.run("mov %r1, 3\nmov %r2, 0\ncall 23\nexit\n", {.type = helpers::ProgType::Xdp, .data_in = packet(60)});
  CHECK(xdp_redirect.retval == XDP_REDIRECT);
}

TEST_CASE("bpf_l3_csum_replace keeps an IPv4 header checksum valid") {
  HelperCall h;
  // Ethernet (14) + IPv4 header with a correct checksum 0xb861 at IP offset 10.
  std::vector<std::uint8_t> frame(14, 0);
  const std::uint8_t ip[20] = {0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7};
  frame.insert(frame.end(), ip, ip + 20);
  helpers::SkbCtx skb{};
  skb.data = addr(frame.data());
  skb.data_end = skb.data + frame.size();
  h.state.skb = &skb;
  // TTL 0x40 -> 0x3f: the 16-bit word at IP offset 8 changes from 40 11 to 3f 11.
  std::uint16_t from, to;
  std::memcpy(&from, frame.data() + 22, 2);
  frame[22] = 0x3f;
  std::memcpy(&to, frame.data() + 22, 2);
  CHECK(h(BPF_FUNC_l3_csum_replace, addr(&skb), 24, from, to, 2) == 0);
  // Verify: the ones'-complement sum over the header is 0xffff.
  std::uint32_t sum = 0;
  for (int i = 14; i < 34; i += 2) sum += (frame[i] << 8) | frame[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  CHECK(sum == 0xffff);
  CHECK(frame[24] == 0xb9);
  CHECK(frame[25] == 0x61);
  // The same through a 4-byte replace and the by-diff form.
  std::uint32_t from4, to4;
  std::memcpy(&from4, frame.data() + 26, 4);
  frame[26] = 10;
  std::memcpy(&to4, frame.data() + 26, 4);
  CHECK(h(BPF_FUNC_l3_csum_replace, addr(&skb), 24, from4, to4, 4) == 0);
  sum = 0;
  for (int i = 14; i < 34; i += 2) sum += (frame[i] << 8) | frame[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  CHECK(sum == 0xffff);
  CHECK(h(BPF_FUNC_l3_csum_replace, addr(&skb), 25, 0, 0, 2) == -EFAULT);  // odd offset
  CHECK(h(BPF_FUNC_l3_csum_replace, addr(&skb), 24, 0, 0, 3) == -EINVAL);
  CHECK(h(BPF_FUNC_l3_csum_replace, addr(&skb), 24, 1, 0, 0) == -EINVAL);
  CHECK(h(BPF_FUNC_l4_csum_replace, addr(&skb), 24, 0, 0, 1 << 9) == -EINVAL);
}

TEST_CASE("socket filter: __sk_buff.len counts from the network header") {
  Bench b;
  auto r = b.run("ldxw %r0, [%r1+0]\nexit\n", {.type = helpers::ProgType::SocketFilter, .data_in = packet(60)});
  CHECK(r.retval == 46);
  // The kernel hands an L3 program's packet back with the Ethernet header zeroed (net/bpf/test_run.c;
  // checked against 6.18 by tests/runtime).
  auto expected = packet(60);
  std::fill(expected.begin(), expected.begin() + 14, std::uint8_t{0});
  CHECK(r.data_out == expected);
  auto proto = b.run("ldxw %r0, [%r1+16]\nexit\n", {.type = helpers::ProgType::SocketFilter, .data_in = packet(60)});
  CHECK(proto.retval == 0x0008);
  // ctx_in: mark and cb are accepted and copied back; other fields are refused.
  __sk_buff md{};
  md.mark = 5;
  md.cb[0] = 9;
  std::vector<std::uint8_t> ctx(sizeof md);
  std::memcpy(ctx.data(), &md, sizeof md);
  auto mark = b.run("ldxw %r2, [%r1+8]\nldxw %r0, [%r1+48]\nadd %r0, %r2\nstxw [%r1+8], %r0\nexit\n",
                    {.type = helpers::ProgType::SchedCls, .data_in = packet(60), .ctx_in = ctx, .checked = true});
  CHECK(mark.retval == 14);
  __sk_buff out;
  std::memcpy(&out, mark.ctx_out.data(), sizeof out);
  CHECK(out.mark == 14);
  md.len = 3;
  std::memcpy(ctx.data(), &md, sizeof md);
  auto in = vm::Interpreter::create(program_of("mov %r0, 0\nexit\n", helpers::ProgType::SchedCls), b.registry);
  REQUIRE(in.has_value());
  auto refused = helpers::test_run(*in, {.type = helpers::ProgType::SchedCls, .data_in = packet(60), .ctx_in = ctx});
  CHECK_FALSE(refused.has_value());
}

TEST_CASE("LD_ABS/LD_IND: big-endian reads of the skb, SKF_NET_OFF/SKF_LL_OFF, 0 outside") {
  Bench b;
  const auto sock = helpers::ProgType::SocketFilter, tc = helpers::ProgType::SchedCls;
  auto ret = [&](const std::string& body, helpers::ProgType type, bool checked) {
    return b.run("mov %r6, %r1\n" + body + "exit\n", {.type = type, .data_in = packet(60), .checked = checked}).retval;
  };
  for (bool checked : {false, true}) {
    INFO("checked " << checked);
    // A socket filter's offsets count from the network header (byte 14 of the frame), tc's from the MAC.
    CHECK(ret("ldabsw 0\n", sock, checked) == 0x0e0f1011);
    CHECK(ret("ldabsh 2\n", sock, checked) == 0x1011);
    CHECK(ret("ldabsb 45\n", sock, checked) == 59);
    CHECK(ret("ldabsw 0\n", tc, checked) == 0x00010203);
    CHECK(ret("mov %r2, 10\nldindh %r2, 2\n", tc, checked) == 0x0800);
    // Negative offsets name the headers (bpf_internal_load_pointer_neg_helper).
    CHECK(ret("ldabsb -1048576\n", sock, checked) == 14);         // SKF_NET_OFF + 0
    CHECK(ret("ldabsh -2097140\n", sock, checked) == 0x0800);     // SKF_LL_OFF + 12: the EtherType
    CHECK(ret("ldabsb -1048576\n", tc, checked) == 14);
    // Outside the packet: the program ends with 0.
    CHECK(ret("ldabsw 43\nmov %r0, 1\n", sock, checked) == 0);
    CHECK(ret("ldabsb 46\nmov %r0, 1\n", sock, checked) == 0);
    CHECK(ret("ldabsb 59\nmov %r0, 1\n", tc, checked) == 1);
    CHECK(ret("ldabsb -1\nmov %r0, 1\n", tc, checked) == 0);
    CHECK(ret("ldabsb -2097153\nmov %r0, 1\n", tc, checked) == 0);  // below SKF_LL_OFF
    CHECK(ret("ldabsh -1048531\nmov %r0, 1\n", sock, checked) == 0);  // SKF_NET_OFF + 45: one byte short
  }
  // r6 must be the run's context.
  auto in = vm::Interpreter::create(program_of("mov %r6, %r10\nldabsb 0\nexit\n", sock), b.registry);
  REQUIRE(in.has_value());
  auto fault = helpers::test_run(*in, {.type = sock, .data_in = packet(60)});
  REQUIRE_FALSE(fault.has_value());
  CHECK(fault.error().message() == "insn 1: ld_abs/ld_ind: r6 is not the program's context");
}

TEST_CASE("trace_printk from a checked program reads its format off the stack") {
  Bench b;
  // "hi %d\n\0\0" little-endian.
  auto in = vm::Interpreter::create(program_of(R"(
lddw %r1, 0x00000a6425206968
stxdw [%r10-8], %r1
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 42
call 6
exit
)", helpers::ProgType::Kprobe), b.registry);
  REQUIRE(in.has_value());
  helpers::HelperRun hr;
  vm::RunContext ctx;
  ctx.host = &hr;
  helpers::PtRegsX86 regs{};
  const std::uint64_t args[] = {addr(&regs)};
  auto r = in->run(ctx, args, {.checked = true});
  REQUIRE(r.has_value());
  CHECK(r->r0 == 6);
  REQUIRE(b.trace.size() == 1);
  CHECK(b.trace[0] == "hi 42\n");
}

// net/core/filter.c bpf_xdp_event_output / bpf_skb_event_output: flags = index | len << 32 appends the
// first len packet bytes after the program's data; len past the packet is -EFAULT, other flag bits
// -EINVAL, both before the slot is looked at. (The errnos are checked against the kernel in
// tests/runtime's perf_sample program; the record content here, since the kernel's needs a perf ring.)
TEST_CASE("bpf_perf_event_output with BPF_F_CTXLEN_MASK appends the packet's first bytes (XDP and skb)") {
  Bench b;
  auto made = maps::create_map(
      maps::MapSpec{.type = maps::MapType::PerfEventArray, .key_size = 4, .value_size = 4, .max_entries = 2});
  REQUIRE(made.has_value());
  auto* pe = static_cast<maps::PerfEventArrayMap*>(made->get());
  std::vector<std::vector<std::uint8_t>> records;
  pe->set_output([&](int, std::span<const std::uint8_t> d) { records.emplace_back(d.begin(), d.end()); });
  const std::uint32_t key = 1, fd = 9;
  REQUIRE(pe->host_update(&key, &fd, 0) == 0);
  // r0 = bpf_perf_event_output(ctx, map, flags, fp-8 = 0xaabb, 2)
  auto prog = [&](std::uint64_t flags) {
    char text[512];
    std::snprintf(text, sizeof text,
                  "mov %%r6, 0xaabb\nstxh [%%r10-8], %%r6\nlddw %%r2, 0x%llx\nlddw %%r3, 0x%llx\n"
                  "mov %%r4, %%r10\nadd %%r4, -8\nmov %%r5, 2\ncall 25\nexit\n",
                  static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(pe)),
                  static_cast<unsigned long long>(flags));
    return std::string(text);
  };
  const auto pkt = packet(60);
  for (auto type : {helpers::ProgType::Xdp, helpers::ProgType::SchedCls}) {
    records.clear();
    INFO("type " << static_cast<int>(type));
    CHECK(b.run(prog(1 | (std::uint64_t{20} << 32)), {.type = type, .data_in = pkt}).r0 == 0);
    REQUIRE(records.size() == 1);
    std::vector<std::uint8_t> want(22);
    want[0] = 0xbb;
    want[1] = 0xaa;
    std::copy_n(pkt.begin(), 20, want.begin() + 2);
    CHECK(records[0] == want);
    CHECK(b.run(prog(1 | (std::uint64_t{60} << 32)), {.type = type, .data_in = pkt}).r0 == 0);  // the whole packet
    REQUIRE(records.size() == 2);
    CHECK(records[1].size() == 62);
    CHECK(static_cast<std::int64_t>(b.run(prog(1 | (std::uint64_t{61} << 32)), {.type = type, .data_in = pkt}).r0) == -EFAULT);
    CHECK(static_cast<std::int64_t>(b.run(prog(0 | (std::uint64_t{20} << 32)), {.type = type, .data_in = pkt}).r0) == -ENOENT);
    CHECK(static_cast<std::int64_t>(b.run(prog(1 | (std::uint64_t{1} << 52) | (std::uint64_t{99} << 32)), {.type = type, .data_in = pkt}).r0) == -EINVAL);
    CHECK(records.size() == 2);
  }
  // A socket filter's skb starts at the network header: the bytes appended start there too.
  records.clear();
  CHECK(b.run(prog(1 | (std::uint64_t{4} << 32)), {.type = helpers::ProgType::SocketFilter, .data_in = pkt}).r0 == 0);
  REQUIRE(records.size() == 1);
  CHECK(records[0] == std::vector<std::uint8_t>{0xbb, 0xaa, 14, 15, 16, 17});
  CHECK(static_cast<std::int64_t>(b.run(prog(1 | (std::uint64_t{47} << 32)), {.type = helpers::ProgType::SocketFilter, .data_in = pkt}).r0) == -EFAULT);
}
