// Test support for the verifier suites.
#include "tests/verifier/verifier_test_support.hpp"

#include <linux/bpf.h>

#include <algorithm>

namespace bpfvm::verifier::test {

using vm::ArgType;
using vm::RetType;

namespace {
std::uint64_t return_zero(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, vm::RunContext*) {
  return 0;
}

void add(vm::HelperRegistry& r, std::uint32_t id, const char* name, RetType ret, std::array<ArgType, 5> args) {
  vm::HelperEntry e;
  e.id = id;
  e.name = name;
  e.fn = return_zero;
  e.signature = vm::HelperSignature{ret, args, true};
  r.add(std::move(e));
}
}  // namespace

vm::HelperRegistry kernel_like_helpers() {
  vm::HelperRegistry r;
  constexpr auto D = ArgType::DontCare;
  constexpr auto A = ArgType::Anything;
  add(r, 1, "bpf_map_lookup_elem", RetType::PtrToMapValueOrNull, {ArgType::ConstMapPtr, ArgType::PtrToMapKey, D, D, D});
  add(r, 2, "bpf_map_update_elem", RetType::Integer,
      {ArgType::ConstMapPtr, ArgType::PtrToMapKey, ArgType::PtrToMapValue, A, D});
  add(r, 3, "bpf_map_delete_elem", RetType::Integer, {ArgType::ConstMapPtr, ArgType::PtrToMapKey, D, D, D});
  add(r, 4, "bpf_probe_read", RetType::Integer, {ArgType::PtrToUninitMem, ArgType::ConstSizeOrZero, A, D, D});
  vm::HelperEntry ktime;
  ktime.id = 5;
  ktime.name = "bpf_ktime_get_ns";
  ktime.fn = return_zero;
  r.add(ktime);  // no signature: the conformance suite calls it with r1 = -1
  add(r, 6, "bpf_trace_printk", RetType::Integer, {ArgType::PtrToMem, ArgType::ConstSize, D, D, D});
  add(r, 7, "bpf_get_prandom_u32", RetType::Integer, {D, D, D, D, D});
  add(r, 87, "bpf_map_push_elem", RetType::Integer, {ArgType::ConstMapPtr, ArgType::PtrToMapValue, A, D, D});
  add(r, 88, "bpf_map_pop_elem", RetType::Integer, {ArgType::ConstMapPtr, ArgType::PtrToUninitMapValue, D, D, D});
  add(r, 89, "bpf_map_peek_elem", RetType::Integer, {ArgType::ConstMapPtr, ArgType::PtrToUninitMapValue, D, D, D});
  add(r, 12, "bpf_tail_call", RetType::Integer, {ArgType::PtrToCtx, ArgType::ConstMapPtr, A, D, D});
  add(r, 51, "bpf_redirect_map", RetType::Integer, {ArgType::ConstMapPtr, A, A, D, D});
  add(r, 52, "bpf_sk_redirect_map", RetType::Integer, {ArgType::PtrToCtx, ArgType::ConstMapPtr, A, A, D});
  add(r, 53, "bpf_sock_map_update", RetType::Integer, {ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::PtrToMapKey, A, D});
  add(r, 70, "bpf_sock_hash_update", RetType::Integer, {ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::PtrToMapKey, A, D});
  add(r, 72, "bpf_sk_redirect_hash", RetType::Integer, {ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::PtrToMapKey, A, D});
  add(r, 71, "bpf_msg_redirect_hash", RetType::Integer, {ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::PtrToMapKey, A, D});
  add(r, 61, "bpf_msg_apply_bytes", RetType::Integer, {ArgType::PtrToCtx, A, D, D, D});
  add(r, 62, "bpf_msg_cork_bytes", RetType::Integer, {ArgType::PtrToCtx, A, D, D, D});
  add(r, 26, "bpf_skb_load_bytes", RetType::Integer, {ArgType::PtrToCtx, A, ArgType::PtrToUninitMem, ArgType::ConstSize, D});
  add(r, 93, "bpf_spin_lock", RetType::Void, {ArgType::PtrToSpinLock, D, D, D, D});
  add(r, 94, "bpf_spin_unlock", RetType::Void, {ArgType::PtrToSpinLock, D, D, D, D});
  add(r, 44, "bpf_xdp_adjust_head", RetType::Integer, {ArgType::PtrToCtx, A, D, D, D});
  add(r, 130, "bpf_ringbuf_output", RetType::Integer, {ArgType::ConstMapPtr, ArgType::PtrToMem, ArgType::ConstSizeOrZero, A, D});
  add(r, 131, "bpf_ringbuf_reserve", RetType::PtrToAllocMemOrNull, {ArgType::ConstMapPtr, ArgType::ConstAllocSizeOrZero, A, D, D});
  add(r, 132, "bpf_ringbuf_submit", RetType::Void, {ArgType::PtrToRingbufMem, A, D, D, D});
  add(r, 133, "bpf_ringbuf_discard", RetType::Void, {ArgType::PtrToRingbufMem, A, D, D, D});
  add(r, 198, "bpf_ringbuf_reserve_dynptr", RetType::Integer, {ArgType::ConstMapPtr, A, A, ArgType::PtrToDynptr, D});
  add(r, 199, "bpf_ringbuf_submit_dynptr", RetType::Void, {ArgType::PtrToDynptr, A, D, D, D});
  add(r, 200, "bpf_ringbuf_discard_dynptr", RetType::Void, {ArgType::PtrToDynptr, A, D, D, D});
  add(r, 203, "bpf_dynptr_data", RetType::PtrToMemOrNull, {ArgType::PtrToDynptr, A, ArgType::ConstAllocSizeOrZero, D, D});
  add(r, 22, "bpf_perf_event_read", RetType::Integer, {ArgType::ConstMapPtr, A, D, D, D});
  add(r, 181, "bpf_loop", RetType::Integer, {A, ArgType::PtrToFunc, ArgType::PtrToStack, A, D});
  add(r, 84, "bpf_sk_lookup_tcp", RetType::PtrToSocketOrNull,
      {ArgType::PtrToCtx, ArgType::PtrToMem, ArgType::ConstSize, A, A});
  add(r, 86, "bpf_sk_release", RetType::Integer, {ArgType::PtrToBtfIdSockCommon, D, D, D, D});
  add(r, 124, "bpf_sk_assign", RetType::Integer, {ArgType::PtrToCtx, ArgType::PtrToBtfIdSockCommon, A, D, D});
  add(r, 95, "bpf_sk_fullsock", RetType::PtrToSocketOrNull, {ArgType::PtrToSockCommon, D, D, D, D});
  add(r, 122, "bpf_get_netns_cookie", RetType::Integer, {ArgType::PtrToCtxOrNull, D, D, D, D});
  add(r, 107, "bpf_sk_storage_get", RetType::PtrToMapValueOrNull,
      {ArgType::ConstMapPtr, ArgType::PtrToBtfIdSockCommon, ArgType::PtrToMapValueOrNull, A, D});
  add(r, 46, "bpf_get_socket_cookie", RetType::Integer, {ArgType::PtrToCtx, D, D, D, D});
  add(r, 82, "bpf_sk_select_reuseport", RetType::Integer,
      {ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::PtrToMapKey, A, D});
  add(r, 68, "bpf_skb_load_bytes_relative", RetType::Integer,
      {ArgType::PtrToCtx, A, ArgType::PtrToUninitMem, ArgType::ConstSize, A});
  add(r, 108, "bpf_sk_storage_delete", RetType::Integer, {ArgType::ConstMapPtr, ArgType::PtrToBtfIdSockCommon, D, D, D});
  add(r, 101, "bpf_sysctl_get_name", RetType::Integer, {ArgType::PtrToCtx, ArgType::PtrToUninitMem, ArgType::ConstSize, A, D});
  add(r, 102, "bpf_sysctl_get_current_value", RetType::Integer, {ArgType::PtrToCtx, ArgType::PtrToUninitMem, ArgType::ConstSize, D, D});
  add(r, 103, "bpf_sysctl_get_new_value", RetType::Integer, {ArgType::PtrToCtx, ArgType::PtrToUninitMem, ArgType::ConstSize, D, D});
  add(r, 104, "bpf_sysctl_set_new_value", RetType::Integer, {ArgType::PtrToCtx, ArgType::PtrToMem, ArgType::ConstSize, D, D});
  add(r, 105, "bpf_strtol", RetType::Integer, {ArgType::PtrToMem, ArgType::ConstSize, A, ArgType::PtrToLong, D});
  add(r, 106, "bpf_strtoul", RetType::Integer, {ArgType::PtrToMem, ArgType::ConstSize, A, ArgType::PtrToLong, D});
  return r;
}

std::vector<MapInfo> suite_maps() {
  return {
      MapInfo{1, 4, 8, 1024, 0},          // BPF_MAP_TYPE_HASH
      MapInfo{2, 4, 64, 16, 0},           // BPF_MAP_TYPE_ARRAY
      MapInfo{27, 0, 0, 4096, 0},         // BPF_MAP_TYPE_RINGBUF
      MapInfo{2, 4, 16, 1, 1u << 7},      // BPF_MAP_TYPE_ARRAY, BPF_F_RDONLY_PROG
      MapInfo{12, 4, 4, 4, 0, std::make_shared<const MapInfo>(MapInfo{1, 4, 8, 64, 0})},  // ARRAY_OF_MAPS of hashes
      MapInfo{1, 4, 16, 64, 0, nullptr, 0},  // BPF_MAP_TYPE_HASH, value { struct bpf_spin_lock; u32; u64 }
      MapInfo{22, 0, 8, 16, 0},           // BPF_MAP_TYPE_QUEUE (pop/peek write their value argument)
      MapInfo{3, 4, 4, 4, 0},             // BPF_MAP_TYPE_PROG_ARRAY (bpf_tail_call)
      MapInfo{14, 4, 8, 4, 0},            // BPF_MAP_TYPE_DEVMAP (bpf_redirect_map, lookups)
      MapInfo{15, 4, 8, 4, 0},            // BPF_MAP_TYPE_SOCKMAP (sk/msg_redirect_map, sock_map_update)
      MapInfo{18, 4, 8, 4, 0},            // BPF_MAP_TYPE_SOCKHASH (sk/msg_redirect_hash, sock_hash_update)
      MapInfo{24, 4, 16, 0, 1},           // BPF_MAP_TYPE_SK_STORAGE, BPF_F_NO_PREALLOC (bpf_sk_storage_get/delete)
      MapInfo{20, 4, 8, 4, 0},            // BPF_MAP_TYPE_REUSEPORT_SOCKARRAY (bpf_sk_select_reuseport)
      MapInfo{3, 4, 4, 8, 0},             // a second BPF_MAP_TYPE_PROG_ARRAY (tail calls through either)
  };
}

VerifierOptions options_for(const std::filesystem::path& file, std::uint32_t mem_size, const vm::HelperRegistry& helpers) {
  VerifierOptions o;
  const std::string name = file.filename().string();
  auto starts = [&](const char* p) { return name.rfind(p, 0) == 0; };
  if (starts("xdp-")) o.program_type = program_types::xdp();
  else if (starts("tc-")) o.program_type = program_types::sched_cls();
  else if (starts("socket-")) o.program_type = program_types::socket_filter();
  else if (starts("kprobe-")) o.program_type = program_types::kprobe();
  else if (starts("tracepoint-")) o.program_type = program_types::tracepoint();
  else if (starts("rawtp-")) o.program_type = program_types::raw_tracepoint();
  else if (starts("cgskb-")) o.program_type = program_types::cgroup_skb();
  else if (starts("lwtin-")) o.program_type = program_types::lwt_in();
  else if (starts("lwtxmit-")) o.program_type = program_types::lwt_xmit();
  else if (starts("sockops-")) o.program_type = program_types::sock_ops();
  else if (starts("skskb-")) o.program_type = program_types::sk_skb();
  else if (starts("skmsg-")) o.program_type = program_types::sk_msg();
  else if (starts("seg6local-")) o.program_type = program_types::lwt_seg6local();
  else if (starts("flow-")) o.program_type = program_types::flow_dissector();
  else if (starts("rawtpw-")) o.program_type = program_types::raw_tracepoint_writable();
  else if (starts("getsockopt-")) o.program_type = *program_types::cgroup_sockopt(BPF_CGROUP_GETSOCKOPT);
  else if (starts("setsockopt-")) o.program_type = *program_types::cgroup_sockopt(BPF_CGROUP_SETSOCKOPT);
  else if (starts("sklookup-")) o.program_type = program_types::sk_lookup();
  else if (starts("skreuseport-")) o.program_type = program_types::sk_reuseport();
  else if (starts("sysctl-")) o.program_type = program_types::cgroup_sysctl();
  else o.program_type = program_types::plain(mem_size);
  o.unprivileged = starts("unpriv-");
  o.maps = suite_maps();
  o.helpers = &helpers;
  return o;
}

std::vector<std::filesystem::path> data_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".data") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace bpfvm::verifier::test
