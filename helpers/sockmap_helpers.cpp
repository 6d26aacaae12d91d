// The sockmap redirect helpers (net/core/sock_map.c): bpf_sk_redirect_map/hash for sk_skb and
// bpf_msg_redirect_map/hash for sk_msg, against the sockets a SOCKMAP or SOCKHASH holds.
#include <linux/bpf.h>

#include <cstring>

#include "helpers/guest_memory.hpp"
#include "maps/sock_map.hpp"

namespace bpfvm::helpers::detail {

namespace {

using vm::ArgType;
using vm::RetType;

// The kernel's order: a flag other than BPF_F_INGRESS, no socket at the key or one
// sock_map_redirect_allowed refuses, or an egress redirect to a socket that is not TCP give SK_DROP;
// else the run records the map and (sockmap) key as its redirect target and the helper returns SK_PASS.
std::uint64_t redirect_to(vm::RunContext* run, std::uint64_t m, const void* key, std::uint32_t index,
                          std::uint64_t flags, const char* what) {
  const auto* map = reinterpret_cast<const maps::Map*>(static_cast<std::uintptr_t>(m));
  if (map->type() != maps::MapType::Sockmap && map->type() != maps::MapType::Sockhash)
    return fault(run, std::string(what) + ": map is " + maps::map_type_name(map->type()) + ", not a sockmap/sockhash");
  if (flags & ~static_cast<std::uint64_t>(BPF_F_INGRESS)) return SK_DROP;
  maps::SocketRef sk;
  if (!static_cast<const maps::SockMap*>(map)->find(key, sk) || !sk.redirect_allowed) return SK_DROP;
  if (!(flags & BPF_F_INGRESS) && !sk.tcp) return SK_DROP;
  HelperRun* s = run_state(run);
  if (s == nullptr) return fault(run, std::string(what) + ": no HelperRun to record the redirect in");
  s->redirect = RedirectRecord{true, 0, flags, map, index};
  return SK_PASS;
}

template <int Kind>  // 0: sk_redirect_map, 1: msg_redirect_map (u32 key in r3)
std::uint64_t redirect_map(std::uint64_t, std::uint64_t m, std::uint64_t key, std::uint64_t flags, std::uint64_t,
                           vm::RunContext* run) {
  const auto index = static_cast<std::uint32_t>(key);
  return redirect_to(run, m, &index, index, flags, Kind == 0 ? "bpf_sk_redirect_map" : "bpf_msg_redirect_map");
}

template <int Kind>  // 0: sk_redirect_hash, 1: msg_redirect_hash (key pointer in r3)
std::uint64_t redirect_hash(std::uint64_t, std::uint64_t m, std::uint64_t key, std::uint64_t flags, std::uint64_t,
                            vm::RunContext* run) {
  const char* what = Kind == 0 ? "bpf_sk_redirect_hash" : "bpf_msg_redirect_hash";
  const auto* map = reinterpret_cast<const maps::Map*>(static_cast<std::uintptr_t>(m));
  if (!guest_ok(run, key, map->spec().key_size, false, what)) return 0;
  return redirect_to(run, m, ptr(key), 0, flags, what);
}

}  // namespace

void add_sockmap_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  const std::initializer_list<ArgType> by_index{ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::Anything,
                                                ArgType::Anything};
  const std::initializer_list<ArgType> by_key{ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::PtrToMapKey,
                                              ArgType::Anything};
  reg.add(entry(BPF_FUNC_sk_redirect_map, "bpf_sk_redirect_map", redirect_map<0>, rt, RetType::Integer, by_index));
  reg.add(entry(BPF_FUNC_msg_redirect_map, "bpf_msg_redirect_map", redirect_map<1>, rt, RetType::Integer, by_index));
  reg.add(entry(BPF_FUNC_sk_redirect_hash, "bpf_sk_redirect_hash", redirect_hash<0>, rt, RetType::Integer, by_key));
  reg.add(entry(BPF_FUNC_msg_redirect_hash, "bpf_msg_redirect_hash", redirect_hash<1>, rt, RetType::Integer, by_key));
}

}  // namespace bpfvm::helpers::detail
