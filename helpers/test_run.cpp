// BPF_PROG_TEST_RUN for XDP and __sk_buff programs, bpfvm's own run of sk_skb and sk_msg: frame setup,
// kernel input checks, output.
#include "helpers/test_run.hpp"

#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "helpers/xdp_buffer.hpp"
#include "vm/run_timer.hpp"

namespace bpfvm::helpers {
namespace {

using detail::kXdpFrameBytes;
using detail::kXdpFrameSize;
using detail::kXdpHeadroom;
using detail::kXdpSharedInfoBytes;

constexpr std::size_t kEthHlen = 14;
constexpr std::size_t kSkbHeadroom = 64 + 2;  // NET_SKB_PAD + NET_IP_ALIGN
constexpr std::size_t kPageBytes = 4096;

Error einval(std::string why) { return make_error(Errc::InvalidArgument, "EINVAL: " + std::move(why)); }

bool all_zero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

// bpf_ctx_init: a ctx_in longer than the struct must be zero past it (-E2BIG otherwise).
Result<void> ctx_tail_zero(std::span<const std::uint8_t> ctx_in, std::size_t struct_size) {
  if (ctx_in.size() > struct_size && !all_zero(ctx_in.subspan(struct_size)))
    return make_error(Errc::InvalidArgument, "E2BIG: ctx_in has non-zero bytes past the context struct");
  return {};
}

template <class T>
T ctx_from(std::span<const std::uint8_t> ctx_in) {
  T t{};
  if (!ctx_in.empty()) std::memcpy(&t, ctx_in.data(), std::min(ctx_in.size(), sizeof t));  // no ctx_in: data() may be null
  return t;
}

// bpf_test_run: the program runs `repeat` times on the same context and packet, as the kernel's loop
// does (a program that rewrites or resizes the packet sees its previous run's result); setup is not
// timed. retval is the last run's; the redirect record is whatever a run recorded last (the kernel's
// per-CPU bpf_redirect_info is not cleared between runs either).
Result<void> run_repeated(const ProgramRunner& runner, vm::RunContext& ctx, std::uintptr_t ctx_arg,
                          std::uint32_t repeat, bool measure_time, TestRunResult& out) {
  const std::uint64_t args[] = {ctx_arg};
  // Two clock reads cost about as much as a whole untimed call (issue #19): only when asked.
  std::optional<vm::RunTimer> timer;
  if (measure_time) timer.emplace();
  auto r = runner(ctx, args, repeat);
  // CPU interval inside the wall one
  const std::uint64_t cpu_ns = timer ? timer->cpu_ns() : 0, wall_ns = timer ? timer->wall_ns() : 0;
  if (!r) return std::move(r).error();
  out.r0 = r->r0;
  const auto per_run = [repeat](std::uint64_t ns) {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(ns / repeat, std::numeric_limits<std::uint32_t>::max()));
  };
  out.duration_ns = per_run(wall_ns);
  out.cpu_duration_ns = per_run(cpu_ns);
  out.retval = static_cast<std::uint32_t>(out.r0);
  return {};
}

void finish_data(TestRunResult& out, const TestRunOptions& o, const std::uint8_t* begin, std::size_t size) {
  out.data_size_out = static_cast<std::uint32_t>(size);
  out.err = 0;
  std::size_t n = size;
  if (o.data_size_out && *o.data_size_out < size) {
    n = *o.data_size_out;
    out.err = -ENOSPC;
  }
  out.data_out.assign(begin, begin + n);
}

Result<void> run_xdp(const ProgramRunner& runner, const TestRunOptions& o, std::uint32_t repeat, TestRunResult& out,
                     vm::RunContext& ctx) {
  // bpf_prog_test_run_xdp: a program that runs on frames a devmap or cpumap hands on (its egress
  // device or target CPU set by the map) has no test run.
  if (o.expected_attach_type == BPF_XDP_DEVMAP || o.expected_attach_type == BPF_XDP_CPUMAP)
    return einval("XDP programs for a devmap or cpumap (expected attach type " + std::to_string(o.expected_attach_type) +
                  ") have no test run");
  // xdp_md in (bpf_prog_test_run_xdp, 6.18): data_meta and egress_ifindex 0, data_end at most the
  // data_in size, data (the metadata length at the start of data_in) at most data_end, a multiple of
  // 4, at most 255 and leaving an xdp_frame's room in the headroom; then at least an Ethernet header
  // after the metadata. data_end is the linear part's end: what lies past it the kernel puts in frags.
  std::uint32_t metalen = 0;
  xdp_md md_in{};
  if (!o.ctx_in.empty()) {
    if (auto r = ctx_tail_zero(o.ctx_in, sizeof(xdp_md)); !r) return std::move(r).error();
    md_in = ctx_from<xdp_md>(o.ctx_in);
    if (md_in.data_meta || md_in.egress_ifindex) return einval("xdp_md.data_meta and egress_ifindex must be 0");
    if (md_in.data_end > o.data_in.size() || md_in.data > md_in.data_end)
      return einval("xdp_md.data_end must not exceed the data_in size, nor data data_end");
    if ((md_in.data & 3) || md_in.data > 255 || md_in.data > kXdpHeadroom - kXdpFrameBytes)
      return einval("xdp_md.data (metadata length) must be a multiple of 4 and at most " +
                    std::to_string(kXdpHeadroom - kXdpFrameBytes));
    // xdp_convert_md_to_buff: a receive queue needs a device.
    if (!md_in.ingress_ifindex && md_in.rx_queue_index) return einval("xdp_md.rx_queue_index needs an ingress_ifindex");
    metalen = md_in.data;
  }
  if (o.data_in.size() - metalen < kEthHlen) return einval("XDP needs at least 14 bytes of data_in after the metadata");
  // The metadata comes out of the headroom, so the linear part may hold that much more.
  const std::size_t max_data = kXdpFrameSize - (kXdpHeadroom - metalen) - kXdpSharedInfoBytes;
  if (o.data_in.size() > max_data)
    return make_error(Errc::Unsupported, "data_in above " + std::to_string(max_data) +
                                             " bytes needs multi-buffer XDP (not supported yet)");
  if (!o.ctx_in.empty() && md_in.data_end < o.data_in.size())
    return make_error(Errc::Unsupported, "xdp_md.data_end " + std::to_string(md_in.data_end) + " below the data_in size " +
                                             std::to_string(o.data_in.size()) +
                                             " puts the rest in frags: multi-buffer XDP (not supported yet)");

  // The kernel's frame is kzalloc'ed; ours lives on the stack for the test run (no allocation), and
  // only the bytes a program can see are cleared: the headroom, which bpf_xdp_adjust_head/_meta move
  // data and metadata into. Past data_end the frame keeps whatever the host stack held: the only
  // way there is bpf_xdp_adjust_tail, which zeroes what it grows (as the kernel's does), and
  // data_out ends at data_end. Clearing all 4 KiB cost more than the rest of a test run (#19).
  alignas(8) std::uint8_t frame[kXdpFrameSize];
  std::memset(frame, 0, kXdpHeadroom - metalen);
  std::memcpy(frame + kXdpHeadroom - metalen, o.data_in.data(), o.data_in.size());
  XdpCtx x{};
  x.hard_start = reinterpret_cast<std::uintptr_t>(frame);
  x.frame_sz = static_cast<std::uint32_t>(kXdpFrameSize);
  x.data_meta = x.hard_start + kXdpHeadroom - metalen;
  x.data = x.hard_start + kXdpHeadroom;
  x.data_end = x.data_meta + o.data_in.size();
  x.md.ingress_ifindex = md_in.ingress_ifindex ? md_in.ingress_ifindex : 1;  // loopback
  x.md.rx_queue_index = md_in.rx_queue_index;
  HelperRun hr;
  hr.cpu = o.cpu;
  hr.xdp = &x;
  ctx.host = &hr;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(&x), offsetof(XdpCtx, hard_start), false, "ctx"});
  ctx.regions.push_back(vm::Region{0, 0, true, "packet"});
  hr.packet_region = 1;
  detail::sync_xdp(&ctx, x);
  if (o.setup) o.setup(hr, ctx);
  if (auto r = run_repeated(runner, ctx, reinterpret_cast<std::uintptr_t>(&x), repeat, o.measure_time, out); !r)
    return std::move(r).error();
  out.redirect = hr.redirect;
  finish_data(out, o, reinterpret_cast<const std::uint8_t*>(x.data_meta), x.data_end - x.data_meta);
  xdp_md md_out = x.md;
  md_out.data = static_cast<std::uint32_t>(x.data - x.data_meta);
  md_out.data_end = static_cast<std::uint32_t>(x.data_end - x.data_meta);
  md_out.data_meta = 0;
  out.ctx_out.resize(sizeof md_out);
  std::memcpy(out.ctx_out.data(), &md_out, sizeof md_out);
  return {};
}

