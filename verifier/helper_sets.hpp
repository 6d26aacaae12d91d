// The helpers each kernel program type may call: the ids whose call the 6.18 kernel's verifier does not
// refuse with "program of this type cannot use helper" (env->ops->get_func_proto), for a privileged
// loader (CAP_SYS_ADMIN, CAP_PERFMON, GPL licence). Measured, not transcribed: loading `call N; r0 = 0;
// exit` for every id, type and (where it matters) expected attach type, as
// tests/verifier/test_kernel_helper_sets.cpp does again against the running kernel.
//
// As the kernel's *_func_proto fall back to bpf_base_func_proto (and the socket types to
// bpf_sk_base_func_proto), each set is a union of shared groups and the type's own ids; unite<>() builds
// the sorted id array at compile time. All ids are below 256 (helper ids end at 211).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace bpfvm::verifier::helper_sets {

// Ids above this are not kernel helpers (embedders' own): no program type restricts them.
inline constexpr std::uint32_t kLastKernelHelper = 211;  // BPF_FUNC_cgrp_storage_delete

namespace detail {
template <const auto&... Parts>
constexpr std::array<bool, 256> members() {
  std::array<bool, 256> in{};
  auto mark = [&in](const auto& part) {
    for (const auto id : part) in[id] = true;
  };
  (mark(Parts), ...);
  return in;
}
template <const auto&... Parts>
constexpr std::size_t count() {
  std::size_t n = 0;
  for (const bool b : members<Parts...>()) n += b;
  return n;
}
}  // namespace detail

/// The sorted union of id groups.
template <const auto&... Parts>
constexpr std::array<std::uint8_t, detail::count<Parts...>()> unite() {
  const auto in = detail::members<Parts...>();
  std::array<std::uint8_t, detail::count<Parts...>()> out{};
  std::size_t n = 0;
  for (std::size_t id = 0; id < in.size(); ++id)
    if (in[id]) out[n++] = static_cast<std::uint8_t>(id);
  return out;
}

// Shared groups.
// bpf_base_func_proto: what every type may call (map ops, ktime, prandom, tail_call, printk, ringbuf,
// spin locks, loop, strtol, dynptr, ...); the intersection of every measured set.
inline constexpr std::uint8_t kBase[] = {
    1, 2, 3, 5, 6, 7, 8, 12, 14, 15, 16, 17, 22, 35, 37, 42, 55, 80, 87, 88, 89, 93, 94, 105, 106, 109,
    112, 113, 114, 115, 117, 118, 120, 123, 125, 130, 131, 132, 133, 134, 141, 148, 149, 153, 154, 156,
    157, 158, 164, 165, 169, 170, 171, 172, 175, 176, 177, 180, 181, 182, 191, 194, 195, 197, 198, 199,
    200, 201, 202, 203, 208, 209, 210, 211,
};
// bpf_sk_base_func_proto: the skc_to_* casts (136-140, 178, 196) and ktime_get_coarse_ns (160).
inline constexpr std::uint8_t kSkCasts[] = {136, 137, 138, 139, 140, 160, 178, 196};
// Tracing: probe_read(_str), get_stackid, get_stack, perf_event_output, get_func_ip, get_attach_cookie.
inline constexpr std::uint8_t kTracing[] = {4, 25, 27, 45, 67, 173, 174};
// sk_lookup_tcp, sk_lookup_udp, sk_release, skc_lookup_tcp.
inline constexpr std::uint8_t kSkLookup[] = {84, 85, 86, 99};
// skb_load_bytes, get_socket_cookie, get_socket_uid, skb_load_bytes_relative.
inline constexpr std::uint8_t kSkbLoad[] = {26, 46, 47, 68};
// sk_storage_get, sk_storage_delete.
inline constexpr std::uint8_t kSkStorage[] = {107, 108};
// get_retval, set_retval: cgroup hooks whose return value reaches the caller (cgroup_common_func_proto).
inline constexpr std::uint8_t kCgroupRetval[] = {186, 187};

