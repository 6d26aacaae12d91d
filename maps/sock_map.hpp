// SockMap: BPF_MAP_TYPE_SOCKMAP and BPF_MAP_TYPE_SOCKHASH (net/core/sock_map.c) — sockets the host
// put in slots (array) or under keys (hash), for sk_skb/sk_msg redirects.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// What a program's lookup reads of a socket in a sockmap (the kernel's struct bpf_sock over its struct
/// sock, as it was when it was put in the map), and its cookie, which a program's update of this socket
/// into another slot carries along. `sock` first: a program's pointer to it is one to the whole.
struct ProgramSocket {
  bpf_sock sock{};
  std::uint64_t cookie = 0;
};

/// A socket as a sockmap holds it: its kernel socket cookie (SO_COOKIE), what a host lookup with an
/// 8-byte value returns, and what the redirect helpers need to know of it (as it was at the update).
struct SocketRef {
  std::uint64_t cookie = 0;
  bool tcp = false;
  /// sock_map_redirect_allowed: a TCP socket that is not listening, another socket when connected.
  bool redirect_allowed = false;
  /// In a reuseport group (the kernel's sk_reuseport_cb): SO_REUSEPORT and hashed, a listening TCP or
  /// a bound UDP socket (bpf_sk_select_reuseport takes no other: -EINVAL).
  bool reuseport = false;
  /// What a program's lookup reads of the socket; null: none known (the lookup stops the run).
  std::shared_ptr<const ProgramSocket> sock;
};

/// What the kernel's sockmap checks read from a socket, however it was found (a host fd, a program's
/// socket pointer).
struct SocketFacts {
  int family = 0, type = 0, protocol = 0;
  std::uint8_t state = 0;  // sk_state (include/net/tcp_states.h): TCP_ESTABLISHED = 1 when connected
  bool bound = false;      // has a local port
  std::uint64_t cookie = 0;
};

/// sock_map_sk_is_suitable and sock_map_sk_state_allowed (6.18, measured through bpf()): TCP
/// (IPv4/IPv6) when established, connecting (SYN_SENT) or listening; UDP when bound; AF_UNIX datagram
/// sockets; AF_UNIX stream sockets when connected; every other socket -EOPNOTSUPP. Else 0 and `out`.
int sockmap_socket(const SocketFacts& socket, SocketRef& out);

/// Turns the fd a host update carries into a socket: 0, or the kernel's errno for that fd
/// (-EBADF not open, -ENOTSOCK not a socket, -EOPNOTSUPP a socket sockmap cannot hold).
using SocketResolver = std::function<int(int fd, SocketRef& out)>;

/// The default resolver: the fd in this process, judged by sockmap_socket as sock_map_update_elem_sys
/// judges it, and read for programs' lookups (`SocketRef::sock`: getsockname/getpeername, SO_DOMAIN,
/// SO_TYPE, SO_PROTOCOL, SO_MARK, SO_PRIORITY, SO_BINDTOIFINDEX, TCP_INFO's state).
int host_socket(int fd, SocketRef& out);

/// The kernel's jhash (include/linux/jhash.h, Bob Jenkins' lookup3) over `length` bytes; the
/// SOCKHASH bucket hash is jhash(key, key_size, 0).
std::uint32_t jhash(const void* key, std::uint32_t length, std::uint32_t initval);

/// Both types. Entries hold a SocketRef; programs reach them through helpers (sk_redirect_map,
/// msg_redirect_map, ..., map_lookup/update/delete_elem, sock_map_update, sock_hash_update: helpers/
/// finds the socket and calls `store`). A socket closed after its update stays in the map (the kernel
/// drops it on close; bpfvm is not told).
/// SOCKHASH iterates as the kernel does: buckets jhash(key) & (roundup_pow_of_two(max_entries) - 1)
/// in order, newest first in a bucket (a replaced key moves to the front).
class SockMap final : public Map {
 public:
  SockMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  void set_resolver(SocketResolver resolver) { resolver_ = std::move(resolver); }
  /// The socket at `key`, if any (the redirect helpers' target).
  bool find(const void* key, SocketRef& out) const;
  /// bpf_map_lookup_elem from a program: the socket at `key` as the program reads it, or null (empty,
  /// or a socket whose fields bpfvm does not know). Valid until the slot is deleted or replaced and
  /// every RunGuard active at that moment ended (as a hash value; the kernel holds a reference).
  const ProgramSocket* lookup_socket(const void* key);

  int erase(const void* key) override;
  /// sock_map_update_common / sock_hash_update_common with the socket already judged: flags above
  /// BPF_EXIST -EINVAL, SOCKMAP index >= max_entries -E2BIG, BPF_NOEXIST on a filled slot -EEXIST,
  /// BPF_EXIST on an empty one -ENOENT, a new SOCKHASH key in a full map -E2BIG.
  int store(const void* key, const SocketRef& socket, std::uint64_t flags);

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  /// Checked mode: a socket a lookup returned (live, or retired and still in its grace period).
  bool owns_value(std::uintptr_t addr, std::size_t size_bytes) const override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;

 private:
  using Key = std::vector<std::uint8_t>;
  Key key_of(const void* key) const;
  std::uint32_t bucket_of(const Key& key) const;
  bool is_hash() const { return spec_.type == MapType::Sockhash; }
  // mu_ held. `old`'s socket leaves the map: it waits out a grace period in limbo_; limbo entries
  // whose grace period passed are freed.
  void retire(const SocketRef& old);

  mutable std::mutex mu_;
  std::map<Key, SocketRef> entries_;           // SOCKMAP: key = the u32 index's bytes
  std::map<std::uint32_t, std::vector<Key>> chains_;  // SOCKHASH: bucket -> keys, newest last
  std::uint32_t bucket_mask_ = 0;
  // Sockets replaced or deleted, with the epoch they were retired under (oldest first); and every
  // socket object a program may be reading (entries' and limbo's), for owns_value.
  std::deque<std::pair<std::uint64_t, std::shared_ptr<const ProgramSocket>>> limbo_;
  std::multiset<const bpf_sock*> readable_;
  SocketResolver resolver_ = host_socket;
};

}  // namespace bpfvm::maps
