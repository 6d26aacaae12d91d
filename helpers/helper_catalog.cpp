// The rest of the kernel's helpers: every enum bpf_func_id the families do not implement, with its
// name and the kernel's bpf_func_proto, so the verifier judges every call as the kernel does.
//
// At run time such a helper does what the kernel does in the situation a userspace run is always in
// (no perf event behind a PERF_EVENT_ARRAY slot, no tunnel metadata, no net device, no stack trace,
// no kernel symbols): it returns the kernel's answer there, zeroing the output buffers the verifier
// assumes written, as the kernel's helpers do on their error paths. Where the answer depends on
// kernel state bpfvm does not have yet (a socket, the skb's dst, a cgroup), the run stops with
// "<helper> is not supported yet". Embedders replace any id with HelperRegistry::add.
#include <linux/bpf.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "helpers/guest_memory.hpp"
#include "helpers/kernel_helpers.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

// Helpers newer than the installed <linux/bpf.h> (Debian's is 6.1's); numbers from the 6.2 kernel.
constexpr std::uint32_t BPF_FUNC_cgrp_storage_get = 210, BPF_FUNC_cgrp_storage_delete = 211;

constexpr std::int64_t kNotYet = INT64_MIN;  // the run stops: "<helper> is not supported yet"

struct CatalogRow {
  std::uint32_t id;
  const char* name;
  std::int64_t result;  // what a userspace run gets back, or kNotYet
  RetType ret;
  std::array<ArgType, 5> args;
};

constexpr ArgType A = ArgType::Anything, C = ArgType::PtrToCtx, M = ArgType::ConstMapPtr,
                  K = ArgType::PtrToMapKey, Mem = ArgType::PtrToMem, Out = ArgType::PtrToUninitMem,
                  Sz = ArgType::ConstSize, Sz0 = ArgType::ConstSizeOrZero, Skc = ArgType::PtrToSockCommon,
                  BSkc = ArgType::PtrToBtfIdSockCommon,
                  Btf = ArgType::PtrToBtfId, Dyn = ArgType::PtrToDynptr,
                  Fn = ArgType::PtrToFunc, Long = ArgType::PtrToLong, Int = ArgType::PtrToInt,
                  Kptr = ArgType::PtrToKptr, CtxOrNull = ArgType::PtrToCtxOrNull,
                  Val0 = ArgType::PtrToMapValueOrNull, Btf0 = ArgType::PtrToBtfIdOrNull,
                  Mem0 = ArgType::PtrToMemOrNull;
constexpr RetType I = RetType::Integer, Val = RetType::PtrToMapValueOrNull, Sock = RetType::PtrToSocketOrNull,
                  SockCommon = RetType::PtrToSockCommonOrNull, TcpSock = RetType::PtrToTcpSockOrNull,
                  Obj = RetType::PtrToBtfId;

#define ROW(fn, result, ret, ...) CatalogRow{BPF_FUNC_##fn, "bpf_" #fn, result, ret, {__VA_ARGS__}}

