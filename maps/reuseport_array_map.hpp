// ReuseportArrayMap: BPF_MAP_TYPE_REUSEPORT_SOCKARRAY (kernel/bpf/reuseport_array.c) — SO_REUSEPORT
// sockets the host put in slots, for sk_reuseport programs' bpf_sk_select_reuseport.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// What reuseport_array_update_check reads of a socket, however it was found.
struct ReuseportSocketFacts {
  int family = 0, type = 0, protocol = 0;
  bool reuseport = false;  // SO_REUSEPORT set (a hashed socket then has its sk_reuseport_cb)
  bool hashed = false;     // TCP: listening; UDP: bound (sk_hashed)
  std::uint64_t cookie = 0;
};

/// reuseport_array_update_check's socket rules (6.18): TCP or UDP, IPv4 or IPv6, stream or datagram,
/// else -ENOTSUPP (524); a socket that is not hashed with SO_REUSEPORT -EINVAL. Else 0.
int reuseport_socket(const ReuseportSocketFacts& socket);

/// Turns the fd a host update carries into a socket cookie: 0, or the kernel's errno for that fd
/// (-EBADF not open, -ENOTSOCK not a socket, then reuseport_socket's).
using ReuseportResolver = std::function<int(int fd, std::uint64_t& cookie)>;

/// The default resolver: the fd in this process (SO_DOMAIN, SO_TYPE, SO_PROTOCOL, SO_REUSEPORT, TCP_INFO's
/// state, the local port, SO_COOKIE).
int reuseport_host_socket(int fd, std::uint64_t& cookie);

/// Key: a u32 index below max_entries. Host update: value = a socket fd (u32, or u64 with an 8-byte
/// value); host lookup: the socket's cookie (8-byte values only, else -ENOSPC); delete empties a slot.
/// A socket sits in at most one slot of all bpfvm's reuseport arrays (the kernel keeps the slot in
/// sk_user_data: a second update of it is -EBUSY, also into its own slot). Programs reach the map only
/// through bpf_sk_select_reuseport (the verifier refuses every other helper), which reads socket_at. A socket closed after its update stays in the map
/// (the kernel's bpf_sk_reuseport_detach empties the slot; bpfvm is not told).
class ReuseportArrayMap final : public Map {
 public:
  ReuseportArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);
  ~ReuseportArrayMap() override;

  void set_resolver(ReuseportResolver resolver) { resolver_ = std::move(resolver); }
  /// reuseport_array_delete_elem: index >= max_entries -E2BIG, an empty slot -ENOENT.
  int erase(const void* key) override;
  /// The cookie of the socket in slot `index` (bpf_sk_select_reuseport's lookup), 0: empty or out of range.
  std::uint64_t socket_at(std::uint32_t index) const;

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;

 private:
  mutable std::mutex mu_;
  std::vector<std::uint64_t> cookies_;  // per slot: the socket's cookie, 0 = empty
  ReuseportResolver resolver_ = reuseport_host_socket;
};

}  // namespace bpfvm::maps
