// The __sk_buff helpers that answer from the skb's socket (net/core/filter.c as 6.18 answers
// BPF_PROG_TEST_RUN, whose skb carries a socket the kernel allocates for the calling task, in its
// network namespace and cgroup): bpf_get_socket_cookie, bpf_get_socket_uid,
// bpf_skb_cgroup_classid, bpf_skb_cgroup_id, bpf_skb_ancestor_cgroup_id. What the kernel reads from
// its socket bpfvm reads from the process: the cgroup v2 directory of the calling thread (its inode
// number is the cgroup id). bpf_get_netns_cookie is netns_cookie_helpers.cpp's, for every context.
#include <linux/bpf.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "helpers/skb_access.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

// The run's skb socket (nullptr: the skb has none), or a fault for an sk_skb run, whose socket bpfvm
// makes up (no kernel oracle says what these helpers read there).
const bpf_sock* test_run_socket(vm::RunContext* run, const SkbCtx& skb, const char* helper) {
  if (skb.frame_begin != 0) {
    fault(run, std::string(helper) + " is not supported yet for sk_skb");
    return nullptr;
  }
  return reinterpret_cast<const bpf_sock*>(static_cast<std::uintptr_t>(skb.sk));
}

// bpf_get_socket_cookie(skb): skb->sk ? its cookie : 0. The test-run socket is new for each test run
// (repetitions share it), so its cookie is drawn once per HelperRun from a process-wide counter; the
// kernel's comes from its own global counter: a different number, the same pattern (never 0, one per
// test run). Other contexts (sock_addr, sock, sock_ops, sk_reuseport's socket) stop "not supported yet".
std::uint64_t get_socket_cookie(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                vm::RunContext* run) {
  static std::atomic<std::uint64_t> next_cookie{1};
  HelperRun* s = run_state(run);
  if (s == nullptr || s->skb == nullptr || reinterpret_cast<std::uintptr_t>(s->skb) != ctx)
    return fault(run, "bpf_get_socket_cookie is not supported yet outside an __sk_buff context");
  if (test_run_socket(run, *s->skb, "bpf_get_socket_cookie") == nullptr) return 0;  // faulted, or no socket
  if (s->socket_cookie == 0) s->socket_cookie = next_cookie.fetch_add(1, std::memory_order_relaxed);
  return s->socket_cookie;
}

// bpf_get_socket_uid(skb): the socket's sk_uid, or overflowuid (65534) without a full socket. The
// test-run socket has no struct socket behind it and its sk_uid is root's: 0.
std::uint64_t get_socket_uid(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                             vm::RunContext* run) {
  constexpr std::uint64_t kOverflowUid = 65534;
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  const bpf_sock* sk = test_run_socket(run, *skb, "bpf_get_socket_uid");
  if (run->faulted()) return 0;
  return sk != nullptr && is_full_socket(*sk) ? 0 : kOverflowUid;
}

// bpf_skb_cgroup_classid(skb): the net_cls classid the socket took from its task, 0 without a full
// socket. A task outside any net_cls (cgroup v1) hierarchy has classid 0; inside one the run stops
// "not supported yet".
std::uint64_t skb_cgroup_classid(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                 vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  const bpf_sock* sk = test_run_socket(run, *skb, "bpf_skb_cgroup_classid");
  if (run->faulted() || sk == nullptr || !is_full_socket(*sk)) return 0;
  std::ifstream cgroups("/proc/thread-self/cgroup");
  std::string line;
  while (std::getline(cgroups, line))
    if (line.find("net_cls") != std::string::npos && !line.ends_with(":/"))
      return fault(run, "bpf_skb_cgroup_classid in a net_cls cgroup is not supported yet");
  return 0;
}

// The id of the socket's (the calling thread's) cgroup v2 ancestor at `level` (0 = the root; the
// cgroup itself when `level` is nullopt): 0 for a negative level or one below the cgroup; the run stops
// "not supported yet" when the cgroup is unknown (process_identity.hpp).
std::uint64_t cgroup_id_answer(vm::RunContext* run, std::uint64_t ctx, std::optional<std::int32_t> level,
                               const char* helper) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  const bpf_sock* sk = test_run_socket(run, *skb, helper);
  if (run->faulted() || sk == nullptr || !is_full_socket(*sk)) return 0;
  std::vector<std::uint64_t> scratch;
  const auto& ids = runtime_of(run).process.cgroup_ids(run_state(run), scratch);
  if (ids.empty())
    return fault(run, std::string(helper) + " is not supported yet: this process's cgroup v2 directory is unknown");
  if (!level) return ids.back();
  return *level < 0 || static_cast<std::size_t>(*level) >= ids.size() ? 0 : ids[static_cast<std::size_t>(*level)];
}

// bpf_skb_cgroup_id(skb): the id of the socket's cgroup v2 (the calling thread's), 0 without a full socket.
std::uint64_t skb_cgroup_id(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  return cgroup_id_answer(run, ctx, std::nullopt, "bpf_skb_cgroup_id");
}

// bpf_skb_ancestor_cgroup_id(skb, ancestor_level): the id of that cgroup's ancestor at the int level
// (0: the root), 0 for a negative level or one deeper than the cgroup. Levels count from the cgroup
// namespace's root (the hierarchy's root outside a cgroup namespace, as the kernel counts).
std::uint64_t skb_ancestor_cgroup_id(std::uint64_t ctx, std::uint64_t level, std::uint64_t, std::uint64_t,
                                     std::uint64_t, vm::RunContext* run) {
  return cgroup_id_answer(run, ctx, static_cast<std::int32_t>(static_cast<std::uint32_t>(level)),
                          "bpf_skb_ancestor_cgroup_id");
}

}  // namespace

void add_skb_socket_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  const std::initializer_list<ArgType> ctx_only{ArgType::PtrToCtx};
  reg.add(entry(BPF_FUNC_get_socket_cookie, "bpf_get_socket_cookie", get_socket_cookie, rt, RetType::Integer, ctx_only));
  reg.add(entry(BPF_FUNC_get_socket_uid, "bpf_get_socket_uid", get_socket_uid, rt, RetType::Integer, ctx_only));
  reg.add(entry(BPF_FUNC_skb_cgroup_classid, "bpf_skb_cgroup_classid", skb_cgroup_classid, rt, RetType::Integer,
                ctx_only));
  reg.add(entry(BPF_FUNC_skb_cgroup_id, "bpf_skb_cgroup_id", skb_cgroup_id, rt, RetType::Integer, ctx_only));
  reg.add(entry(BPF_FUNC_skb_ancestor_cgroup_id, "bpf_skb_ancestor_cgroup_id", skb_ancestor_cgroup_id, rt,
                RetType::Integer, {ArgType::PtrToCtx, ArgType::Anything}));
}

}  // namespace bpfvm::helpers::detail
