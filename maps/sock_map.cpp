// SockMap: the host-side rules of net/core/sock_map.c for SOCKMAP and SOCKHASH, in the kernel's order
// of checks (6.18, confirmed by tests/maps kernel_diff on real sockets).
#include "maps/sock_map.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>

#include "maps/prog_array_map.hpp"

namespace bpfvm::maps {

namespace {
int sock_option(int fd, int level, int name, int& out) {
  socklen_t len = sizeof(out);
  return getsockopt(fd, level, name, &out, &len);
}
constexpr std::uint8_t kTcpEstablished = 1, kTcpSynSent = 2, kTcpClose = 7, kTcpListen = 10;  // include/net/tcp_states.h

// An address as struct bpf_sock holds it: IPv4 in network order in ip4, IPv6 as four network-order
// words in ip6; the port in host order (src_port) or network order (dst_port).
void put_address(const sockaddr_storage& a, std::uint32_t& ip4, std::uint32_t (&ip6)[4], std::uint16_t& port) {
  if (a.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(a);
    ip4 = in.sin_addr.s_addr;
    port = in.sin_port;
  } else if (a.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(a);
    std::memcpy(ip6, &in6.sin6_addr, sizeof ip6);
    port = in6.sin6_port;
  }
}

// The other family's address fields as the kernel's struct sock holds them (6.18, measured by tests/
// runtime sockmap_lookup): an IPv4 socket's IPv6 fields are the v4-mapped addresses once it is connected
// (zero before: a listener); an IPv6 socket's src_ip4 is the v4 part of a v4-mapped local address,
// else LOOPBACK4_IPV6 (127.0.0.6) when it has a local address, and dst_ip4 the v4 part of a v4-mapped
// peer, else 0 (the kernel gives an accepted IPv6 socket 127.0.0.6 there; a socket does not say
// whether it was accepted).
void put_other_family(bpf_sock& s, bool connected) {
  static constexpr std::uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  auto mapped = [](const std::uint32_t (&ip6)[4]) { return std::memcmp(ip6, kV4MappedPrefix, 12) == 0; };
  if (s.family == AF_INET) {
    if (!connected) return;
    for (auto* ip6 : {&s.src_ip6, &s.dst_ip6}) std::memcpy(*ip6, kV4MappedPrefix, 12);
    s.src_ip6[3] = s.src_ip4;
    s.dst_ip6[3] = s.dst_ip4;
    return;
  }
  const bool has_local = s.src_ip6[0] | s.src_ip6[1] | s.src_ip6[2] | s.src_ip6[3];
  s.src_ip4 = mapped(s.src_ip6) ? s.src_ip6[3] : has_local ? htonl(0x7f000006) : 0;  // LOOPBACK4_IPV6
  s.dst_ip4 = mapped(s.dst_ip6) ? s.dst_ip6[3] : 0;
}

// What a program's lookup reads of the socket at `fd` (net/core/filter.c bpf_sock_convert_ctx_access
// over its struct sock): family/type/protocol, bound_dev_if, mark, priority, the local address and
// port (host order), the peer's (port in network order), the state; rx_queue_mapping -1 (no receive
// queue recorded, as for a socket that received nothing through a multi-queue device).
bpf_sock program_view(int fd, const SocketFacts& f) {
  bpf_sock s{};
  s.family = static_cast<std::uint32_t>(f.family);
  s.type = static_cast<std::uint32_t>(f.type);
  s.protocol = static_cast<std::uint32_t>(f.protocol);
  s.state = f.state;
  s.rx_queue_mapping = -1;
  int v = 0;
  if (sock_option(fd, SOL_SOCKET, SO_BINDTOIFINDEX, v) == 0) s.bound_dev_if = static_cast<std::uint32_t>(v);
  if (sock_option(fd, SOL_SOCKET, SO_MARK, v) == 0) s.mark = static_cast<std::uint32_t>(v);
  if (sock_option(fd, SOL_SOCKET, SO_PRIORITY, v) == 0) s.priority = static_cast<std::uint32_t>(v);
  if (f.family != AF_INET && f.family != AF_INET6) return s;
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  std::uint16_t port = 0;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) put_address(a, s.src_ip4, s.src_ip6, port);
  s.src_port = ntohs(port);
  a = {};
  len = sizeof(a);
  port = 0;
  const bool connected = getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  if (connected) put_address(a, s.dst_ip4, s.dst_ip6, port);
  s.dst_port = port;
  put_other_family(s, connected);
  return s;
}
}  // namespace

int sockmap_socket(const SocketFacts& socket, SocketRef& out) {
  const bool inet = socket.family == AF_INET || socket.family == AF_INET6;
  const bool connected = socket.state == kTcpEstablished;
  bool suitable = false;
  out.tcp = inet && socket.type == SOCK_STREAM && socket.protocol == IPPROTO_TCP;
  out.redirect_allowed = connected;
  out.cookie = socket.cookie;
  if (out.tcp) {
    suitable = socket.state == kTcpEstablished || socket.state == kTcpSynSent || socket.state == kTcpListen;
    out.redirect_allowed = socket.state != kTcpListen;
  } else if (inet && socket.type == SOCK_DGRAM && socket.protocol == IPPROTO_UDP) {
    suitable = socket.bound;
  } else if (socket.family == AF_UNIX && socket.type == SOCK_DGRAM) {
    suitable = true;
  } else if (socket.family == AF_UNIX && socket.type == SOCK_STREAM) {
    suitable = connected;
  }
  return suitable ? 0 : -EOPNOTSUPP;
}