// The __sk_buff fields BPF_PROG_TEST_RUN lets ctx_in set and copies back (convert___skb_to_skb).
struct SkbField {
  std::size_t off, size;
};
constexpr SkbField kSkbInOut[] = {
    {offsetof(__sk_buff, mark), sizeof(__u32)},
    {offsetof(__sk_buff, priority), sizeof(__u32)},
    {offsetof(__sk_buff, ingress_ifindex), sizeof(__u32)},
    {offsetof(__sk_buff, ifindex), sizeof(__u32)},
    {offsetof(__sk_buff, cb), sizeof(__sk_buff::cb)},
    {offsetof(__sk_buff, tstamp), sizeof(__u64)},
    {offsetof(__sk_buff, wire_len), sizeof(__u32)},
    {offsetof(__sk_buff, gso_segs), sizeof(__u32)},
    {offsetof(__sk_buff, gso_size), sizeof(__u32)},
    {offsetof(__sk_buff, hwtstamp), sizeof(__u64)},
};

bool in_allowed_field(std::size_t byte) {
  return std::any_of(std::begin(kSkbInOut), std::end(kSkbInOut),
                     [&](const SkbField& f) { return byte >= f.off && byte < f.off + f.size; });
}

std::uint32_t pkt_type_of(const std::uint8_t* eth) {
  static constexpr std::uint8_t kZero[6] = {};
  if (eth[0] & 1) {
    static constexpr std::uint8_t kBcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    return std::memcmp(eth, kBcast, 6) == 0 ? PACKET_BROADCAST : PACKET_MULTICAST;
  }
  return std::memcmp(eth, kZero, 6) == 0 ? PACKET_HOST : PACKET_OTHERHOST;  // loopback's address is zero
}