// Sorted by id. The comment says why a row returns what it does.
constexpr CatalogRow kCatalog[] = {
    ROW(clone_redirect, -EINVAL, I, C, A, A),                 // no net device with that ifindex
    ROW(get_cgroup_classid, 0, I, C),                         // no net_cls classid
    ROW(skb_vlan_push, kNotYet, I, C, A, A),  // implemented in vlan_helpers.cpp
    ROW(skb_vlan_pop, kNotYet, I, C),  // implemented in vlan_helpers.cpp
    ROW(skb_get_tunnel_key, -EINVAL, I, C, Out, Sz, A),       // implemented in tunnel_helpers.cpp
    ROW(skb_set_tunnel_key, kNotYet, I, C, Mem, Sz, A),  // implemented in tunnel_helpers.cpp
    ROW(get_route_realm, 0, I, C),                            // no dst on the skb
    ROW(get_stackid, -EFAULT, I, C, M, A),                    // no call chain
    ROW(skb_get_tunnel_opt, -ENOENT, I, C, Out, Sz),          // implemented in tunnel_helpers.cpp
    ROW(skb_set_tunnel_opt, -EINVAL, I, C, Mem, Sz),          // implemented in tunnel_helpers.cpp
    ROW(skb_change_proto, kNotYet, I, C, A, A),  // implemented in packet_helpers.cpp
    ROW(skb_change_type, kNotYet, I, C, A),  // implemented in skb_state_helpers.cpp
    ROW(skb_under_cgroup, kNotYet, I, C, M, A),               // implemented in packet_helpers.cpp
    ROW(get_hash_recalc, kNotYet, I, C),  // implemented in skb_state_helpers.cpp
    ROW(get_current_task, 0, I),                              // no task_struct: NULL (probe reads fault)
    ROW(probe_write_user, -EPERM, I, A, Mem, Sz),             // not from a userspace VM
    ROW(skb_change_tail, kNotYet, I, C, A, A),  // implemented in packet_helpers.cpp
    ROW(skb_pull_data, kNotYet, I, C, A),  // implemented in packet_helpers.cpp
    ROW(csum_update, kNotYet, I, C, A),  // implemented in skb_state_helpers.cpp
    ROW(set_hash_invalid, kNotYet, I, C),  // implemented in skb_state_helpers.cpp
    ROW(skb_change_head, kNotYet, I, C, A, A),  // implemented in packet_helpers.cpp
    ROW(get_socket_cookie, kNotYet, I, C),  // implemented in skb_socket_helpers.cpp (skb contexts)
    ROW(get_socket_uid, kNotYet, I, C),  // implemented in skb_socket_helpers.cpp
    ROW(set_hash, kNotYet, I, C, A),  // implemented in skb_state_helpers.cpp
    ROW(setsockopt, kNotYet, I, C, A, A, Mem, Sz),
    ROW(skb_adjust_room, kNotYet, I, C, A, A, A),  // implemented in packet_helpers.cpp
    ROW(sk_redirect_map, kNotYet, I, C, M, A, A),             // implemented in sockmap_helpers.cpp
    ROW(sock_map_update, kNotYet, I, C, M, K, A),             // implemented in sockmap_helpers.cpp
    ROW(perf_event_read, kNotYet, I, M, A),                   // implemented in ringbuf_helpers.cpp
    ROW(perf_event_read_value, kNotYet, I, M, A, Out, Sz),    // implemented in ringbuf_helpers.cpp
    ROW(perf_prog_read_value, kNotYet, I, C, Out, Sz),
    ROW(getsockopt, kNotYet, I, C, A, A, Out, Sz),
    ROW(override_return, kNotYet, I, C, A),
    ROW(sock_ops_cb_flags_set, kNotYet, I, C, A),             // implemented in socket_helpers.cpp
    ROW(msg_redirect_map, kNotYet, I, C, M, A, A),            // implemented in sockmap_helpers.cpp
    ROW(msg_apply_bytes, kNotYet, I, C, A),  // implemented in msg_helpers.cpp
    ROW(msg_cork_bytes, kNotYet, I, C, A),  // implemented in msg_helpers.cpp
    ROW(msg_pull_data, kNotYet, I, C, A, A, A),  // implemented in msg_helpers.cpp
    ROW(bind, kNotYet, I, C, Mem, Sz),
    ROW(skb_get_xfrm_state, -EINVAL, I, C, A, Out, Sz, A),    // no xfrm sec_path
    ROW(get_stack, -EFAULT, I, C, Out, Sz0, A),               // no call chain
    ROW(fib_lookup, kNotYet, I, C, Mem, Sz, A),               // implemented in packet_helpers.cpp
    ROW(sock_hash_update, kNotYet, I, C, M, K, A),            // implemented in sockmap_helpers.cpp
    ROW(msg_redirect_hash, kNotYet, I, C, M, K, A),           // implemented in sockmap_helpers.cpp
    ROW(sk_redirect_hash, kNotYet, I, C, M, K, A),            // implemented in sockmap_helpers.cpp
    ROW(lwt_push_encap, kNotYet, I, C, A, Mem, Sz),
    ROW(lwt_seg6_store_bytes, kNotYet, I, C, A, Mem, Sz),
    ROW(lwt_seg6_adjust_srh, kNotYet, I, C, A, A),
    ROW(lwt_seg6_action, kNotYet, I, C, A, Mem, Sz0),
    ROW(rc_repeat, kNotYet, I, C),
    ROW(rc_keydown, kNotYet, I, C, A, A, A),
    ROW(skb_cgroup_id, kNotYet, I, C),  // implemented in skb_socket_helpers.cpp
    ROW(get_current_cgroup_id, kNotYet, I),  // implemented in task_helpers.cpp
    ROW(get_local_storage, kNotYet, RetType::PtrToMapValue, M, A),  // implemented in storage_helpers.cpp
    ROW(skb_ancestor_cgroup_id, kNotYet, I, C, A),  // implemented in skb_socket_helpers.cpp
    ROW(sk_lookup_tcp, 0, Sock, C, Mem, Sz, A, A),                // NULL: a process holds no kernel socket to find
    ROW(sk_lookup_udp, 0, Sock, C, Mem, Sz, A, A),                // NULL: no kernel socket
    ROW(sk_release, kNotYet, I, BSkc),  // implemented in socket_helpers.cpp
    ROW(msg_push_data, kNotYet, I, C, A, A, A),  // implemented in msg_helpers.cpp
    ROW(msg_pop_data, kNotYet, I, C, A, A, A),  // implemented in msg_helpers.cpp
    ROW(rc_pointer_rel, kNotYet, I, C, A, A),
    ROW(sk_fullsock, kNotYet, Sock, Skc),  // implemented in socket_helpers.cpp
    ROW(tcp_sock, kNotYet, TcpSock, Skc),  // implemented in socket_helpers.cpp
    ROW(skb_ecn_set_ce, kNotYet, I, C),  // implemented in skb_state_helpers.cpp
    ROW(get_listener_sock, kNotYet, Sock, Skc),  // implemented in socket_helpers.cpp
    ROW(skc_lookup_tcp, 0, SockCommon, C, Mem, Sz, A, A),          // NULL: no kernel socket
    ROW(tcp_check_syncookie, kNotYet, I, BSkc, Mem, Sz, Mem, Sz),
    ROW(sysctl_get_name, kNotYet, I, C, Out, Sz, A),  // implemented in sysctl_helpers.cpp
    ROW(sysctl_get_current_value, kNotYet, I, C, Out, Sz),  // implemented in sysctl_helpers.cpp
    ROW(sysctl_get_new_value, kNotYet, I, C, Out, Sz),  // implemented in sysctl_helpers.cpp
    ROW(sysctl_set_new_value, kNotYet, I, C, Mem, Sz),  // implemented in sysctl_helpers.cpp
    ROW(sk_storage_get, kNotYet, Val, M, BSkc, Val0, A),   // implemented in storage_helpers.cpp
    ROW(sk_storage_delete, kNotYet, I, M, BSkc),         // implemented in storage_helpers.cpp
    ROW(send_signal, kNotYet, I, A),  // implemented in signal_helpers.cpp
    ROW(tcp_gen_syncookie, kNotYet, I, BSkc, Mem, Sz, Mem, Sz),
    ROW(skb_output, kNotYet, I, Btf, M, A, Mem, Sz0),
    ROW(tcp_send_ack, kNotYet, I, Btf, A),
    ROW(send_signal_thread, kNotYet, I, A),  // implemented in signal_helpers.cpp
    ROW(read_branch_records, -ENOENT, I, C, Out, Sz0, A),     // no branch stack
    ROW(get_ns_current_pid_tgid, kNotYet, I, A, A, Out, Sz),  // implemented in task_helpers.cpp
    ROW(xdp_output, kNotYet, I, Btf, M, A, Mem, Sz0),
    ROW(get_netns_cookie, kNotYet, I, CtxOrNull),  // implemented in netns_cookie_helpers.cpp
    ROW(get_current_ancestor_cgroup_id, kNotYet, I, A),  // implemented in task_helpers.cpp
    ROW(sk_assign, kNotYet, I, C, BSkc, A),
    ROW(seq_printf, kNotYet, I, Btf, Mem, Sz, Mem0, Sz0),
    ROW(seq_write, kNotYet, I, Btf, Mem, Sz0),
    ROW(sk_cgroup_id, kNotYet, I, BSkc),
    ROW(sk_ancestor_cgroup_id, kNotYet, I, BSkc, A),
    ROW(csum_level, kNotYet, I, C, A),  // implemented in skb_state_helpers.cpp
    ROW(skc_to_tcp6_sock, kNotYet, Obj, BSkc),
    ROW(skc_to_tcp_sock, kNotYet, Obj, BSkc),
    ROW(skc_to_tcp_timewait_sock, kNotYet, Obj, BSkc),
    ROW(skc_to_tcp_request_sock, kNotYet, Obj, BSkc),
    ROW(skc_to_udp6_sock, kNotYet, Obj, BSkc),
    ROW(get_task_stack, kNotYet, I, Btf, Out, Sz0, A),
    ROW(load_hdr_opt, kNotYet, I, C, Mem, Sz, A),
    ROW(store_hdr_opt, kNotYet, I, C, Mem, Sz, A),
    ROW(reserve_hdr_opt, kNotYet, I, C, A, A),
    ROW(inode_storage_get, kNotYet, Val, M, Btf0, Val0, A),
    ROW(inode_storage_delete, kNotYet, I, M, Btf0),
    ROW(d_path, kNotYet, I, Btf, Out, Sz),
    ROW(copy_from_user, kNotYet, I, Out, Sz0, A),             // implemented in probe_helpers.cpp
    ROW(snprintf_btf, kNotYet, I, Out, Sz, Mem, Sz, A),
    ROW(seq_printf_btf, kNotYet, I, Btf, Mem, Sz, A),
    ROW(skb_cgroup_classid, kNotYet, I, C),  // implemented in skb_socket_helpers.cpp
    ROW(redirect_neigh, kNotYet, I, A, Mem, Sz0, A),  // implemented in packet_helpers.cpp
    ROW(per_cpu_ptr, kNotYet, Obj, Btf, A),
    ROW(this_cpu_ptr, kNotYet, Obj, Btf),
    ROW(redirect_peer, kNotYet, I, A, A),  // implemented in packet_helpers.cpp
    ROW(task_storage_get, kNotYet, Val, M, Btf0, Val0, A),
    ROW(task_storage_delete, kNotYet, I, M, Btf0),
    ROW(get_current_task_btf, kNotYet, Obj),
    ROW(bprm_opts_set, kNotYet, I, Btf, A),
    ROW(ima_inode_hash, kNotYet, I, Btf, Out, Sz),
    ROW(sock_from_file, kNotYet, Obj, Btf),
    ROW(check_mtu, kNotYet, I, C, A, Int, A, A),  // implemented in packet_helpers.cpp
    ROW(sys_bpf, kNotYet, I, A, Mem, Sz),
    ROW(btf_find_by_name_kind, kNotYet, I, Mem, Sz, A, A),
    ROW(sys_close, kNotYet, I, A),
    ROW(get_func_ip, 0, I, C),                                // no probed kernel function
    ROW(get_attach_cookie, 0, I, C),                          // no cookie was attached
    ROW(task_pt_regs, kNotYet, Obj, Btf),
    ROW(get_branch_snapshot, -ENOENT, I, Out, Sz0, A),        // no branch records
    ROW(trace_vprintk, kNotYet, I, Mem, Sz, Mem0, Sz0),       // implemented in print_helpers.cpp
    ROW(skc_to_unix_sock, kNotYet, Obj, BSkc),
    ROW(kallsyms_lookup_name, -ENOENT, I, Mem, Sz, A, Long),  // no kernel symbols in userspace
    ROW(find_vma, kNotYet, I, Btf, A, Fn, A, A),
    ROW(get_func_arg, kNotYet, I, C, A, Long),
    ROW(get_func_ret, kNotYet, I, C, Long),
    ROW(get_func_arg_cnt, kNotYet, I, C),
    ROW(get_retval, kNotYet, I),  // implemented in cgroup_retval_helpers.cpp
    ROW(set_retval, kNotYet, I, A),  // implemented in cgroup_retval_helpers.cpp
    ROW(xdp_load_bytes, kNotYet, I, C, A, Out, Sz),           // implemented in xdp_helpers.cpp
    ROW(xdp_store_bytes, kNotYet, I, C, A, Mem, Sz),          // implemented in xdp_helpers.cpp
    ROW(copy_from_user_task, kNotYet, I, Out, Sz0, A, Btf, A),
    ROW(skb_set_tstamp, kNotYet, I, C, A, A),  // implemented in skb_state_helpers.cpp
    ROW(ima_file_hash, kNotYet, I, Btf, Out, Sz),
    ROW(kptr_xchg, kNotYet, Obj, Kptr, Btf),
    ROW(map_lookup_percpu_elem, kNotYet, Val, M, K, A),  // implemented in map_helpers.cpp
    ROW(skc_to_mptcp_sock, kNotYet, Obj, BSkc),
    ROW(dynptr_from_mem, kNotYet, I, Mem, Sz0, A, Dyn),
    ROW(ringbuf_reserve_dynptr, kNotYet, I, M, A, A, Dyn),           // implemented in ringbuf_helpers.cpp
    ROW(ringbuf_submit_dynptr, kNotYet, RetType::Void, Dyn, A),      // implemented in ringbuf_helpers.cpp
    ROW(ringbuf_discard_dynptr, kNotYet, RetType::Void, Dyn, A),     // implemented in ringbuf_helpers.cpp
    ROW(dynptr_read, kNotYet, I, Out, Sz0, Dyn, A, A),
    ROW(dynptr_write, kNotYet, I, Dyn, A, Mem, Sz0, A),
    ROW(dynptr_data, kNotYet, RetType::PtrToMemOrNull, Dyn, A, ArgType::ConstAllocSizeOrZero),
    // The syncookie helpers take fixed-size header pointers (ARG_PTR_TO_FIXED_SIZE_MEM), which bpfvm's
    // signatures cannot say: the header argument is checked as a plain pointer-sized value.
    ROW(tcp_raw_gen_syncookie_ipv4, kNotYet, I, A, Mem, Sz),
    ROW(tcp_raw_gen_syncookie_ipv6, kNotYet, I, A, Mem, Sz),
    ROW(tcp_raw_check_syncookie_ipv4, kNotYet, I, A, A),
    ROW(tcp_raw_check_syncookie_ipv6, kNotYet, I, A, A),
    ROW(user_ringbuf_drain, kNotYet, I, M, Fn, A, A),
    ROW(cgrp_storage_get, kNotYet, Val, M, Btf0, Val0, A),
    ROW(cgrp_storage_delete, kNotYet, I, M, Btf0),
};
#undef ROW