// Each type's own ids.
namespace own {
inline constexpr std::uint8_t kSocketFilter[] = {25, 122};
inline constexpr std::uint8_t kSchedCls[] = {
    9, 10, 11, 13, 18, 19, 20, 21, 23, 24, 25, 28, 29, 30, 31, 32, 33, 34, 38, 39, 40, 41, 43, 48, 50, 66,
    69, 79, 83, 95, 96, 97, 98, 100, 110, 122, 124, 135, 151, 152, 155, 163, 192, 204, 205, 206, 207,
};
inline constexpr std::uint8_t kXdp[] = {
    23, 25, 28, 44, 51, 54, 65, 69, 100, 110, 163, 188, 189, 190, 204, 205, 206, 207,
};
inline constexpr std::uint8_t kCgroupSkb[] = {25, 79, 81, 83, 95, 96, 97, 98, 122, 128, 129};
inline constexpr std::uint8_t kLwt[] = {24, 25, 26, 28, 33, 34, 39};  // lwt_out; lwt_in adds lwt_push_encap (73)
inline constexpr std::uint8_t kLwtPushEncap[] = {73};
inline constexpr std::uint8_t kLwtXmit[] = {9, 10, 11, 13, 20, 21, 23, 29, 30, 38, 40, 41, 43, 135};
inline constexpr std::uint8_t kCgroupSock[] = {25, 46, 81, 107, 122, 160};
inline constexpr std::uint8_t kCgroupSockAddr[] = {25, 46, 49, 57, 81, 122};
inline constexpr std::uint8_t kBind[] = {64};  // bpf_bind: connect4/connect6 only
inline constexpr std::uint8_t kCgroupDevice[] = {25, 81};
inline constexpr std::uint8_t kCgroupSysctl[] = {25, 81, 101, 102, 103, 104, 160};
inline constexpr std::uint8_t kPerfEvent[] = {56, 119};  // perf_prog_read_value, read_branch_records
// perf_event_output, get_socket_cookie, setsockopt, sock_map_update, getsockopt, sock_ops_cb_flags_set,
// sock_hash_update, get_local_storage, tcp_sock, sk_storage_get/delete, get_netns_cookie, *_hdr_opt.
inline constexpr std::uint8_t kSockOps[] = {25, 46, 49, 53, 57, 59, 70, 81, 96, 107, 108, 122, 142, 143, 144};
// tracing_prog_func_proto (tp_btf): get_socket_cookie, sk_storage_get/delete, skb_output, xdp_output,
// the skc_to_* casts, d_path, copy_from_user_task, seq/snprintf_btf... as measured (not coarse ktime, 160).
inline constexpr std::uint8_t kTracing[] = {46, 107, 108, 111, 121, 136, 137, 138, 139, 140, 147, 162, 178, 188, 196};
// skb_store_bytes, perf_event_output, skb_pull_data, skb_change_tail, skb_load_bytes, get_socket_cookie,
// get_socket_uid, skb_change_head, skb_adjust_room, sk_redirect_map, sk_redirect_hash.
inline constexpr std::uint8_t kSkSkb[] = {9, 25, 26, 38, 39, 43, 46, 47, 50, 52, 72};
// perf_event_output, msg_redirect_map, msg_apply_bytes, msg_cork_bytes, msg_pull_data, msg_redirect_hash,
// msg_push_data, msg_pop_data, get_current_cgroup_id.
inline constexpr std::uint8_t kSkMsg[] = {25, 60, 61, 62, 63, 71, 90, 91, 122};
// perf_event_output, get_local_storage, tcp_sock, get_current_cgroup_id; setsockopt adds bpf_setsockopt
// and bpf_getsockopt.
inline constexpr std::uint8_t kCgroupSockopt[] = {25, 81, 96, 122};
inline constexpr std::uint8_t kSockoptCalls[] = {49, 57};
}  // namespace own

