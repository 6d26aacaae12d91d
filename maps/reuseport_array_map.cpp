// ReuseportArrayMap: the host-side rules of kernel/bpf/reuseport_array.c in the kernel's order of checks
// (6.18, confirmed by tests/maps kernel_diff on real sockets).
#include "maps/reuseport_array_map.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <set>

#include "maps/prog_array_map.hpp"

namespace bpfvm::maps {

namespace {

constexpr std::uint8_t kTcpListen = 10;

// The sockets in some reuseport array (the kernel's sk_user_data mark), by cookie.
std::mutex held_mu;
std::set<std::uint64_t>& held_sockets() {
  static std::set<std::uint64_t> held;
  return held;
}

int sock_option(int fd, int level, int name, int& out) {
  socklen_t len = sizeof(out);
  return getsockopt(fd, level, name, &out, &len);
}

}  // namespace

int reuseport_socket(const ReuseportSocketFacts& s) {
  if (s.protocol != IPPROTO_UDP && s.protocol != IPPROTO_TCP) return -kENOTSUPP;
  if (s.family != AF_INET && s.family != AF_INET6) return -kENOTSUPP;
  if (s.type != SOCK_STREAM && s.type != SOCK_DGRAM) return -kENOTSUPP;
  if (!s.hashed || !s.reuseport) return -EINVAL;
  return 0;
}

int reuseport_host_socket(int fd, std::uint64_t& cookie) {
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return -EBADF;
  if (!S_ISSOCK(st.st_mode)) return -ENOTSOCK;
  ReuseportSocketFacts f;
  int reuse = 0;
  if (sock_option(fd, SOL_SOCKET, SO_DOMAIN, f.family) || sock_option(fd, SOL_SOCKET, SO_TYPE, f.type) ||
      sock_option(fd, SOL_SOCKET, SO_PROTOCOL, f.protocol))
    return -kENOTSUPP;
  f.reuseport = sock_option(fd, SOL_SOCKET, SO_REUSEPORT, reuse) == 0 && reuse != 0;
  if (f.protocol == IPPROTO_TCP) {
    tcp_info info{};
    socklen_t len = sizeof(info);
    f.hashed = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 && info.tcpi_state == kTcpListen;
  } else if (f.family == AF_INET || f.family == AF_INET6) {
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    std::uint16_t port = 0;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      std::memcpy(&port, reinterpret_cast<const std::byte*>(&a) + offsetof(sockaddr_in, sin_port), sizeof(port));
    f.hashed = port != 0;  // a bound UDP socket is hashed
  }
  if (const int err = reuseport_socket(f)) return err;
  socklen_t len = sizeof(f.cookie);
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &f.cookie, &len) != 0) return -EINVAL;
  cookie = f.cookie;
  return 0;
}

ReuseportArrayMap::ReuseportArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)), cookies_(spec.max_entries, 0) {}

ReuseportArrayMap::~ReuseportArrayMap() {
  std::lock_guard held_lock(held_mu);
  for (const std::uint64_t c : cookies_)
    if (c != 0) held_sockets().erase(c);
}

// bpf_fd_reuseport_array_lookup_elem: only an 8-byte value can take the cookie.
int ReuseportArrayMap::copy_value(const void* key, void* out, std::uint64_t) {
  if (spec_.value_size != sizeof(std::uint64_t)) return -ENOSPC;
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  std::lock_guard lock(mu_);
  if (index >= cookies_.size() || cookies_[index] == 0) return -ENOENT;
  std::memcpy(out, &cookies_[index], sizeof(std::uint64_t));
  return 0;
}

std::uint64_t ReuseportArrayMap::socket_at(std::uint32_t index) const {
  std::lock_guard lock(mu_);
  return index < cookies_.size() ? cookies_[index] : 0;
}

// bpf_fd_reuseport_array_update_elem: flags above BPF_EXIST -EINVAL, index >= max_entries -E2BIG, the
// fd (u64 above S32_MAX -EINVAL) looked up, then reuseport_array_update_check: BPF_NOEXIST on a filled
// slot -EEXIST, BPF_EXIST on an empty one -ENOENT, the socket's own rules, a socket already in a slot
// -EBUSY.
int ReuseportArrayMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  if (flags > kBpfExist) return -EINVAL;
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= spec_.max_entries) return -E2BIG;
  int fd = 0;
  if (spec_.value_size == sizeof(std::uint64_t)) {
    std::uint64_t fd64;
    std::memcpy(&fd64, value, 8);
    if (fd64 > static_cast<std::uint64_t>(INT_MAX)) return -EINVAL;
    fd = static_cast<int>(fd64);
  } else {
    std::memcpy(&fd, value, 4);
  }
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return -EBADF;  // sockfd_lookup comes before the slot checks
  if (!S_ISSOCK(st.st_mode)) return -ENOTSOCK;
  std::lock_guard lock(mu_);
  const std::uint64_t old = cookies_[index];
  if (old != 0 && flags == kBpfNoexist) return -EEXIST;
  if (old == 0 && flags == kBpfExist) return -ENOENT;
  std::uint64_t cookie = 0;
  if (!resolver_) return -EBADF;
  if (const int err = resolver_(fd, cookie)) return err;
  std::lock_guard held_lock(held_mu);
  if (!held_sockets().insert(cookie).second) return -EBUSY;
  if (old != 0) held_sockets().erase(old);
  cookies_[index] = cookie;
  return 0;
}

int ReuseportArrayMap::erase(const void* key) {
  std::uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= spec_.max_entries) return -E2BIG;
  std::lock_guard lock(mu_);
  if (cookies_[index] == 0) return -ENOENT;
  {
    std::lock_guard held_lock(held_mu);
    held_sockets().erase(cookies_[index]);
  }
  cookies_[index] = 0;
  return 0;
}

int ReuseportArrayMap::next_key(const void* key, void* next) { return array_next_key(spec_.max_entries, key, next); }

}  // namespace bpfvm::maps
