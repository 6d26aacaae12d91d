// Socket helpers on the socket a run's skb carries (SkbCtx::socket, built by test_run or the embedder):
// bpf_sk_fullsock, bpf_tcp_sock, bpf_get_listener_sock, bpf_sk_release, bpf_sk_assign (sk_lookup's, NULL only);
// and sock_ops' bpf_sock_ops_cb_flags_set
// on its context. A socket pointer names either
// the struct bpf_sock or the struct bpf_tcp_sock of that one socket, or a socket this run's
// bpf_map_lookup_elem found in a SOCKMAP/SOCKHASH (HelperRun::map_sockets: a struct bpf_sock only);
// bpfvm builds no other socket (bpf_sk_lookup_* find none), so any other pointer stops the run "not
// supported yet".
#include <algorithm>

#include <linux/bpf.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "helpers/contexts.hpp"
#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

// enum of include/net/tcp_states.h (the values struct bpf_sock.state reports).
constexpr std::uint32_t kTcpTimeWait = 6, kTcpListen = 10, kTcpNewSynRecv = 12;

// A socket a helper may take: its struct bpf_sock, and its struct bpf_tcp_sock when bpfvm has one (the
// skb's socket; a sockmap's socket has none).
struct FoundSocket {
  const bpf_sock* sock = nullptr;
  const bpf_tcp_sock* tcp = nullptr;
};

FoundSocket socket_of(vm::RunContext* run, std::uint64_t sk, const char* helper) {
  const HelperRun* s = run_state(run);
  const SkbCtx::SkbSocket* socket = s != nullptr && s->skb != nullptr ? &s->skb->socket : nullptr;
  if (socket != nullptr && (sk == reinterpret_cast<std::uintptr_t>(&socket->sock) ||
                            sk == reinterpret_cast<std::uintptr_t>(&socket->tcp_sock)))
    return {&socket->sock, &socket->tcp_sock};
  const auto* sock = reinterpret_cast<const bpf_sock*>(static_cast<std::uintptr_t>(sk));
  if (s != nullptr && std::find(s->map_sockets.begin(), s->map_sockets.end(), sock) != s->map_sockets.end())
    return {sock, nullptr};
  fault(run, std::string(helper) + " on a socket other than the skb's or a sockmap's is not supported yet");
  return {};
}

std::uint64_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

std::uint64_t sk_fullsock(std::uint64_t sk, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                          vm::RunContext* run) {
  const FoundSocket socket = socket_of(run, sk, "bpf_sk_fullsock");
  return socket.sock != nullptr && is_full_socket(*socket.sock) ? address(socket.sock) : 0;
}

// A full TCP stream socket's TCP state (bpf_tcp_sock), else NULL.
std::uint64_t tcp_sock(std::uint64_t sk, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                       vm::RunContext* run) {
  const FoundSocket socket = socket_of(run, sk, "bpf_tcp_sock");
  if (socket.sock == nullptr || !is_full_socket(*socket.sock)) return 0;
  const bool tcp = socket.sock->protocol == IPPROTO_TCP && socket.sock->type == SOCK_STREAM;
  if (tcp && socket.tcp == nullptr)  // a host socket's TCP counters are not recorded in its sockmap entry
    return fault(run, "bpf_tcp_sock on a socket from a sockmap is not supported yet");
  return tcp ? address(socket.tcp) : 0;
}

// The listening socket behind sk: sk itself when it listens (bpfvm builds no request sockets), else NULL.
std::uint64_t get_listener_sock(std::uint64_t sk, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                vm::RunContext* run) {
  const FoundSocket socket = socket_of(run, sk, "bpf_get_listener_sock");
  return socket.sock != nullptr && socket.sock->state == kTcpListen ? address(socket.sock) : 0;
}

// bpfvm's sockets hold no reference count: releasing one only ends the program's use of it (the verifier's part).
std::uint64_t sk_release(std::uint64_t sk, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                         vm::RunContext* run) {
  socket_of(run, sk, "bpf_sk_release");
  return 0;
}