// BPF_PROG_TYPE_SOCKET_FILTER (1)
inline constexpr auto kSocketFilter = unite<kBase, kSkCasts, kSkbLoad, own::kSocketFilter>();
// BPF_PROG_TYPE_KPROBE (2), TRACEPOINT (5), RAW_TRACEPOINT (17)
inline constexpr auto kKprobe = unite<kBase, kTracing>();
inline constexpr auto kTracepoint = kKprobe;
inline constexpr auto kRawTracepoint = kKprobe;
// BPF_PROG_TYPE_TRACING (26), expected attach type BPF_TRACE_RAW_TP (tp_btf)
inline constexpr auto kTracingRawTp = unite<kBase, kTracing, own::kTracing>();
// BPF_PROG_TYPE_PERF_EVENT (7)
inline constexpr auto kPerfEvent = unite<kBase, kTracing, own::kPerfEvent>();
// BPF_PROG_TYPE_SCHED_CLS (3), SCHED_ACT (4)
inline constexpr auto kSchedCls = unite<kBase, kSkCasts, kSkLookup, kSkbLoad, kSkStorage, own::kSchedCls>();
// BPF_PROG_TYPE_XDP (6)
inline constexpr auto kXdp = unite<kBase, kSkCasts, kSkLookup, own::kXdp>();
// BPF_PROG_TYPE_CGROUP_SKB (8)
inline constexpr auto kCgroupSkb = unite<kBase, kSkCasts, kSkLookup, kSkbLoad, kSkStorage, own::kCgroupSkb>();
// BPF_PROG_TYPE_CGROUP_SOCK (9), every attach type
inline constexpr auto kCgroupSock = unite<kBase, kCgroupRetval, own::kCgroupSock>();
// BPF_PROG_TYPE_LWT_IN (10), LWT_OUT (11), LWT_XMIT (12)
inline constexpr auto kLwtIn = unite<kBase, kSkCasts, own::kLwt, own::kLwtPushEncap>();
inline constexpr auto kLwtOut = unite<kBase, kSkCasts, own::kLwt>();
inline constexpr auto kLwtXmit = unite<kBase, kSkCasts, own::kLwt, own::kLwtPushEncap, own::kLwtXmit>();
// BPF_PROG_TYPE_LWT_SEG6LOCAL (19): lwt_out's set on the 6.18 test kernel, which is built without
// CONFIG_IPV6_SEG6_BPF (with it the kernel adds lwt_seg6_store_bytes, adjust_srh and action: 74-76).
inline constexpr auto kLwtSeg6local = kLwtOut;
// BPF_PROG_TYPE_CGROUP_SOCK_ADDR (18): get/set_retval except where the hook's return value is fixed
// (getpeername, getsockname, recvmsg); bpf_bind from connect only.
inline constexpr auto kCgroupSockAddrFixedReturn =
    unite<kBase, kSkCasts, kSkLookup, kSkStorage, own::kCgroupSockAddr>();
inline constexpr auto kCgroupSockAddr = unite<kBase, kSkCasts, kSkLookup, kSkStorage, kCgroupRetval, own::kCgroupSockAddr>();
inline constexpr auto kCgroupSockAddrConnect =
    unite<kBase, kSkCasts, kSkLookup, kSkStorage, kCgroupRetval, own::kCgroupSockAddr, own::kBind>();

// BPF_PROG_TYPE_CGROUP_DEVICE (15)
inline constexpr auto kCgroupDevice = unite<kBase, own::kCgroupDevice>();
// BPF_PROG_TYPE_SOCK_OPS (13)
inline constexpr auto kSockOps = unite<kBase, kSkCasts, own::kSockOps>();
// BPF_PROG_TYPE_SK_SKB (14), every attach type
inline constexpr auto kSkSkb = unite<kBase, kSkCasts, kSkLookup, own::kSkSkb>();
// BPF_PROG_TYPE_SK_MSG (16)
inline constexpr auto kSkMsg = unite<kBase, kSkCasts, kSkStorage, own::kSkMsg>();
// BPF_PROG_TYPE_CGROUP_SOCKOPT (25): getsockopt, setsockopt
inline constexpr auto kCgroupGetsockopt = unite<kBase, kSkStorage, kCgroupRetval, own::kCgroupSockopt>();
inline constexpr auto kCgroupSetsockopt = unite<kBase, kSkStorage, kCgroupRetval, own::kCgroupSockopt, own::kSockoptCalls>();
// BPF_PROG_TYPE_FLOW_DISSECTOR (22): bpf_sk_base_func_proto and skb_load_bytes (the flow dissector's own)
inline constexpr std::uint8_t kFlowDissectorLoadBytes[] = {26};
inline constexpr auto kFlowDissector = unite<kBase, kSkCasts, kFlowDissectorLoadBytes>();
// BPF_PROG_TYPE_CGROUP_SYSCTL (23)
inline constexpr auto kCgroupSysctl = unite<kBase, own::kCgroupSysctl>();
// BPF_PROG_TYPE_SK_LOOKUP (30): bpf_sk_base_func_proto and perf_event_output, sk_release, sk_assign
// (sk_lookup_func_proto; its sk_assign takes a socket or NULL).
inline constexpr std::uint8_t kSkLookupOwn[] = {25, 86, 124};
inline constexpr auto kSkLookupProg = unite<kBase, kSkCasts, kSkLookupOwn>();
// BPF_PROG_TYPE_SK_REUSEPORT (21): bpf_base_func_proto and sk_select_reuseport, skb_load_bytes,
// skb_load_bytes_relative, get_socket_cookie (of a socket pointer) (sk_reuseport_func_proto), and
// ktime_get_coarse_ns (measured: 6.18 gives it too).
inline constexpr std::uint8_t kSkReuseportOwn[] = {26, 46, 68, 82, 160};
inline constexpr auto kSkReuseport = unite<kBase, kSkReuseportOwn>();

}  // namespace bpfvm::verifier::helper_sets
