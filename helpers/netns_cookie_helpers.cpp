// bpf_get_netns_cookie: the cookie of the network namespace of the context's socket (or skb device),
// which for every socket and packet a userspace run models is this process's namespace; NULL asks
// for init_net's.
#include <linux/bpf.h>

#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers {

namespace detail {
namespace {

using vm::ArgType;
using vm::RetType;

// bpf_get_netns_cookie(ctx or NULL): __bpf_get_netns_cookie's sock_net(sk) (skb: the device's or the
// socket's namespace) for a context, init_net's for NULL.
std::uint64_t get_netns_cookie(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                               vm::RunContext* run) {
  const NetnsCookies& c = runtime_of(run).current_netns_cookies();
  const std::uint64_t cookie = ctx != 0 ? c.own : c.init;
  if (cookie == 0)
    return fault(run, ctx != 0 ? "bpf_get_netns_cookie: this process's network namespace cookie is unknown "
                                 "(SO_NETNS_COOKIE needs Linux 5.14) — not supported yet"
                               : "bpf_get_netns_cookie(NULL): init_net's cookie is unknown outside init_net — "
                                 "not supported yet");
  return cookie;
}

}  // namespace

void add_netns_cookie_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_get_netns_cookie, "bpf_get_netns_cookie", get_netns_cookie, rt, RetType::Integer,
                {ArgType::PtrToCtxOrNull}));
}

}  // namespace detail
}  // namespace bpfvm::helpers