// net/bpf/test_run.c gives every test-run skb a socket (__sk_buff.sk) whose family and addresses come
// from the packet's IPv4/IPv6 header (rcv_saddr = source, daddr = destination); everything else is
// what a fresh socket without a struct socket has: ports, type, protocol, mark 0, state TCP_CLOSE,
// no rx queue (checked against 6.18 by tests/runtime's sk_fields). cgroup_skb programs also read
// family and addresses as __sk_buff fields (network byte order, as in the header).
void build_socket(SkbCtx& s, const std::uint8_t* l3, std::size_t l3_bytes, unsigned ethertype, bool cgroup_skb) {
  constexpr std::uint32_t kTcpClose = 7;
  bpf_sock& sk = s.socket.sock;
  sk.state = kTcpClose;
  sk.rx_queue_mapping = -1;
  if (ethertype == 0x0800) {
    sk.family = 2;  // AF_INET
    if (l3_bytes >= 20) {
      std::memcpy(&sk.src_ip4, l3 + 12, 4);
      std::memcpy(&sk.dst_ip4, l3 + 16, 4);
    }
  } else if (ethertype == 0x86dd) {
    sk.family = 10;  // AF_INET6
    if (l3_bytes >= 40) {
      std::memcpy(sk.src_ip6, l3 + 8, 16);
      std::memcpy(sk.dst_ip6, l3 + 24, 16);
    }
  }
  s.sk = reinterpret_cast<std::uintptr_t>(&s.socket.sock);
  if (!cgroup_skb) return;
  s.md.family = sk.family;
  s.md.local_ip4 = sk.src_ip4;
  s.md.remote_ip4 = sk.dst_ip4;
  std::memcpy(s.md.local_ip6, sk.src_ip6, sizeof sk.src_ip6);
  std::memcpy(s.md.remote_ip6, sk.dst_ip6, sizeof sk.dst_ip6);
}

// The runs of an __sk_buff program on `s` (its packet, socket and pointer mirrors set up).
Result<void> run_on_skb(const ProgramRunner& runner, const TestRunOptions& o, std::uint32_t repeat,
                        TestRunResult& out, vm::RunContext& ctx, SkbCtx& s) {
  s.md.data = static_cast<std::uint32_t>(s.data);
  s.md.data_end = static_cast<std::uint32_t>(s.data_end);
  s.md.data_meta = static_cast<std::uint32_t>(s.data_meta);
  HelperRun hr;
  hr.cpu = o.cpu;
  hr.skb = &s;
  ctx.host = &hr;
  // ctx writes are the verifier's business (mark, priority, cb...); checked mode allows the struct.
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(&s), offsetof(SkbCtx, mac_header), true, "ctx"});
  ctx.regions.push_back(vm::Region{static_cast<std::uintptr_t>(s.data), static_cast<std::size_t>(s.data_end - s.data),
                                   true, "packet"});
  hr.packet_region = 1;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(&s.socket), sizeof s.socket, false, "socket"});
  if (o.setup) o.setup(hr, ctx);
  if (auto r = run_repeated(runner, ctx, reinterpret_cast<std::uintptr_t>(&s), repeat, o.measure_time, out); !r)
    return std::move(r).error();
  out.redirect = hr.redirect;
  return {};
}

