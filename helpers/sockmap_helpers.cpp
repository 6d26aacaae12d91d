// The sockmap helpers (net/core/sock_map.c): bpf_sk_redirect_map/hash for sk_skb and
// bpf_msg_redirect_map/hash for sk_msg, against the sockets a SOCKMAP or SOCKHASH holds; a program's
// own map_lookup/update_elem there, and sock_ops' bpf_sock_map_update / bpf_sock_hash_update.
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>

#include "helpers/guest_memory.hpp"
#include "helpers/runtime.hpp"
#include "helpers/contexts.hpp"
#include "maps/reuseport_array_map.hpp"
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

// bpf_sk_select_reuseport (sk_select_reuseport, 6.18): the socket at `key` of a REUSEPORT_SOCKARRAY (a
// u32 index), SOCKMAP or SOCKHASH becomes the run's selection (ReuseportCtx::selected_cookie): 0. No
// socket there -ENOENT; a sockmap socket in no reuseport group -EINVAL; one of another group: another
// protocol -EPROTOTYPE, another family -EAFNOSUPPORT. The kernel checks no flags. bpfvm's run has one
// group, the run's socket's: the array's sockets count as in it (the array keeps only their cookies),
// and a sockmap's of the run's protocol and family (the kernel would refuse one bound to another
// address or port, -EBADFD: bpfvm does not know what the run's socket is bound to).
std::uint64_t sk_select_reuseport(std::uint64_t ctx, std::uint64_t m, std::uint64_t key, std::uint64_t, std::uint64_t,
                                  vm::RunContext* run) {
  constexpr const char* what = "bpf_sk_select_reuseport";
  HelperRun* s = run_state(run);
  ReuseportCtx* reuse = s != nullptr ? s->reuseport : nullptr;
  if (reuse == nullptr || reinterpret_cast<std::uintptr_t>(&reuse->md) != ctx)
    return fault(run, std::string(what) + " outside an sk_reuseport run is not supported yet");
  const auto* map = reinterpret_cast<const maps::Map*>(static_cast<std::uintptr_t>(m));
  if (!guest_ok(run, key, map->spec().key_size, false, what)) return 0;
  std::uint64_t cookie = 0;
  if (map->type() == maps::MapType::ReuseportSockarray) {
    std::uint32_t index = 0;
    std::memcpy(&index, ptr(key), sizeof index);
    cookie = static_cast<const maps::ReuseportArrayMap*>(map)->socket_at(index);
    if (cookie == 0) return ret(-ENOENT);
  } else if (map->type() == maps::MapType::Sockmap || map->type() == maps::MapType::Sockhash) {
    maps::SocketRef sk;
    if (!static_cast<const maps::SockMap*>(map)->find(ptr(key), sk)) return ret(-ENOENT);
    if (!sk.reuseport) return ret(-EINVAL);
    if (sk.sock && sk.sock->sock.protocol != reuse->socket.protocol) return ret(-EPROTOTYPE);
    if (sk.sock && sk.sock->sock.family != reuse->socket.family) return ret(-EAFNOSUPPORT);
    cookie = sk.cookie;
  } else {
    return fault(run, std::string(what) + ": map is " + maps::map_type_name(map->type()));
  }
  reuse->selected_cookie = cookie;
  return 0;
}

// The struct bpf_sock a lookup reads of a sock_ops program's socket, from its context: a TCP stream
// socket (family, addresses and ports, state as the context names them). The context keeps remote_port
// in network order in its upper 16 bits (the kernel's ctx rewrite), bpf_sock.dst_port as a __be16;
// local_port is in host order in both. Mark, priority and bound_dev_if are not in the context: 0.
bpf_sock sock_of_ops(const bpf_sock_ops& ops) {
  bpf_sock s{};
  s.family = ops.family;
  s.type = SOCK_STREAM;
  s.protocol = IPPROTO_TCP;
  s.src_ip4 = ops.local_ip4;
  s.dst_ip4 = ops.remote_ip4;
  std::copy(std::begin(ops.local_ip6), std::end(ops.local_ip6), std::begin(s.src_ip6));
  std::copy(std::begin(ops.remote_ip6), std::end(ops.remote_ip6), std::begin(s.dst_ip6));
  s.src_port = ops.local_port;
  s.dst_port = static_cast<__be16>(ops.remote_port >> 16);
  s.state = ops.state;
  s.rx_queue_mapping = -1;
  return s;
}

// sock_map_op_okay: sock_ops may add its socket only once it is established or listening.
bool sock_ops_may_add(std::uint32_t op) {
  return op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ||
         op == BPF_SOCK_OPS_TCP_LISTEN_CB;
}

// bpf_sock_map_update / bpf_sock_hash_update: the context's socket (a TCP socket: sock_map_sk_is_suitable
// holds) at `key`; -EOPNOTSUPP outside the ops sock_map_op_okay takes, else sock_map_update_common's
// answer. The context names the socket's state; bpfvm knows no cookie for it (a host lookup reads 0).
template <int Kind>  // 0: sock_map_update (SOCKMAP, u32 key), 1: sock_hash_update (SOCKHASH)
std::uint64_t sock_ops_update(std::uint64_t ctx, std::uint64_t m, std::uint64_t key, std::uint64_t flags, std::uint64_t,
                              vm::RunContext* run) {
  const char* what = Kind == 0 ? "bpf_sock_map_update" : "bpf_sock_hash_update";
  auto* map = reinterpret_cast<maps::Map*>(static_cast<std::uintptr_t>(m));
  if (map->type() != (Kind == 0 ? maps::MapType::Sockmap : maps::MapType::Sockhash))
    return fault(run, std::string(what) + ": map is " + maps::map_type_name(map->type()));
  if (!guest_ok(run, ctx, sizeof(bpf_sock_ops), false, what) ||
      !guest_ok(run, key, map->spec().key_size, false, what))
    return 0;
  bpf_sock_ops ops;
  std::memcpy(&ops, ptr(ctx), sizeof ops);
  if (!sock_ops_may_add(ops.op)) return ret(-EOPNOTSUPP);
  maps::SocketRef socket;
  socket.tcp = true;
  socket.redirect_allowed = ops.state != BPF_TCP_LISTEN;
  socket.sock = std::make_shared<const maps::ProgramSocket>(maps::ProgramSocket{sock_of_ops(ops), 0});
  return ret(static_cast<maps::SockMap*>(map)->store(ptr(key), socket, flags));
}

}  // namespace

