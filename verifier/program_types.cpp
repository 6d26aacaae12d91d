// Built-in program type descriptions: context layouts from <linux/bpf.h> and the kernel's
// *_is_valid_access rules, reduced to field ranges.
#include <linux/bpf.h>

#include <cstddef>

#include "verifier/helper_sets.hpp"
#include "verifier/verifier.hpp"

namespace bpfvm::verifier::program_types {

namespace {

CtxField scalar(std::uint32_t off, std::uint32_t size, bool writable = false) {
  return CtxField{off, size, writable, CtxFieldKind::Scalar};
}
CtxField pointer(std::uint32_t off, CtxFieldKind kind) { return CtxField{off, 4, false, kind}; }
// __sk_buff.sk: one 8-byte load, a PTR_TO_SOCK_COMMON_OR_NULL (bpf_skb_is_valid_access).
CtxField skb_sk() { return CtxField{offsetof(__sk_buff, sk), 8, false, CtxFieldKind::SockCommonOrNull}; }
// A field read only whole (and, when writable, written only whole).
CtxField whole(std::uint32_t off, std::uint32_t size, bool writable = false) {
  return CtxField{off, size, writable, CtxFieldKind::Scalar, true, true};
}
// A field read in any aligned width but written only whole (bpf_skb_is_valid_access: narrow writes
// only into cb[]).
CtxField narrow_read(std::uint32_t off, bool writable) {
  return CtxField{off, 4, writable, CtxFieldKind::Scalar, false, true};
}

// The entry common to the context types: r1 = a context of `ctx_size_bytes` named `ctx_btf_name` in BTF.
ProgramTypeInfo context_type(std::string name, std::span<const std::uint8_t> helper_ids, std::string_view ctx_btf_name,
                             std::uint32_t ctx_size_bytes) {
  ProgramTypeInfo t;
  t.name = std::move(name);
  t.helper_ids = helper_ids;
  t.ctx_btf_name = ctx_btf_name;
  t.entry = EntryKind::Ctx;
  t.ctx_size_bytes = ctx_size_bytes;
  return t;
}

// A read-only field loaded in any width up to `size`, only at its first byte.
CtxField at_start(std::uint32_t off, std::uint32_t size) {
  CtxField f{off, size, false, CtxFieldKind::Scalar};
  f.loads_at_start = true;
  return f;
}

// struct __sk_buff fields shared by socket filters and tc; `tc` adds write access and packet pointers.
std::vector<CtxField> sk_buff_fields(bool tc) {
  // family..local_port (88..139) describe sockets, not packets: sk_filter_is_valid_access and
  // tc_cls_act_is_valid_access both refuse them. tc_classid, tstamp, wire_len and tstamp_type are tc-only.
  std::vector<CtxField> f = {
      scalar(0, 4),          // len
      scalar(4, 4),          // pkt_type
      narrow_read(8, tc),    // mark
      narrow_read(12, tc),   // queue_mapping
      scalar(16, 4),         // protocol
      scalar(20, 4),         // vlan_present
      scalar(24, 4),         // vlan_tci
      scalar(28, 4),         // vlan_proto
      narrow_read(32, tc),   // priority
      scalar(36, 4),         // ingress_ifindex
      scalar(40, 4),         // ifindex
      narrow_read(44, tc),   // tc_index
      scalar(48, 20, true),  // cb[5]
      scalar(68, 4),         // hash
      scalar(84, 4),         // napi_id
      scalar(164, 4),        // gso_segs
      scalar(176, 4),        // gso_size
  };
  if (tc) {
    f.push_back(narrow_read(72, true));  // tc_classid
    f.push_back(whole(152, 8, true));    // tstamp
    f.push_back(scalar(160, 4));        // wire_len
    f.push_back(whole(offsetof(__sk_buff, tstamp_type), 1));  // tstamp_type: one read-only byte
  }
  if (tc) {
    f.push_back(pointer(76, CtxFieldKind::PacketData));
    f.push_back(pointer(80, CtxFieldKind::PacketEnd));
    f.push_back(pointer(140, CtxFieldKind::PacketMeta));
  }
  f.push_back(skb_sk());
  return f;
}

}  // namespace

ProgramTypeInfo plain(std::uint32_t mem_size_bytes) {
  ProgramTypeInfo t;
  t.name = "plain";
  t.entry = EntryKind::PlainMemory;
  t.ctx_size_bytes = mem_size_bytes;
  return t;
}

ProgramTypeInfo xdp(std::uint32_t expected_attach_type) {
  ProgramTypeInfo t;
  t.helper_ids = helper_sets::kXdp;
  t.name = "xdp";
  t.ctx_btf_name = "xdp_md";
  t.entry = EntryKind::Ctx;
  t.ctx_size_bytes = 24;  // struct xdp_md
  t.sockmap_writes = ProgramTypeInfo::SockmapWrites::UpdateDelete;
  t.fields = {
      pointer(0, CtxFieldKind::PacketData),  // data
      pointer(4, CtxFieldKind::PacketEnd),   // data_end
      pointer(8, CtxFieldKind::PacketMeta),  // data_meta
      whole(12, 4),                          // ingress_ifindex
      whole(16, 4),                          // rx_queue_index
  };
  // xdp_is_valid_access: only a devmap program knows the device it sends to; __is_valid_xdp_access
  // takes every field as a whole u32 (no narrow loads).
  if (expected_attach_type == BPF_XDP_DEVMAP) t.fields.push_back(whole(20, 4));  // egress_ifindex
  t.packet_writable = true;
  return t;
}

// check_map_prog_compatibility: tracing programs may run in any context, where a spin lock could deadlock.
constexpr std::string_view kTracingSpinLocks = "tracing progs cannot use bpf_spin_lock yet";
constexpr std::string_view kTracingTimers = "tracing progs cannot use bpf_timer yet";

ProgramTypeInfo socket_filter() {
  ProgramTypeInfo t;
  t.helper_ids = helper_sets::kSocketFilter;
  t.name = "socket_filter";
  t.ctx_btf_name = "__sk_buff";
  t.spin_locks_refused = "socket filter progs cannot use bpf_spin_lock yet";
  t.entry = EntryKind::Ctx;
  t.ctx_size_bytes = 192;  // struct __sk_buff
  t.fields = sk_buff_fields(false);
  t.legacy_packet_loads = true;
  t.sockmap_writes = ProgramTypeInfo::SockmapWrites::UpdateDelete;
  return t;
}

ProgramTypeInfo sched_cls() {
  ProgramTypeInfo t;
  t.helper_ids = helper_sets::kSchedCls;
  t.name = "sched_cls";
  t.ctx_btf_name = "__sk_buff";
  t.entry = EntryKind::Ctx;
  t.ctx_size_bytes = 192;
  t.fields = sk_buff_fields(true);
  t.packet_writable = true;
  t.sockmap_writes = ProgramTypeInfo::SockmapWrites::UpdateDelete;
  t.legacy_packet_loads = true;
  return t;
}

ProgramTypeInfo kprobe() {
  ProgramTypeInfo t;
  t.helper_ids = helper_sets::kKprobe;
  t.name = "kprobe";
  t.ctx_btf_name = "pt_regs";
  t.spin_locks_refused = kTracingSpinLocks;
  t.timers_refused = kTracingTimers;
  t.entry = EntryKind::Ctx;
  t.ctx_size_bytes = 168;  // x86-64 struct pt_regs
  t.fields = {scalar(0, 168)};
  return t;
}

ProgramTypeInfo tracepoint() {
  ProgramTypeInfo t;
  t.helper_ids = helper_sets::kTracepoint;
  t.name = "tracepoint";
  t.spin_locks_refused = kTracingSpinLocks;
  t.timers_refused = kTracingTimers;
  t.entry = EntryKind::Ctx;
  t.ctx_size_bytes = 2048;  // PERF_MAX_TRACE_SIZE
  t.fields = {scalar(0, 2048)};
  return t;
}

ProgramTypeInfo raw_tracepoint() {
  ProgramTypeInfo t;
  t.helper_ids = helper_sets::kRawTracepoint;
  t.name = "raw_tracepoint";
  t.ctx_btf_name = "bpf_raw_tracepoint_args";
  t.spin_locks_refused = kTracingSpinLocks;
  t.timers_refused = kTracingTimers;
  t.entry = EntryKind::Ctx;
  t.ctx_size_bytes = 96;  // u64 args[MAX_BPF_FUNC_ARGS]
  t.fields = {scalar(0, 96)};
  return t;
}

// raw_tp_writable_prog_is_valid_access (6.18, measured): raw_tracepoint's args, but a load at offset 0
// must be 8 bytes and gives the tracepoint's writable buffer (PTR_TO_TP_BUFFER); args[0]'s other bytes
// read as numbers (the kernel checks `off == 0` only). Helpers as raw_tracepoint.
ProgramTypeInfo raw_tracepoint_writable() {
  ProgramTypeInfo t = raw_tracepoint();
  t.name = "raw_tracepoint_writable";
  t.fields = {scalar(1, 95), CtxField{0, 8, false, CtxFieldKind::TpBuffer}};  // the first field that holds an access decides
  return t;
}

// flow_dissector_is_valid_access (6.18, measured): of __sk_buff only data and data_end (4-byte loads,
// packet pointers; the packet is read only) and flow_keys (an 8-byte load, a PTR_TO_FLOW_KEYS the
// program fills in); no stores. No return-code rule (BPF_OK, BPF_DROP by convention).
ProgramTypeInfo flow_dissector() {
  auto t = context_type("flow_dissector", helper_sets::kFlowDissector, "__sk_buff", sizeof(__sk_buff));
  t.fields = {pointer(offsetof(__sk_buff, data), CtxFieldKind::PacketData),
              pointer(offsetof(__sk_buff, data_end), CtxFieldKind::PacketEnd),
              CtxField{offsetof(__sk_buff, flow_keys), 8, false, CtxFieldKind::FlowKeys}};
  return t;
}

// cg_skb_is_valid_access (6.18, privileged): every __sk_buff field but tc_classid, data_meta and
// wire_len is readable, including the socket's addresses and ports (whole loads only for the
// addresses); data/data_end are packet pointers (read only: the packet is not writable); mark and
// priority take whole stores, cb[] any aligned store, tstamp a whole 8-byte store. Not yet: `sk`
// (168, a PTR_TO_SOCK_COMMON_OR_NULL the verifier does not model) is refused. r0 at exit: 0 or 1
// (the ingress/default attach type; egress allows 0-3 with BPF_CGROUP_INET_EGRESS).
ProgramTypeInfo cgroup_skb() {
  auto t = context_type("cgroup_skb", helper_sets::kCgroupSkb, "__sk_buff", sizeof(__sk_buff));
  t.max_return = 1;
  for (std::uint32_t off = 0; off < 48; off += 4) t.fields.push_back(narrow_read(off, off == 8 || off == 32));
  t.fields.push_back(scalar(48, 20, true));  // cb[5]
  t.fields.push_back(narrow_read(68, false));  // hash
  t.fields.push_back(pointer(76, CtxFieldKind::PacketData));
  t.fields.push_back(pointer(80, CtxFieldKind::PacketEnd));
  t.fields.push_back(narrow_read(84, false));  // napi_id
  t.fields.push_back(narrow_read(88, false));  // family
  for (std::uint32_t off = 92; off < 132; off += 4) t.fields.push_back(whole(off, 4));  // remote/local ip4, ip6
  t.fields.push_back(narrow_read(132, false));  // remote_port
  t.fields.push_back(narrow_read(136, false));  // local_port
  t.fields.push_back(whole(152, 8, true));      // tstamp
  t.fields.push_back(narrow_read(164, false));  // gso_segs
  t.fields.push_back(narrow_read(176, false));  // gso_size
  t.fields.push_back(whole(184, 8));            // hwtstamp
  t.fields.push_back(skb_sk());
  return t;
}

// lwt_is_valid_access (6.18, checked field by field): the packet fields of __sk_buff up to hash,
// data/data_end, napi_id, gso_segs and gso_size; no socket fields, tstamp, wire_len, tc_classid or
// data_meta; whole stores to mark and priority, any aligned store into cb[]. Direct packet writes only
// for lwt_xmit (may_access_direct_pkt_data). No return-code rule. Not yet: `sk` (168) is refused.
namespace {
ProgramTypeInfo lwt(std::string name, std::span<const std::uint8_t> helper_ids, bool packet_writable) {
  auto t = context_type(std::move(name), helper_ids, "__sk_buff", sizeof(__sk_buff));
  t.packet_writable = packet_writable;
  for (std::uint32_t off = 0; off < 48; off += 4) t.fields.push_back(narrow_read(off, off == 8 || off == 32));
  t.fields.push_back(scalar(48, 20, true));  // cb[5]
  t.fields.push_back(narrow_read(68, false));  // hash
  t.fields.push_back(pointer(76, CtxFieldKind::PacketData));
  t.fields.push_back(pointer(80, CtxFieldKind::PacketEnd));
  t.fields.push_back(narrow_read(84, false));   // napi_id
  t.fields.push_back(narrow_read(164, false));  // gso_segs
  t.fields.push_back(narrow_read(176, false));  // gso_size
  t.fields.push_back(skb_sk());
  return t;
}
}  // namespace

ProgramTypeInfo lwt_in() { return lwt("lwt_in", helper_sets::kLwtIn, false); }
ProgramTypeInfo lwt_out() { return lwt("lwt_out", helper_sets::kLwtOut, false); }
ProgramTypeInfo lwt_xmit() { return lwt("lwt_xmit", helper_sets::kLwtXmit, true); }
// lwt_seg6local_verifier_ops use lwt_is_valid_access too (6.18, measured: the same verdict at every
// offset and width as lwt_in); the packet is read only.
ProgramTypeInfo lwt_seg6local() { return lwt("lwt_seg6local", helper_sets::kLwtSeg6local, false); }

// sock_filter_is_valid_access (6.18, measured at every offset and width): struct bpf_sock, read only.
// bound_dev_if, mark and priority exist for sock_create/sock_release only, read and written whole;
// src_ip4 (post_bind4), src_ip6 (post_bind6) and the destination addresses read in any aligned width up
// to 4 bytes; family, type, protocol, src_port (post_bind hooks only), state and rx_queue_mapping in any
// width at their first byte; dst_port (__be16) in 1 or 2 bytes or as a whole u32 with its padding.
// r0 at exit: 0 or 1. Expected attach type 0 is what the kernel makes of it at load
// (bpf_prog_load_fixup_attach_type): sock_create.
ProgramTypeInfo cgroup_sock(std::uint32_t expected_attach_type) {
  const std::uint32_t a = expected_attach_type == 0 ? std::uint32_t{BPF_CGROUP_INET_SOCK_CREATE} : expected_attach_type;
  const bool create_or_release = a == BPF_CGROUP_INET_SOCK_CREATE || a == BPF_CGROUP_INET_SOCK_RELEASE;
  const bool post_bind4 = a == BPF_CGROUP_INET4_POST_BIND, post_bind6 = a == BPF_CGROUP_INET6_POST_BIND;
  auto t = context_type("cgroup_sock", helper_sets::kCgroupSock, "bpf_sock", sizeof(bpf_sock));
  t.max_return = 1;
  if (create_or_release)
    for (const auto off : {offsetof(bpf_sock, bound_dev_if), offsetof(bpf_sock, mark), offsetof(bpf_sock, priority)})
      t.fields.push_back(whole(off, 4, true));
  for (const auto off : {offsetof(bpf_sock, family), offsetof(bpf_sock, type), offsetof(bpf_sock, protocol),
                         offsetof(bpf_sock, state), offsetof(bpf_sock, rx_queue_mapping)})
    t.fields.push_back(at_start(off, 4));
  if (post_bind4) t.fields.push_back(narrow_read(offsetof(bpf_sock, src_ip4), false));
  for (std::uint32_t i = 0; post_bind6 && i < 4; ++i)
    t.fields.push_back(narrow_read(offsetof(bpf_sock, src_ip6) + 4 * i, false));
  if (post_bind4 || post_bind6) t.fields.push_back(at_start(offsetof(bpf_sock, src_port), 4));
  t.fields.push_back(scalar(offsetof(bpf_sock, dst_port), 2));
  t.fields.push_back(whole(offsetof(bpf_sock, dst_port), 4));
  t.fields.push_back(narrow_read(offsetof(bpf_sock, dst_ip4), false));
  for (std::uint32_t i = 0; i < 4; ++i) t.fields.push_back(narrow_read(offsetof(bpf_sock, dst_ip6) + 4 * i, false));
  return t;
}

// sock_addr_is_valid_access (6.18, measured at every offset and width): struct bpf_sock_addr.
// user_family, family, type and protocol read whole; user_port, and the hook's own addresses — user_ip4
// (the IPv4 hooks), user_ip6 (IPv6), msg_src_ip4/msg_src_ip6 (sendmsg4/sendmsg6) — read in any aligned
// width (8 bytes too in the IPv6 arrays) and written in 4 bytes (or 8, 8-aligned, in the arrays).
// Not yet: `sk` (64, a PTR_TO_SOCKET the verifier does not model) is refused. r0 at exit: 0-3 for bind
// (the BPF_RET_BIND_NO_CAP_NET_BIND_SERVICE bit), exactly 1 where the hook's result is fixed
// (getpeername, getsockname, recvmsg), else 0 or 1. The kernel loads this type only with its hook.
std::optional<ProgramTypeInfo> cgroup_sock_addr(std::uint32_t expected_attach_type) {
  const auto a = expected_attach_type;
  const bool ip4 = a == BPF_CGROUP_INET4_BIND || a == BPF_CGROUP_INET4_CONNECT || a == BPF_CGROUP_INET4_GETPEERNAME ||
                   a == BPF_CGROUP_INET4_GETSOCKNAME || a == BPF_CGROUP_UDP4_SENDMSG || a == BPF_CGROUP_UDP4_RECVMSG;
  const bool ip6 = a == BPF_CGROUP_INET6_BIND || a == BPF_CGROUP_INET6_CONNECT || a == BPF_CGROUP_INET6_GETPEERNAME ||
                   a == BPF_CGROUP_INET6_GETSOCKNAME || a == BPF_CGROUP_UDP6_SENDMSG || a == BPF_CGROUP_UDP6_RECVMSG;
  if (!ip4 && !ip6) return std::nullopt;
  const bool fixed_return = a == BPF_CGROUP_INET4_GETPEERNAME || a == BPF_CGROUP_INET6_GETPEERNAME ||
                            a == BPF_CGROUP_INET4_GETSOCKNAME || a == BPF_CGROUP_INET6_GETSOCKNAME ||
                            a == BPF_CGROUP_UDP4_RECVMSG || a == BPF_CGROUP_UDP6_RECVMSG;
  const bool bind = a == BPF_CGROUP_INET4_BIND || a == BPF_CGROUP_INET6_BIND;
  const bool connect = a == BPF_CGROUP_INET4_CONNECT || a == BPF_CGROUP_INET6_CONNECT;
  const auto helper_ids = connect        ? std::span<const std::uint8_t>(helper_sets::kCgroupSockAddrConnect)
                          : fixed_return ? std::span<const std::uint8_t>(helper_sets::kCgroupSockAddrFixedReturn)
                                         : std::span<const std::uint8_t>(helper_sets::kCgroupSockAddr);
  auto t = context_type("cgroup_sock_addr", helper_ids, "bpf_sock_addr", sizeof(bpf_sock_addr));
  t.max_return = bind ? 3 : 1;
  t.min_return = fixed_return ? 1 : 0;
  // An IPv6 address array: any aligned load, stores of 4 bytes or (8-aligned) 8.
  auto ip6_array = [](std::uint32_t off) {
    CtxField f = scalar(off, 16, true);
    f.min_store_bytes = 4;
    return f;
  };
  for (const auto off : {offsetof(bpf_sock_addr, user_family), offsetof(bpf_sock_addr, family),
                         offsetof(bpf_sock_addr, type), offsetof(bpf_sock_addr, protocol)})
    t.fields.push_back(whole(off, 4));
  t.fields.push_back(narrow_read(offsetof(bpf_sock_addr, user_port), true));
  if (ip4) t.fields.push_back(narrow_read(offsetof(bpf_sock_addr, user_ip4), true));
  if (ip6) t.fields.push_back(ip6_array(offsetof(bpf_sock_addr, user_ip6)));
  if (a == BPF_CGROUP_UDP4_SENDMSG) t.fields.push_back(narrow_read(offsetof(bpf_sock_addr, msg_src_ip4), true));
  if (a == BPF_CGROUP_UDP6_SENDMSG) t.fields.push_back(ip6_array(offsetof(bpf_sock_addr, msg_src_ip6)));
  t.fields.push_back(CtxField{offsetof(bpf_sock_addr, sk), 8, false, CtxFieldKind::Socket});
  return t;
}

// cgroup_dev_is_valid_access (6.18, measured): struct bpf_cgroup_dev_ctx, read only; access_type in any
// aligned width, major and minor whole. r0 at exit: 0 or 1.
ProgramTypeInfo cgroup_device() {
  auto t = context_type("cgroup_device", helper_sets::kCgroupDevice, "bpf_cgroup_dev_ctx", sizeof(bpf_cgroup_dev_ctx));
  t.max_return = 1;
  t.fields = {scalar(offsetof(bpf_cgroup_dev_ctx, access_type), 4), whole(offsetof(bpf_cgroup_dev_ctx, major), 4),
              whole(offsetof(bpf_cgroup_dev_ctx, minor), 4)};
  return t;
}

// sysctl_is_valid_access (6.18, measured): struct bpf_sysctl; `write` read in any aligned width,
// file_pos too and written whole. r0 at exit: 0 or 1.
ProgramTypeInfo cgroup_sysctl() {
  auto t = context_type("cgroup_sysctl", helper_sets::kCgroupSysctl, "bpf_sysctl", sizeof(bpf_sysctl));
  t.max_return = 1;
  t.fields = {scalar(offsetof(bpf_sysctl, write), 4), narrow_read(offsetof(bpf_sysctl, file_pos), true)};
  return t;
}

// pe_prog_is_valid_access (6.18, measured): struct bpf_perf_event_data (x86-64 pt_regs, then
// sample_period and addr), read only; each register whole (8 bytes), sample_period and addr in any
// aligned width. No return-code rule.
ProgramTypeInfo perf_event() {
  constexpr std::uint32_t kRegsBytes = sizeof(std::uint64_t) * 21;  // x86-64 struct pt_regs
  auto t = context_type("perf_event", helper_sets::kPerfEvent, "bpf_perf_event_data", kRegsBytes + 16);
  t.spin_locks_refused = kTracingSpinLocks;
  t.timers_refused = kTracingTimers;
  for (std::uint32_t off = 0; off < kRegsBytes; off += 8) t.fields.push_back(whole(off, 8));
  t.fields.push_back(scalar(kRegsBytes, 16));  // sample_period, addr
  return t;
}

// sock_ops_is_valid_access (6.18, measured at every offset and width): struct bpf_sock_ops. Every u32
// field up to sk_txhash read whole, reply (args[0]) and sk_txhash also written whole; bytes_received,
// bytes_acked and skb_hwtstamp whole u64; skb_tcp_flags in any width at its first byte; sk a
// PTR_TO_SOCKET_OR_NULL, skb_data/skb_data_end packet pointers (read only). r0 at exit: 0 or 1.
ProgramTypeInfo sock_ops() {
  auto t = context_type("sock_ops", helper_sets::kSockOps, "bpf_sock_ops", offsetof(bpf_sock_ops, skb_tcp_flags) + 12);
  t.max_return = 1;
  t.sockmap_writes = ProgramTypeInfo::SockmapWrites::Delete;
  for (std::uint32_t off = 0; off <= offsetof(bpf_sock_ops, sk_txhash); off += 4)
    t.fields.push_back(whole(off, 4, off == offsetof(bpf_sock_ops, reply) || off == offsetof(bpf_sock_ops, sk_txhash)));
  t.fields.push_back(whole(offsetof(bpf_sock_ops, bytes_received), 8));
  t.fields.push_back(whole(offsetof(bpf_sock_ops, bytes_acked), 8));
  t.fields.push_back(CtxField{offsetof(bpf_sock_ops, sk), 8, false, CtxFieldKind::SocketOrNull});
  t.fields.push_back(CtxField{offsetof(bpf_sock_ops, skb_data), 8, false, CtxFieldKind::PacketData});
  t.fields.push_back(CtxField{offsetof(bpf_sock_ops, skb_data_end), 8, false, CtxFieldKind::PacketEnd});
  t.fields.push_back(whole(offsetof(bpf_sock_ops, skb_len), 4));
  t.fields.push_back(at_start(offsetof(bpf_sock_ops, skb_tcp_flags), 4));
  t.fields.push_back(whole(offsetof(bpf_sock_ops, skb_tcp_flags) + 4, 8));  // skb_hwtstamp (newer than the header)
  return t;
}

// BPF_PROG_TYPE_TRACING (tracing_prog_is_valid_access, btf_ctx_access): the context is u64 args[], one
// per argument of the BTF tracepoint (its btf_trace_<name> prototype without the leading void *) or of
// the fentry/fexit target function (fexit: then its return value); a number may be read at any aligned
// width inside its slot, a pointer to a struct only whole (a trusted PTR_TO_BTF_ID); nothing past the
// last argument; no stores. r0 is not checked for tp_btf; fentry and fexit must return 0
// (check_return_code's retval_range(0, 0)).
ProgramTypeInfo tracing(std::uint32_t expected_attach_type, const std::vector<TracingArg>& args) {
  constexpr std::uint32_t kBpfTraceFentry = 24, kBpfTraceFexit = 25;
  ProgramTypeInfo t;
  if (expected_attach_type == kBpfTraceFentry || expected_attach_type == kBpfTraceFexit) t.max_return = 0;
  t.name = "tracing";
  t.helper_ids = helper_sets::kTracingRawTp;
  t.entry = EntryKind::Ctx;
  t.ctx_size_bytes = static_cast<std::uint32_t>(8 * args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto off = static_cast<std::uint32_t>(8 * i);
    if (args[i].btf_pointer) {
      CtxField f{off, 8, false, CtxFieldKind::BtfPointer};
      f.btf_id = args[i].btf_id;
      t.fields.push_back(f);
    } else {
      t.fields.push_back(scalar(off, 8));
    }
  }
  return t;
}

// sk_skb_is_valid_access (6.18, measured at every offset and width): __sk_buff without mark,
// tc_classid, data_meta, tstamp, wire_len and hwtstamp; priority and tc_index written whole, nothing
// else (cb[] is read only here); the socket's addresses read whole; data/data_end packet pointers, the
// packet writable; `sk` as for every __sk_buff type. No return-code rule.
ProgramTypeInfo sk_skb() {
  auto t = context_type("sk_skb", helper_sets::kSkSkb, "__sk_buff", sizeof(__sk_buff));
  t.packet_writable = true;
  for (std::uint32_t off = 0; off < 48; off += 4)
    if (off != offsetof(__sk_buff, mark))
      t.fields.push_back(narrow_read(off, off == offsetof(__sk_buff, priority) || off == offsetof(__sk_buff, tc_index)));
  t.fields.push_back(scalar(offsetof(__sk_buff, cb), sizeof(__sk_buff::cb)));
  t.fields.push_back(narrow_read(offsetof(__sk_buff, hash), false));
  t.fields.push_back(pointer(offsetof(__sk_buff, data), CtxFieldKind::PacketData));
  t.fields.push_back(pointer(offsetof(__sk_buff, data_end), CtxFieldKind::PacketEnd));
  for (const auto off : {offsetof(__sk_buff, napi_id), offsetof(__sk_buff, family), offsetof(__sk_buff, remote_port),
                         offsetof(__sk_buff, local_port), offsetof(__sk_buff, gso_segs), offsetof(__sk_buff, gso_size)})
    t.fields.push_back(narrow_read(off, false));
  for (auto off = offsetof(__sk_buff, remote_ip4); off < offsetof(__sk_buff, remote_port); off += 4)
    t.fields.push_back(whole(off, 4));  // remote/local ip4, ip6
  t.fields.push_back(skb_sk());
  return t;
}

// sk_msg_is_valid_access (6.18, measured): struct sk_msg_md, read only. data/data_end 8-byte packet
// pointers (the message's first scatterlist element, writable), every u32 field whole, sk a
// PTR_TO_SOCKET. No return-code rule.
ProgramTypeInfo sk_msg() {
  auto t = context_type("sk_msg", helper_sets::kSkMsg, "sk_msg_md", sizeof(sk_msg_md));
  t.packet_writable = true;
  t.fields.push_back(CtxField{offsetof(sk_msg_md, data), 8, false, CtxFieldKind::PacketData});
  t.fields.push_back(CtxField{offsetof(sk_msg_md, data_end), 8, false, CtxFieldKind::PacketEnd});
  for (auto off = offsetof(sk_msg_md, family); off < offsetof(sk_msg_md, sk); off += 4) t.fields.push_back(whole(off, 4));
  t.fields.push_back(CtxField{offsetof(sk_msg_md, sk), 8, false, CtxFieldKind::Socket});
  return t;
}

// sk_lookup_is_valid_access (6.18): struct bpf_sk_lookup, read only. sk one 8-byte load, a
// PTR_TO_SOCKET_OR_NULL (the socket selected so far); the u32 fields (family, protocol, the
// addresses, local_port, ingress_ifindex) loads of 1, 2 or 4 bytes anywhere inside them; remote_port
// (a __be16) and the zero padding after it: 4-byte loads of both, narrow ones of either. r0 at exit:
// SK_DROP or SK_PASS.
ProgramTypeInfo sk_lookup() {
  auto t = context_type("sk_lookup", helper_sets::kSkLookupProg, "bpf_sk_lookup", sizeof(bpf_sk_lookup));
  t.max_return = SK_PASS;
  t.own_signatures.push_back({BPF_FUNC_sk_assign, vm::HelperSignature{vm::RetType::Integer,
                                                                      {vm::ArgType::PtrToCtx, vm::ArgType::PtrToSocketOrNull,
                                                                       vm::ArgType::Anything, vm::ArgType::DontCare,
                                                                       vm::ArgType::DontCare},
                                                                      true}});
  t.fields.push_back(CtxField{offsetof(bpf_sk_lookup, sk), 8, false, CtxFieldKind::SocketOrNull});
  for (auto off = offsetof(bpf_sk_lookup, family); off <= offsetof(bpf_sk_lookup, ingress_ifindex); off += 4)
    t.fields.push_back(scalar(off, 4));  // not the 4 bytes of struct padding after ingress_ifindex
  return t;
}

// sk_reuseport_is_valid_access (6.18): struct sk_reuseport_md, read only, any attach type. data and
// data_end 8-byte packet pointers (the packet from its L4 header); sk one 8-byte load, a PTR_TO_SOCKET
// (the reuseport group's socket), migrating_sk one 8-byte load, a PTR_TO_SOCK_COMMON_OR_NULL; hash a
// whole u32; len, ip_protocol and bind_inany aligned loads of 1, 2 or 4 bytes, eth_protocol of 2 or 4
// (the skb's protocol is a u16); nothing in the padding before sk. No return-value range.
ProgramTypeInfo sk_reuseport() {
  auto t = context_type("sk_reuseport", helper_sets::kSkReuseport, "sk_reuseport_md", sizeof(sk_reuseport_md));
  t.own_signatures.push_back({BPF_FUNC_get_socket_cookie,
                              vm::HelperSignature{vm::RetType::Integer,
                                                  {vm::ArgType::PtrToBtfIdSockCommon, vm::ArgType::DontCare,
                                                   vm::ArgType::DontCare, vm::ArgType::DontCare, vm::ArgType::DontCare},
                                                  true}});
  t.fields.push_back(CtxField{offsetof(sk_reuseport_md, data), 8, false, CtxFieldKind::PacketData});
  t.fields.push_back(CtxField{offsetof(sk_reuseport_md, data_end), 8, false, CtxFieldKind::PacketEnd});
  t.fields.push_back(scalar(offsetof(sk_reuseport_md, len), 4));
  auto eth_protocol = scalar(offsetof(sk_reuseport_md, eth_protocol), 4);
  eth_protocol.min_load_bytes = 2;
  t.fields.push_back(eth_protocol);
  t.fields.push_back(scalar(offsetof(sk_reuseport_md, ip_protocol), 4));
  t.fields.push_back(scalar(offsetof(sk_reuseport_md, bind_inany), 4));
  t.fields.push_back(whole(offsetof(sk_reuseport_md, hash), 4));
  t.fields.push_back(CtxField{offsetof(sk_reuseport_md, sk), 8, false, CtxFieldKind::Socket});
  t.fields.push_back(CtxField{offsetof(sk_reuseport_md, migrating_sk), 8, false, CtxFieldKind::SockCommonOrNull});
  return t;
}

// cg_sockopt_is_valid_access (6.18, measured for both hooks): struct bpf_sockopt. sk a PTR_TO_SOCKET,
// optval/optval_end 8-byte packet pointers (the option buffer, writable); level, optname and optlen
// whole u32 loads, retval too in getsockopt; stores to optlen and retval (getsockopt) or level, optname
// and optlen (setsockopt). r0 at exit: 0 or 1. nullopt for an attach type that is neither hook (the kernel
// refuses the load).
std::optional<ProgramTypeInfo> cgroup_sockopt(std::uint32_t expected_attach_type) {
  const bool get = expected_attach_type == BPF_CGROUP_GETSOCKOPT;
  if (!get && expected_attach_type != BPF_CGROUP_SETSOCKOPT) return std::nullopt;
  auto t = context_type("cgroup_sockopt", get ? std::span<const std::uint8_t>(helper_sets::kCgroupGetsockopt)
                                              : std::span<const std::uint8_t>(helper_sets::kCgroupSetsockopt),
                        "bpf_sockopt", sizeof(bpf_sockopt));
  t.max_return = 1;
  t.packet_writable = true;
  t.fields.push_back(CtxField{offsetof(bpf_sockopt, sk), 8, false, CtxFieldKind::Socket});
  t.fields.push_back(CtxField{offsetof(bpf_sockopt, optval), 8, false, CtxFieldKind::PacketData});
  t.fields.push_back(CtxField{offsetof(bpf_sockopt, optval_end), 8, false, CtxFieldKind::PacketEnd});
  t.fields.push_back(whole(offsetof(bpf_sockopt, level), 4, !get));
  t.fields.push_back(whole(offsetof(bpf_sockopt, optname), 4, !get));
  t.fields.push_back(whole(offsetof(bpf_sockopt, optlen), 4, true));
  if (get) t.fields.push_back(whole(offsetof(bpf_sockopt, retval), 4, true));
  return t;
}

// syscall_prog_is_valid_access: the context is the caller's ctx_in bytes (user memory), read and
// written at any constant offset below U16_MAX aligned to the access's size (so the last access may
// end past byte 65535: no run can then give enough bytes); no fixed layout. Its size
// is known only at the test run, which refuses a ctx_size_in smaller than the furthest byte an access
// reaches (max_ctx_offset): VerifierStats::ctx_bytes_reached.
ProgramTypeInfo syscall() {
  ProgramTypeInfo t;
  t.name = "syscall";
  t.entry = EntryKind::Ctx;
  t.ctx_size_bytes = kSyscallCtxMaxBytes;
  t.ctx_size_at_run = true;  // no fields: checks.cpp ctx_access applies the offset rule
  return t;
}

}  // namespace bpfvm::verifier::program_types