Result<void> run_skb(const ProgramRunner& runner, const TestRunOptions& o, std::uint32_t repeat, TestRunResult& out,
                     vm::RunContext& ctx) {
  const std::size_t max_data = kPageBytes - kSkbHeadroom - kXdpSharedInfoBytes;
  if (o.data_in.size() < kEthHlen || o.data_in.size() > max_data)
    return einval("data_in must hold 14.." + std::to_string(max_data) + " bytes");
  // net/bpf/test_run.c refuses an IPv4/IPv6 EtherType whose network header is cut short (measured on
  // 6.18: 0x0800 needs 14 + 20 bytes, 0x86dd 14 + 40, whatever the IHL says).
  const std::size_t l3_bytes = o.data_in.size() - kEthHlen;
  const unsigned ethertype = (unsigned{o.data_in[12]} << 8) | o.data_in[13];
  if ((ethertype == 0x0800 && l3_bytes < 20) || (ethertype == 0x86dd && l3_bytes < 40))
    return einval("data_in is shorter than the IPv4/IPv6 header its EtherType announces");
  __sk_buff md_in{};
  if (!o.ctx_in.empty()) {
    if (auto r = ctx_tail_zero(o.ctx_in, sizeof(__sk_buff)); !r) return std::move(r).error();
    for (std::size_t b = 0; b < std::min(o.ctx_in.size(), sizeof(__sk_buff)); ++b)
      if (o.ctx_in[b] != 0 && !in_allowed_field(b))
        return einval("ctx_in sets a __sk_buff field at offset " + std::to_string(b) + " that test runs do not accept");
    md_in = ctx_from<__sk_buff>(o.ctx_in);
  }
  // tc sees the Ethernet header; socket filters, cgroup_skb and lwt start at L3 (the kernel's is_l2).
  const bool l2 = o.type == ProgType::SchedCls || o.type == ProgType::SchedAct;

  // The kernel's page is kzalloc'ed. A program sees [mac_header, data_end) (LD_ABS reaches the
  // Ethernet header below an L3 start); only tc's bpf_skb_adjust_room and bpf_skb_change_tail grow
  // the packet, into the room below the headroom or past the page (where the kernel reallocates: up
  // to BPF_SKB_MAX_LEN), and they zero what they add, so only the headroom is cleared, not the whole
  // buffer (#19).
  alignas(8) std::uint8_t room[kSkbMaxLenBytes + kPageBytes + kSkbMaxLenBytes];
  std::uint8_t* buf = room + kSkbMaxLenBytes;
  std::memset(buf, 0, kSkbHeadroom);
  std::memcpy(buf + kSkbHeadroom, o.data_in.data(), o.data_in.size());
  SkbCtx s{};
  s.md = md_in;
  // tc and lwt_xmit may grow the packet (bpf_skb_change_head/_tail; lwt's data is its network header).
  const bool grows = l2 || o.type == ProgType::LwtIn || o.type == ProgType::LwtOut || o.type == ProgType::LwtXmit;
  if (grows) s.room_begin = reinterpret_cast<std::uintptr_t>(room);
  if (grows) s.room_end = reinterpret_cast<std::uintptr_t>(room + sizeof room);
  if (l2) s.net_offset = kEthHlen;
  s.mac_header = reinterpret_cast<std::uintptr_t>(buf + kSkbHeadroom);
  s.data = s.mac_header + (l2 ? 0 : kEthHlen);
  s.data_end = s.mac_header + o.data_in.size();
  s.data_meta = s.data;
  s.md.len = static_cast<std::uint32_t>(s.data_end - s.data);
  std::uint16_t proto;
  std::memcpy(&proto, buf + kSkbHeadroom + 12, 2);  // __be16 as it sits in the frame
  s.md.protocol = proto;
  s.md.pkt_type = pkt_type_of(buf + kSkbHeadroom);
  if (s.md.ifindex == 0) s.md.ifindex = 1;  // loopback
  if (s.md.wire_len == 0) s.md.wire_len = s.md.len;
  build_socket(s, buf + kSkbHeadroom + kEthHlen, l3_bytes, ethertype, o.type == ProgType::CgroupSkb);
  if (auto r = run_on_skb(runner, o, repeat, out, ctx, s); !r) return std::move(r).error();
  // net/bpf/test_run.c: a program that starts at L3 gets its Ethernet header back zeroed
  // (memset(__skb_push(skb, hh_len), 0, hh_len)), not as data_in had it: in front of where data is after
  // the run (an lwt_xmit bpf_skb_change_head moved it down).
  const std::uint64_t out_begin = l2 ? s.mac_header : s.data - kEthHlen;
  if (!l2) std::memset(reinterpret_cast<void*>(out_begin), 0, kEthHlen);
  finish_data(out, o, reinterpret_cast<const std::uint8_t*>(out_begin), s.data_end - out_begin);
  __sk_buff md_out{};
  for (const auto& f : kSkbInOut)
    std::memcpy(reinterpret_cast<std::uint8_t*>(&md_out) + f.off, reinterpret_cast<const std::uint8_t*>(&s.md) + f.off, f.size);
  out.ctx_out.resize(sizeof md_out);
  std::memcpy(out.ctx_out.data(), &md_out, sizeof md_out);
  return {};
}

// net/bpf/test_run.c's flow dissector run: data is the frame from its Ethernet header (14..4096
// bytes), ctx_in an optional struct bpf_flow_keys in which only `flags` may be set. Every repetition
// starts from fresh keys (bpf_flow_dissect: zeroed, n_proto = the EtherType, nhoff = thoff = 14,
// flags from ctx_in), and after it nhoff is clamped into [14, data size] and thoff into [nhoff, data
// size]. data_out is the keys; ctx_out gives ctx_in back unchanged (bpf_ctx_finish copies the user's
// struct, not the program's keys). There is no skb behind the context: bpf_skb_load_bytes fails.
Result<void> run_flow_dissector(const ProgramRunner& runner, const TestRunOptions& o, std::uint32_t repeat,
                                TestRunResult& out, vm::RunContext& ctx) {
  if (o.data_in.size() < kEthHlen || o.data_in.size() > kPageBytes)
    return einval("data_in must hold 14.." + std::to_string(kPageBytes) + " bytes");
  bpf_flow_keys keys_in{};
  if (!o.ctx_in.empty()) {
    if (auto r = ctx_tail_zero(o.ctx_in, sizeof(bpf_flow_keys)); !r) return std::move(r).error();
    keys_in = ctx_from<bpf_flow_keys>(o.ctx_in);
    bpf_flow_keys only_flags{};
    only_flags.flags = keys_in.flags;
    if (std::memcmp(&keys_in, &only_flags, sizeof keys_in) != 0) return einval("ctx_in may set bpf_flow_keys.flags only");
  }
  alignas(8) std::uint8_t buf[kPageBytes];
  std::memcpy(buf, o.data_in.data(), o.data_in.size());
  bpf_flow_keys keys{};
  SkbCtx s{};
  s.data = reinterpret_cast<std::uintptr_t>(buf);
  s.data_end = s.data + o.data_in.size();
  s.md.flow_keys = &keys;
  HelperRun hr;
  hr.cpu = o.cpu;
  hr.skb = &s;
  ctx.host = &hr;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(&s), offsetof(SkbCtx, mac_header), false, "ctx"});
  ctx.regions.push_back(vm::Region{static_cast<std::uintptr_t>(s.data), o.data_in.size(), false, "packet"});
  hr.packet_region = 1;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(&keys), sizeof keys, true, "flow_keys"});
  if (o.setup) o.setup(hr, ctx);
  const auto hlen = static_cast<std::uint16_t>(o.data_in.size());
  std::uint64_t wall_ns = 0, cpu_ns = 0;
  for (std::uint32_t i = 0; i < repeat; ++i) {
    keys = bpf_flow_keys{};
    std::memcpy(&keys.n_proto, buf + 12, 2);  // __be16 as it sits in the frame
    keys.nhoff = keys.thoff = kEthHlen;
    keys.flags = keys_in.flags;
    if (auto r = run_repeated(runner, ctx, reinterpret_cast<std::uintptr_t>(&s), 1, o.measure_time, out); !r)
      return std::move(r).error();
    wall_ns += out.duration_ns;
    cpu_ns += out.cpu_duration_ns;
    keys.nhoff = std::clamp<std::uint16_t>(keys.nhoff, kEthHlen, hlen);
    keys.thoff = std::clamp<std::uint16_t>(keys.thoff, keys.nhoff, hlen);
  }
  out.duration_ns = static_cast<std::uint32_t>(wall_ns / repeat);
  out.cpu_duration_ns = static_cast<std::uint32_t>(cpu_ns / repeat);
  finish_data(out, o, reinterpret_cast<const std::uint8_t*>(&keys), sizeof keys);
  out.ctx_out.assign(o.ctx_in.begin(), o.ctx_in.end());
  return {};
}