int host_socket(int fd, SocketRef& out) {
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return -EBADF;
  if (!S_ISSOCK(st.st_mode)) return -ENOTSOCK;
  SocketFacts f;
  if (sock_option(fd, SOL_SOCKET, SO_DOMAIN, f.family) || sock_option(fd, SOL_SOCKET, SO_TYPE, f.type) ||
      sock_option(fd, SOL_SOCKET, SO_PROTOCOL, f.protocol))
    return -EOPNOTSUPP;
  sockaddr_storage peer{};
  socklen_t peer_len = sizeof(peer);
  f.state = getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0 ? kTcpEstablished : kTcpClose;
  if (f.type == SOCK_STREAM && f.protocol == IPPROTO_TCP) {
    tcp_info info{};
    socklen_t len = sizeof(info);
    f.state = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 ? info.tcpi_state : kTcpClose;
  }
  if (f.family == AF_INET || f.family == AF_INET6) {
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    // Bound: a local port (connect binds one too). Both families keep the port at the same offset.
    std::uint16_t port = 0;
    static_assert(offsetof(sockaddr_in, sin_port) == offsetof(sockaddr_in6, sin6_port));
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      std::memcpy(&port, reinterpret_cast<const std::byte*>(&a) + offsetof(sockaddr_in, sin_port), sizeof(port));
    f.bound = port != 0;
  }
  if (int err = sockmap_socket(f, out)) return err;
  int reuse = 0;
  out.reuseport = sock_option(fd, SOL_SOCKET, SO_REUSEPORT, reuse) == 0 && reuse != 0 &&
                  ((f.protocol == IPPROTO_TCP && f.state == kTcpListen) || (f.protocol == IPPROTO_UDP && f.bound));
  socklen_t len = sizeof(out.cookie);
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &out.cookie, &len) != 0) return -EOPNOTSUPP;
  out.sock = std::make_shared<const ProgramSocket>(ProgramSocket{program_view(fd, f), out.cookie});
  return 0;
}

std::uint32_t jhash(const void* key, std::uint32_t length, std::uint32_t initval) {
  const auto* k = static_cast<const std::uint8_t*>(key);
  auto rol = [](std::uint32_t x, int s) { return std::rotl(x, s); };
  auto word = [](const std::uint8_t* p) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
  };
  std::uint32_t a, b, c;
  a = b = c = 0xdeadbeefu + length + initval;  // JHASH_INITVAL
  for (; length > 12; length -= 12, k += 12) {
    a += word(k), b += word(k + 4), c += word(k + 8);
    a -= c, a ^= rol(c, 4), c += b;  // __jhash_mix
    b -= a, b ^= rol(a, 6), a += c;
    c -= b, c ^= rol(b, 8), b += a;
    a -= c, a ^= rol(c, 16), c += b;
    b -= a, b ^= rol(a, 19), a += c;
    c -= b, c ^= rol(b, 4), b += a;
  }
  if (length == 0) return c;
  // The last 1..12 bytes, little-endian into a, b, c (the kernel's fall-through switch).
  std::uint32_t tail[3] = {0, 0, 0};
  for (std::uint32_t i = 0; i < length; ++i) tail[i / 4] += std::uint32_t{k[i]} << (8 * (i % 4));
  a += tail[0], b += tail[1], c += tail[2];
  c ^= b, c -= rol(b, 14);  // __jhash_final
  a ^= c, a -= rol(c, 11);
  b ^= a, b -= rol(a, 25);
  c ^= b, c -= rol(b, 16);
  a ^= c, a -= rol(c, 4);
  b ^= a, b -= rol(a, 14);
  c ^= b, c -= rol(b, 24);
  return c;
}

SockMap::SockMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain) : Map(spec, std::move(domain)) {
  if (is_hash()) bucket_mask_ = static_cast<std::uint32_t>(std::bit_ceil(std::uint64_t{spec_.max_entries}) - 1);
}

SockMap::Key SockMap::key_of(const void* key) const {
  const auto* p = static_cast<const std::uint8_t*>(key);
  return Key(p, p + spec_.key_size);
}

std::uint32_t SockMap::bucket_of(const Key& key) const {
  return jhash(key.data(), static_cast<std::uint32_t>(key.size()), 0) & bucket_mask_;
}

bool SockMap::find(const void* key, SocketRef& out) const {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key_of(key));
  if (it == entries_.end()) return false;
  out = it->second;
  return true;
}

const ProgramSocket* SockMap::lookup_socket(const void* key) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key_of(key));
  return it == entries_.end() ? nullptr : it->second.sock.get();
}