// sock_map_lookup / sock_hash_lookup: an empty slot is NULL; a filled one gives the socket as struct
// bpf_sock (PTR_TO_SOCKET, which the verifier makes the program release), read-only, as it was when it
// was put there (maps/sock_map.hpp). The run remembers it so the socket helpers take it.
std::uint64_t sockmap_lookup_elem(vm::RunContext* run, maps::Map& map, std::uint64_t key) {
  maps::SocketRef socket;
  const maps::ProgramSocket* found = static_cast<maps::SockMap&>(map).lookup_socket(ptr(key));
  if (found == nullptr) {
    if (!static_cast<const maps::SockMap&>(map).find(ptr(key), socket)) return 0;
    return fault(run, "bpf_map_lookup_elem of a socket whose fields bpfvm does not know (an embedder's "
                      "SocketResolver gave none) is not supported yet");
  }
  HelperRun* s = run_state(run);
  if (s == nullptr) return fault(run, "bpf_map_lookup_elem on a sockmap: no HelperRun to hold the socket in");
  const bpf_sock* sock = &found->sock;
  if (std::find(s->map_sockets.begin(), s->map_sockets.end(), sock) == s->map_sockets.end())
    s->map_sockets.push_back(sock);
  return reinterpret_cast<std::uintptr_t>(sock);
}

// sock_map_update_elem: the socket the program points to (the skb's), -EINVAL unless a full socket,
// -EOPNOTSUPP unless sockmap takes it (maps::sockmap_socket), then sock_map_update_common's answer.
std::uint64_t sockmap_update_elem(vm::RunContext* run, maps::Map& map, std::uint64_t key, std::uint64_t sk,
                                  std::uint64_t flags) {
  const char* what = "bpf_map_update_elem";
  if (!guest_ok(run, key, map.spec().key_size, false, what)) return 0;
  const bpf_sock* sock = run_socket(run, sk, what);
  if (sock == nullptr) return 0;
  if (!is_full_socket(*sock)) return ret(-EINVAL);
  maps::SocketFacts facts;
  facts.family = static_cast<int>(sock->family);
  facts.type = static_cast<int>(sock->type);
  facts.protocol = static_cast<int>(sock->protocol);
  facts.state = static_cast<std::uint8_t>(sock->state);
  facts.bound = sock->src_port != 0;
  // A socket a lookup of this run returned is a maps::ProgramSocket (sock its first member): it keeps
  // its cookie, so a host lookup of the new slot reads the socket's, as the kernel's does.
  static_assert(std::is_standard_layout_v<maps::ProgramSocket> && offsetof(maps::ProgramSocket, sock) == 0);
  const HelperRun* s = run_state(run);
  if (s != nullptr && std::find(s->map_sockets.begin(), s->map_sockets.end(), sock) != s->map_sockets.end())
    facts.cookie = reinterpret_cast<const maps::ProgramSocket*>(sock)->cookie;
  maps::SocketRef socket;
  if (int err = maps::sockmap_socket(facts, socket)) return ret(err);
  socket.sock = std::make_shared<const maps::ProgramSocket>(maps::ProgramSocket{*sock, socket.cookie});
  return ret(static_cast<maps::SockMap&>(map).store(ptr(key), socket, flags));
}

void add_sockmap_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  const std::initializer_list<ArgType> by_index{ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::Anything,
                                                ArgType::Anything};
  const std::initializer_list<ArgType> by_key{ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::PtrToMapKey,
                                              ArgType::Anything};
  reg.add(entry(BPF_FUNC_sk_select_reuseport, "bpf_sk_select_reuseport", sk_select_reuseport, rt, RetType::Integer,
                by_key));
  reg.add(entry(BPF_FUNC_sk_redirect_map, "bpf_sk_redirect_map", redirect_map<0>, rt, RetType::Integer, by_index));
  reg.add(entry(BPF_FUNC_msg_redirect_map, "bpf_msg_redirect_map", redirect_map<1>, rt, RetType::Integer, by_index));
  reg.add(entry(BPF_FUNC_sock_map_update, "bpf_sock_map_update", sock_ops_update<0>, rt, RetType::Integer, by_key));
  reg.add(entry(BPF_FUNC_sock_hash_update, "bpf_sock_hash_update", sock_ops_update<1>, rt, RetType::Integer, by_key));
  reg.add(entry(BPF_FUNC_sk_redirect_hash, "bpf_sk_redirect_hash", redirect_hash<0>, rt, RetType::Integer, by_key));
  reg.add(entry(BPF_FUNC_msg_redirect_hash, "bpf_msg_redirect_hash", redirect_hash<1>, rt, RetType::Integer, by_key));
}

}  // namespace bpfvm::helpers::detail