// BPF_PROG_TEST_RUN for sk_lookup (bpf_prog_test_run_sk_lookup): no packet (data_in or an output
// buffer: EINVAL); ctx_in, a struct bpf_sk_lookup (none: a zeroed one, as the kernel's bpf_ctx_init
// makes when ctx_out is asked for, which bpfvm always returns: EAFNOSUPPORT), with sk (the cookie) 0 and
// nothing past local_port (ingress_ifindex too: EINVAL), local_port a u16 (ERANGE), family AF_INET or
// AF_INET6 once cut to u16 (EAFNOSUPPORT). The program reads family and protocol as u16, only its
// family's addresses (the other's read 0), remote_port without ctx_in's padding bytes, ingress_ifindex
// 0. Each repetition starts with no socket selected; retval SK_DROP when the program dropped, else
// SK_PASS (BPF_PROG_SK_LOOKUP_RUN_ARRAY of one program). ctx_out: ctx_in zero-filled to the struct.
Result<void> run_sk_lookup(const ProgramRunner& runner, const TestRunOptions& o, std::uint32_t repeat,
                           TestRunResult& out, vm::RunContext& ctx) {
  if (!o.data_in.empty() || o.data_size_out.value_or(0) != 0)
    return einval("sk_lookup test runs take no data_in or data_out");
  if (auto r = ctx_tail_zero(o.ctx_in, sizeof(bpf_sk_lookup)); !r) return std::move(r).error();
  const auto in = ctx_from<bpf_sk_lookup>(o.ctx_in);
  if (in.cookie != 0) return einval("ctx_in's sk must be 0");
  constexpr std::size_t kCheckedEnd = offsetof(bpf_sk_lookup, local_port) + sizeof(in.local_port);
  if (!all_zero(std::span(reinterpret_cast<const std::uint8_t*>(&in), sizeof in).subspan(kCheckedEnd)))
    return einval("ctx_in must be zero past local_port");
  if (in.local_port > 0xffff) return make_error(Errc::InvalidArgument, "ERANGE: ctx_in's local_port is above 65535");
  SkLookupCtx s{};
  s.md.family = static_cast<std::uint16_t>(in.family);
  s.md.protocol = static_cast<std::uint16_t>(in.protocol);
  s.md.remote_port = in.remote_port;
  s.md.local_port = in.local_port;
  if (s.md.family == AF_INET) {
    s.md.remote_ip4 = in.remote_ip4;
    s.md.local_ip4 = in.local_ip4;
  } else if (s.md.family == AF_INET6) {
    std::memcpy(s.md.remote_ip6, in.remote_ip6, sizeof in.remote_ip6);
    std::memcpy(s.md.local_ip6, in.local_ip6, sizeof in.local_ip6);
  } else {
    return make_error(Errc::InvalidArgument, "EAFNOSUPPORT: ctx_in's family is neither AF_INET nor AF_INET6");
  }
  HelperRun hr;
  hr.cpu = o.cpu;
  hr.sk_lookup = &s;
  ctx.host = &hr;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(&s.md), sizeof s.md, false, "ctx"});
  if (o.setup) o.setup(hr, ctx);
  // No repetition can select a socket (bpf_sk_assign takes only NULL), so each starts as the kernel's.
  if (auto r = run_repeated(runner, ctx, reinterpret_cast<std::uintptr_t>(&s.md), repeat, o.measure_time, out); !r)
    return std::move(r).error();
  out.retval = out.r0 == SK_DROP && s.md.sk == nullptr ? SK_DROP : SK_PASS;
  out.data_size_out = 0;
  out.data_out.clear();
  out.ctx_out.resize(sizeof in);
  std::memcpy(out.ctx_out.data(), &in, sizeof in);
  return {};
}