const CatalogRow* row_of(std::uint32_t id) {
  for (const auto& r : kCatalog)
    if (r.id == id) return &r;
  return nullptr;
}

// Every catalog row's implementation: the row's result, after zeroing what the verifier assumes the
// helper wrote (an ARG_PTR_TO_UNINIT_MEM buffer of the size in the next argument, a long or int).
std::uint64_t catalog_helper(std::uint64_t r1, std::uint64_t r2, std::uint64_t r3, std::uint64_t r4,
                             std::uint64_t r5, vm::RunContext* run) {
  const vm::HelperEntry* e = run->current_helper;
  const CatalogRow* row = row_of(e->id);
  if (row == nullptr || row->result == kNotYet) return fault(run, e->name + " is not supported yet");
  const std::uint64_t r[5] = {r1, r2, r3, r4, r5};
  for (std::size_t i = 0; i < 5; ++i) {
    std::uint64_t size = 0;
    if (row->args[i] == Out && i + 1 < 5) size = r[i + 1];
    else if (row->args[i] == Long) size = 8;
    else if (row->args[i] == Int) size = 4;
    if (size == 0 || r[i] == 0) continue;
    if (!guest_ok(run, r[i], size, true, e->name.c_str())) return 0;
    std::memset(ptr(r[i]), 0, static_cast<std::size_t>(size));
  }
  return static_cast<std::uint64_t>(row->result);
}

}  // namespace

void add_catalog_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  for (const auto& row : kCatalog) {
    vm::HelperEntry e;
    e.id = row.id;
    e.name = row.name;
    e.fn = catalog_helper;
    e.user = &rt;
    e.signature.ret = row.ret;
    e.signature.args = row.args;
    e.signature.known = true;
    reg.add(std::move(e));
  }
}

}  // namespace bpfvm::helpers::detail
