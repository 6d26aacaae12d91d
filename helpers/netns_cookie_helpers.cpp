// bpf_get_netns_cookie: the cookie of the network namespace of the context's socket (or skb device),
// which for every socket and packet a userspace run models is this process's namespace; NULL asks
// for init_net's.
#include <linux/bpf.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers/guest_memory.hpp"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // asm-generic/socket.h, Linux 5.14
#endif

namespace bpfvm::helpers {

NetnsCookies NetnsCookies::of_this_process() {
  NetnsCookies c;
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return c;
  std::uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == 0 && len == sizeof cookie) c.own = cookie;
  close(fd);
  // PROC_NET_INIT_INO: the inode every kernel gives init_net's nsfs file.
  constexpr std::uint64_t kInitNetIno = 0xEFFFFFF9u;
  struct stat ns {};
  if (stat("/proc/self/ns/net", &ns) == 0 && ns.st_ino == kInitNetIno) c.init = c.own;
  return c;
}

namespace detail {
namespace {

using vm::ArgType;
using vm::RetType;

// bpf_get_netns_cookie(ctx or NULL): __bpf_get_netns_cookie's sock_net(sk) (skb: the device's or the
// socket's namespace) for a context, init_net's for NULL.
std::uint64_t get_netns_cookie(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                               vm::RunContext* run) {
  const NetnsCookies& c = runtime_of(run).netns_cookies;
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