// The socket behind a stream program's context (sk_skb's skb->sk, sk_msg's msg->sk): a TCP socket in
// TCP_ESTABLISHED whose family, addresses and ports are the context fields the caller gave, converted
// as the kernel's ctx rewrite reads them back (remote_port: the __be16 port in the upper 16 bits on a
// little-endian host; local_port in host order).
void stream_socket(bpf_sock& sk, std::uint32_t family, std::uint32_t remote_ip4, std::uint32_t local_ip4,
                   const std::uint32_t* remote_ip6, const std::uint32_t* local_ip6, std::uint32_t remote_port,
                   std::uint32_t local_port) {
  constexpr std::uint32_t kTcpEstablished = 1, kSockStream = 1, kIpprotoTcp = 6;
  sk = bpf_sock{};
  sk.family = family;
  sk.type = kSockStream;
  sk.protocol = kIpprotoTcp;
  sk.state = kTcpEstablished;
  sk.rx_queue_mapping = -1;
  sk.src_ip4 = local_ip4;
  sk.dst_ip4 = remote_ip4;
  std::memcpy(sk.src_ip6, local_ip6, sizeof sk.src_ip6);
  std::memcpy(sk.dst_ip6, remote_ip6, sizeof sk.dst_ip6);
  sk.src_port = local_port;
  sk.dst_port = static_cast<std::uint16_t>(std::endian::native == std::endian::little ? remote_port >> 16 : remote_port);
}

// sk_skb (stream_parser, stream_verdict, skb_verdict): the kernel cannot test-run this type
// (-ENOTSUPP), so this run is bpfvm's. data_in is what the skb carries from the stream (skb->data is
// the payload, as strparser and tcp_read_skb hand it over: no L2/L3 headers; 1..kSkbMaxLenBytes bytes);
// ctx_in gives the other __sk_buff fields (the socket's family, addresses and ports, priority, hash,
// ...), whose pointer fields must be 0 and whose len the run sets. The packet sits in the middle of a
// frame of kSkbMaxLenBytes on either side, so the size-changing helpers grow it in place.
Result<void> run_sk_skb(const ProgramRunner& runner, const TestRunOptions& o, std::uint32_t repeat,
                        TestRunResult& out, vm::RunContext& ctx) {
  if (o.data_in.empty() || o.data_in.size() > kSkbMaxLenBytes)
    return einval("sk_skb data_in must hold 1.." + std::to_string(kSkbMaxLenBytes) + " bytes (BPF_SKB_MAX_LEN)");
  __sk_buff md_in{};
  if (!o.ctx_in.empty()) {
    if (auto r = ctx_tail_zero(o.ctx_in, sizeof(__sk_buff)); !r) return std::move(r).error();
    md_in = ctx_from<__sk_buff>(o.ctx_in);
    if (md_in.data || md_in.data_end || md_in.data_meta || md_in.flow_keys || md_in.sk)
      return einval("ctx_in sets an __sk_buff pointer field (data, data_end, data_meta, flow_keys, sk): the run sets them");
  }
  alignas(8) std::uint8_t frame[2 * kSkbMaxLenBytes];  // only the packet is written; growing helpers zero what they add
  SkbCtx s{};
  s.md = md_in;
  s.frame_begin = reinterpret_cast<std::uintptr_t>(frame);
  s.frame_end = s.frame_begin + sizeof frame;
  s.data = s.frame_begin + kSkbMaxLenBytes;
  std::memcpy(frame + kSkbMaxLenBytes, o.data_in.data(), o.data_in.size());
  s.data_end = s.data + o.data_in.size();
  s.data_meta = s.data;
  s.mac_header = s.data;
  s.md.len = static_cast<std::uint32_t>(o.data_in.size());
  stream_socket(s.socket.sock, md_in.family, md_in.remote_ip4, md_in.local_ip4, md_in.remote_ip6, md_in.local_ip6,
                md_in.remote_port, md_in.local_port);
  s.sk = reinterpret_cast<std::uintptr_t>(&s.socket.sock);
  if (auto r = run_on_skb(runner, o, repeat, out, ctx, s); !r) return std::move(r).error();
  finish_data(out, o, reinterpret_cast<const std::uint8_t*>(s.data), s.data_end - s.data);
  __sk_buff md_out = s.md;
  md_out.data = md_out.data_end = md_out.data_meta = 0;
  md_out.flow_keys = nullptr;
  md_out.sk = nullptr;
  out.ctx_out.resize(sizeof md_out);
  std::memcpy(out.ctx_out.data(), &md_out, sizeof md_out);
  return {};
}

// The longest message an sk_msg run takes, and the arena its fragments (and the bytes
// bpf_msg_push_data/pull_data add) live in. It is not cleared: pages no fragment uses are never
// touched. A push or pull that does not fit what is left is -ENOMEM (msg_helpers.cpp).
constexpr std::size_t kMsgMaxBytes = 4 * kPageBytes;
constexpr std::size_t kMsgArenaBytes = std::size_t{16} << 20;