// sock_ops programs run on the caller's struct bpf_sock_ops, which stands for the socket: the flags go
// into its bpf_sock_ops_cb_flags field (RunOutput::ctx_out shows them). As the kernel: -EINVAL without a
// full socket (is_fullsock 0), else the requested bits it does not support (outside
// BPF_SOCK_OPS_ALL_CB_FLAGS) are returned and the others stored.
std::uint64_t sock_ops_cb_flags_set(std::uint64_t ctx, std::uint64_t flags, std::uint64_t, std::uint64_t, std::uint64_t,
                                    vm::RunContext* run) {
  const char* name = "bpf_sock_ops_cb_flags_set";
  if (!guest_ok(run, ctx, sizeof(bpf_sock_ops), true, name)) return 0;
  bpf_sock_ops ops;
  std::memcpy(&ops, ptr(ctx), sizeof ops);
  if (ops.is_fullsock == 0) return static_cast<std::uint64_t>(-EINVAL);
  const auto requested = static_cast<std::uint32_t>(flags);
  const std::uint32_t stored = requested & BPF_SOCK_OPS_ALL_CB_FLAGS;
  std::memcpy(ptr(ctx) + offsetof(bpf_sock_ops, bpf_sock_ops_cb_flags), &stored, sizeof stored);
  return requested & ~std::uint32_t{BPF_SOCK_OPS_ALL_CB_FLAGS};
}

// bpf_sk_assign. sk_lookup's (bpf_sk_lookup_assign): flags other than BPF_SK_LOOKUP_F_REPLACE and
// _F_NO_REUSEPORT -EINVAL; NULL selects no socket (0, or -EEXIST over a selection without REPLACE);
// a socket stops the run "not supported yet" (which the kernel would check for its state, protocol
// and family and report as ctx_out's cookie). tc's (an skb's) stops the run "not supported yet".
std::uint64_t sk_assign(std::uint64_t, std::uint64_t sk, std::uint64_t flags, std::uint64_t, std::uint64_t,
                        vm::RunContext* run) {
  HelperRun* s = run_state(run);
  SkLookupCtx* lookup = s != nullptr ? s->sk_lookup : nullptr;
  if (lookup == nullptr) return fault(run, "bpf_sk_assign on an skb is not supported yet");
  if ((flags & ~std::uint64_t{BPF_SK_LOOKUP_F_REPLACE | BPF_SK_LOOKUP_F_NO_REUSEPORT}) != 0)
    return static_cast<std::uint64_t>(-EINVAL);
  if (sk != 0)
    return fault(run, "bpf_sk_assign of a socket is not supported yet (bpfvm's sk_lookup runs select none)");
  if (lookup->md.sk != nullptr && (flags & BPF_SK_LOOKUP_F_REPLACE) == 0) return static_cast<std::uint64_t>(-EEXIST);
  lookup->md.sk = nullptr;
  lookup->no_reuseport = (flags & BPF_SK_LOOKUP_F_NO_REUSEPORT) != 0;
  return 0;
}

}  // namespace

bool is_full_socket(const bpf_sock& sk) { return sk.state != kTcpTimeWait && sk.state != kTcpNewSynRecv; }

const bpf_sock* run_socket(vm::RunContext* run, std::uint64_t sk, const char* helper) {
  return socket_of(run, sk, helper).sock;
}

void add_socket_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_sk_fullsock, "bpf_sk_fullsock", sk_fullsock, rt, RetType::PtrToSocketOrNull,
                {ArgType::PtrToSockCommon}));
  reg.add(entry(BPF_FUNC_tcp_sock, "bpf_tcp_sock", tcp_sock, rt, RetType::PtrToTcpSockOrNull, {ArgType::PtrToSockCommon}));
  reg.add(entry(BPF_FUNC_get_listener_sock, "bpf_get_listener_sock", get_listener_sock, rt, RetType::PtrToSocketOrNull,
                {ArgType::PtrToSockCommon}));
  reg.add(entry(BPF_FUNC_sk_release, "bpf_sk_release", sk_release, rt, RetType::Integer, {ArgType::PtrToBtfIdSockCommon}));
  // tc's prototype; verifier/program_types.cpp gives sk_lookup its own (a socket or NULL).
  reg.add(entry(BPF_FUNC_sk_assign, "bpf_sk_assign", sk_assign, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::PtrToBtfIdSockCommon, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_sock_ops_cb_flags_set, "bpf_sock_ops_cb_flags_set", sock_ops_cb_flags_set, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything}));
}

}  // namespace bpfvm::helpers::detail