bool SockMap::owns_value(std::uintptr_t addr, std::size_t size_bytes) const {
  std::lock_guard lock(mu_);
  auto it = readable_.upper_bound(reinterpret_cast<const bpf_sock*>(addr));
  if (it == readable_.begin()) return false;
  const auto base = reinterpret_cast<std::uintptr_t>(*std::prev(it));
  return addr - base <= sizeof(bpf_sock) && size_bytes <= sizeof(bpf_sock) - (addr - base);
}

void SockMap::retire(const SocketRef& old) {
  if (old.sock) limbo_.emplace_back(domain_->retire_tag(), old.sock);
  const std::uint64_t safe = limbo_.empty() ? 0 : domain_->safe_below();
  while (!limbo_.empty() && limbo_.front().first < safe) {
    readable_.erase(readable_.find(&limbo_.front().second->sock));
    limbo_.pop_front();
  }
}

// sock_map_lookup_sys / sock_hash_lookup_sys: only an 8-byte value can take the cookie.
int SockMap::copy_value(const void* key, void* out, std::uint64_t) {
  if (spec_.value_size != sizeof(std::uint64_t)) return -ENOSPC;
  SocketRef ref;
  if (!find(key, ref)) return -ENOENT;
  std::memcpy(out, &ref.cookie, sizeof(ref.cookie));
  return 0;
}

// sock_map_update_elem_sys: the fd (u32, or u64 with an 8-byte value) at most S32_MAX, the socket
// found and suitable, then the flags, the slot (SOCKMAP: index < max_entries; SOCKHASH: room for a new
// key) and the BPF_NOEXIST/BPF_EXIST rule.
int SockMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  std::uint64_t fd = 0;
  if (spec_.value_size == sizeof(std::uint64_t)) {
    std::memcpy(&fd, value, 8);
  } else {
    std::uint32_t fd32;
    std::memcpy(&fd32, value, 4);
    fd = fd32;
  }
  if (fd > static_cast<std::uint64_t>(INT_MAX)) return -EINVAL;
  SocketRef ref;
  if (!resolver_) return -EBADF;
  if (int err = resolver_(static_cast<int>(fd), ref)) return err;
  return store(key, ref, flags);
}

int SockMap::store(const void* key, const SocketRef& socket, std::uint64_t flags) {
  if (flags > kBpfExist) return -EINVAL;
  Key k = key_of(key);
  std::lock_guard lock(mu_);
  if (!is_hash()) {
    std::uint32_t index;
    std::memcpy(&index, key, 4);
    if (index >= spec_.max_entries) return -E2BIG;
  }
  const auto it = entries_.find(k);
  if (it != entries_.end() && flags == kBpfNoexist) return -EEXIST;
  if (it == entries_.end() && flags == kBpfExist) return -ENOENT;
  if (is_hash()) {
    if (it == entries_.end() && entries_.size() >= spec_.max_entries) return -E2BIG;
    auto& chain = chains_[bucket_of(k)];
    chain.erase(std::remove(chain.begin(), chain.end(), k), chain.end());
    chain.push_back(k);
  }
  if (socket.sock) readable_.insert(&socket.sock->sock);
  if (it != entries_.end()) {
    retire(it->second);
    it->second = socket;
  } else {
    entries_.emplace(std::move(k), socket);
  }
  return 0;
}

// sock_map_delete_elem: an index out of range or an empty slot is -EINVAL; sock_hash_delete_elem:
// a missing key -ENOENT.
int SockMap::erase(const void* key) {
  Key k = key_of(key);
  std::lock_guard lock(mu_);
  const auto it = entries_.find(k);
  if (it == entries_.end()) return is_hash() ? -ENOENT : -EINVAL;
  retire(it->second);
  entries_.erase(it);
  if (is_hash()) {
    const auto bucket = chains_.find(bucket_of(k));
    auto& chain = bucket->second;
    chain.erase(std::remove(chain.begin(), chain.end(), k), chain.end());
    if (chain.empty()) chains_.erase(bucket);
  }
  return 0;
}

// SOCKMAP: array order over every index. SOCKHASH (sock_hash_get_next_key): the key after `key` in
// its bucket, else the first key of a later bucket; a missing key (or none) starts from the first.
int SockMap::next_key(const void* key, void* next) {
  if (!is_hash()) return array_next_key(spec_.max_entries, key, next);
  std::lock_guard lock(mu_);
  auto first_from = [&](std::map<std::uint32_t, std::vector<Key>>::const_iterator b) {
    if (b == chains_.end()) return -ENOENT;
    std::memcpy(next, b->second.back().data(), spec_.key_size);
    return 0;
  };
  if (key) {
    const Key k = key_of(key);
    if (entries_.count(k)) {
      const auto b = chains_.find(bucket_of(k));
      const auto& chain = b->second;
      const auto pos = std::find(chain.begin(), chain.end(), k);
      if (pos != chain.begin()) {  // newest last: the next key in walk order is the one before
        std::memcpy(next, std::prev(pos)->data(), spec_.key_size);
        return 0;
      }
      return first_from(std::next(b));
    }
  }
  return first_from(chains_.begin());
}

}  // namespace bpfvm::maps