// sk_msg: the kernel cannot test-run this type either. data_in is the message a sendmsg() handed the
// program (1..kMsgMaxBytes bytes, one fragment, as a small write fills one scatterlist element);
// ctx_in gives sk_msg_md's socket fields (family, addresses, ports); data, data_end, sk must be 0 and
// size is set from data_in. data_out is the message after the program (all its fragments in order).
Result<void> run_sk_msg(const ProgramRunner& runner, const TestRunOptions& o, std::uint32_t repeat,
                        TestRunResult& out, vm::RunContext& ctx) {
  if (o.data_in.empty() || o.data_in.size() > kMsgMaxBytes)
    return einval("sk_msg data_in must hold 1.." + std::to_string(kMsgMaxBytes) + " bytes");
  sk_msg_md md_in{};
  if (!o.ctx_in.empty()) {
    if (auto r = ctx_tail_zero(o.ctx_in, sizeof(sk_msg_md)); !r) return std::move(r).error();
    md_in = ctx_from<sk_msg_md>(o.ctx_in);
    if (md_in.data || md_in.data_end || md_in.sk)
      return einval("ctx_in sets an sk_msg_md pointer field (data, data_end, sk): the run sets them");
  }
  const auto arena = std::make_unique_for_overwrite<std::uint8_t[]>(kMsgArenaBytes);  // fragment pointers stay valid
  MsgCtx m{};
  m.md = md_in;
  m.arena = arena.get();
  m.arena_bytes = kMsgArenaBytes;
  std::memcpy(m.arena, o.data_in.data(), o.data_in.size());
  m.arena_used_bytes = o.data_in.size();
  m.frags[0] = MsgCtx::Fragment{m.arena, static_cast<std::uint32_t>(o.data_in.size())};
  m.nr_frags = 1;
  m.md.size = static_cast<std::uint32_t>(o.data_in.size());
  m.md.data = m.arena;
  m.md.data_end = m.arena + o.data_in.size();
  stream_socket(m.socket, md_in.family, md_in.remote_ip4, md_in.local_ip4, md_in.remote_ip6, md_in.local_ip6,
                md_in.remote_port, md_in.local_port);
  m.md.sk = &m.socket;
  HelperRun hr;
  hr.cpu = o.cpu;
  hr.msg = &m;
  ctx.host = &hr;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(&m.md), sizeof m.md, false, "ctx"});
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(m.md.data), o.data_in.size(), true, "packet"});
  hr.packet_region = 1;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(&m.socket), sizeof m.socket, false, "socket"});
  if (o.setup) o.setup(hr, ctx);
  if (auto r = run_repeated(runner, ctx, reinterpret_cast<std::uintptr_t>(&m.md), repeat, o.measure_time, out); !r)
    return std::move(r).error();
  out.redirect = hr.redirect;
  if (m.apply_bytes_set) out.msg_apply_bytes = m.apply_bytes;
  if (m.cork_bytes_set) out.msg_cork_bytes = m.cork_bytes;
  std::vector<std::uint8_t> message;
  message.reserve(m.md.size);
  for (std::uint32_t i = 0; i < m.nr_frags; ++i)
    message.insert(message.end(), m.frags[i].bytes, m.frags[i].bytes + m.frags[i].length);
  finish_data(out, o, message.data(), message.size());
  sk_msg_md md_out = m.md;
  md_out.data = md_out.data_end = nullptr;
  md_out.sk = nullptr;
  out.ctx_out.resize(sizeof md_out);
  std::memcpy(out.ctx_out.data(), &md_out, sizeof md_out);
  return {};
}

// sk_reuseport: the kernel has no BPF_PROG_TEST_RUN for this type, so this run is bpfvm's. data_in is
// an Ethernet frame carrying IPv4 (any IHL) or IPv6 (no extension headers) and TCP or UDP (else
// EINVAL). The context is what reuseport_select_sock hands bpf_run_sk_reuseport on receive: data at
// the TCP/UDP header (the IP header already pulled), data_end at the frame's end, len the bytes from
// data, eth_protocol the EtherType (skb->protocol, network order), ip_protocol the L4 protocol (the
// listening socket's sk_protocol); bind_inany and hash from ctx_in (the kernel's hash is the 4-tuple's
// under a boot-time secret), whose other fields must be 0 (EINVAL). sk is the group's socket: a
// listening TCP (TCP_LISTEN) or bound UDP (TCP_CLOSE) socket of the frame's family bound to its
// destination address and port; migrating_sk NULL. retval the low 32 bits of r0 (SK_PASS, SK_DROP);
// selected_socket the cookie bpf_sk_select_reuseport chose last over all repetitions; ctx_out ctx_in.
Result<void> run_sk_reuseport(const ProgramRunner& runner, const TestRunOptions& o, std::uint32_t repeat,
                              TestRunResult& out, vm::RunContext& ctx) {
  constexpr std::uint8_t kTcp = 6, kUdp = 17;
  constexpr std::uint32_t kTcpListen = 10, kTcpClose = 7, kSockStream = 1, kSockDgram = 2;
  if (auto r = ctx_tail_zero(o.ctx_in, sizeof(sk_reuseport_md)); !r) return std::move(r).error();
  auto in = ctx_from<sk_reuseport_md>(o.ctx_in);
  sk_reuseport_md rest = in;
  rest.bind_inany = rest.hash = 0;
  if (!all_zero(std::span(reinterpret_cast<const std::uint8_t*>(&rest), sizeof rest)))
    return einval("sk_reuseport ctx_in may set only bind_inany and hash");
  const auto& d = o.data_in;
  if (d.size() < 14) return einval("sk_reuseport data_in must hold an Ethernet header");
  const unsigned ethertype = unsigned{d[12]} << 8 | d[13];
  std::size_t l4 = 0;
  std::uint8_t proto = 0;
  ReuseportCtx s{};
  bpf_sock& sk = s.socket;
  if (ethertype == 0x0800 && d.size() >= 14 + 20 && (d[14] >> 4) == 4 && (d[14] & 15) >= 5) {
    l4 = 14 + std::size_t{d[14] & 15u} * 4;
    proto = d[14 + 9];
    sk.family = AF_INET;
    std::memcpy(&sk.src_ip4, &d[14 + 16], 4);
  } else if (ethertype == 0x86dd && d.size() >= 14 + 40 && (d[14] >> 4) == 6) {
    l4 = 14 + 40;
    proto = d[14 + 6];
    sk.family = AF_INET6;
    std::memcpy(sk.src_ip6, &d[14 + 24], 16);
  } else {
    return einval("sk_reuseport data_in must be IPv4 or IPv6 over Ethernet");
  }
  const std::size_t l4_header = proto == kTcp ? 20 : 8;
  if ((proto != kTcp && proto != kUdp) || d.size() < l4 + l4_header)
    return einval("sk_reuseport data_in must carry a whole TCP or UDP header");
  sk.protocol = proto;
  sk.type = proto == kTcp ? kSockStream : kSockDgram;
  sk.state = proto == kTcp ? kTcpListen : kTcpClose;
  sk.src_port = unsigned{d[l4 + 2]} << 8 | d[l4 + 3];  // host order, as struct bpf_sock's src_port
  sk.rx_queue_mapping = -1;
  const auto frame = std::make_unique_for_overwrite<std::uint8_t[]>(d.size());
  std::memcpy(frame.get(), d.data(), d.size());
  s.md.data = frame.get() + l4;
  s.md.data_end = frame.get() + d.size();
  s.md.len = static_cast<std::uint32_t>(d.size() - l4);
  s.md.eth_protocol = static_cast<std::uint32_t>(d[12] | d[13] << 8);  // the __be16 as it sits in memory
  s.md.ip_protocol = proto;
  s.md.bind_inany = in.bind_inany;
  s.md.hash = in.hash;
  s.md.sk = &s.socket;
  s.md.migrating_sk = nullptr;
  s.mac_header = frame.get();
  s.network_header = frame.get() + 14;
  HelperRun hr;
  hr.cpu = o.cpu;
  hr.reuseport = &s;
  ctx.host = &hr;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(&s.md), sizeof s.md, false, "ctx"});
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(s.md.data), s.md.len, false, "packet"});
  hr.packet_region = 1;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(&s.socket), sizeof s.socket, false, "socket"});
  if (o.setup) o.setup(hr, ctx);
  if (auto r = run_repeated(runner, ctx, reinterpret_cast<std::uintptr_t>(&s.md), repeat, o.measure_time, out); !r)
    return std::move(r).error();
  if (s.selected_cookie != 0) out.selected_socket = s.selected_cookie;
  out.data_size_out = 0;
  out.data_out.clear();
  out.ctx_out.resize(sizeof in);
  std::memcpy(out.ctx_out.data(), &in, sizeof in);
  return {};
}

}  // namespace

Result<void> test_run(const ProgramRunner& runner, const TestRunOptions& options, TestRunResult& out) {
  const std::uint32_t repeat = options.repeat ? options.repeat : 1;
  std::optional<vm::RunContext> own;
  vm::RunContext& ctx = options.context != nullptr ? *options.context : own.emplace();
  out.redirect = {};
  out.msg_apply_bytes.reset();
  out.msg_cork_bytes.reset();
  out.selected_socket.reset();
  switch (options.type) {
    case ProgType::Xdp:
      return run_xdp(runner, options, repeat, out, ctx);
    case ProgType::SocketFilter:
    case ProgType::SchedCls:
    case ProgType::SchedAct:
    case ProgType::CgroupSkb:
    case ProgType::LwtIn:
    case ProgType::LwtOut:
    case ProgType::LwtXmit:
      return run_skb(runner, options, repeat, out, ctx);
    case ProgType::FlowDissector:
      return run_flow_dissector(runner, options, repeat, out, ctx);
    case ProgType::SkSkb:
      return run_sk_skb(runner, options, repeat, out, ctx);
    case ProgType::SkMsg:
      return run_sk_msg(runner, options, repeat, out, ctx);
    case ProgType::SkLookup:
      return run_sk_lookup(runner, options, repeat, out, ctx);
    case ProgType::SkReuseport:
      return run_sk_reuseport(runner, options, repeat, out, ctx);
    case ProgType::Kprobe:
    case ProgType::Tracepoint:
    case ProgType::RawTracepoint:
    case ProgType::Syscall:
      break;
  }
  return make_error(Errc::Unsupported, "test_run supports XDP, socket filter, tc, cgroup_skb, lwt, flow dissector, sk_skb, sk_msg, sk_lookup and sk_reuseport programs (not this type yet)");
}

Result<TestRunResult> test_run(const ProgramRunner& runner, const TestRunOptions& options) {
  TestRunResult out;
  if (auto r = test_run(runner, options, out); !r) return std::move(r).error();
  return out;
}

Result<TestRunResult> test_run(const vm::Interpreter& program, const TestRunOptions& options) {
  return test_run(
      [&](vm::RunContext& ctx, std::span<const std::uint64_t> args, std::uint32_t runs) {
        return program.run(ctx, args, vm::ExecOptions{.checked = options.checked, .runs = runs});
      },
      options);
}

}  // namespace bpfvm::helpers
