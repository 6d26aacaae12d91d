// RedirectArrayMap: BPF_MAP_TYPE_DEVMAP, CPUMAP and XSKMAP — index-keyed redirect targets for
// bpf_redirect_map (kernel/bpf/devmap.c, cpumap.c, net/xdp/xskmap.c).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// Does the host have a network interface with this ifindex? (A devmap update with an ifindex that
/// names none fails with the kernel's -EINVAL.) Default: the process's network namespace
/// (if_indextoname); an embedder may register its own interfaces instead.
using DeviceCheck = std::function<bool(std::uint32_t ifindex)>;
bool host_has_ifindex(std::uint32_t ifindex);

/// Turns the u32 fd a host update carries into the AF_XDP socket's queue id: 0, or the kernel's
/// errno for that fd (-EBADF not open, -ENOTSOCK, -EOPNOTSUPP not an AF_XDP socket).
using XskResolver = std::function<int(std::uint32_t fd, std::uint32_t& queue_id)>;

/// Checks a devmap/devmap_hash value (struct bpf_devmap_val: u32 ifindex, then optionally an s32
/// program fd) and fills `stored` with what lookups return: {ifindex, program id}. Returns 0 or the
/// kernel's -EINVAL (unknown ifindex; a program fd: bpfvm does not run devmap programs yet).
int check_devmap_value(const MapSpec& spec, const DeviceCheck& device_ok, const void* value,
                       std::uint32_t stored[2]);

/// What an entry holds, per type (values are {word0, word1}; lookups copy value_size bytes):
///  - DEVMAP: {ifindex, 0}: the interface bpf_redirect_map sends to. ifindex 0 clears the slot.
///  - CPUMAP: {qsize, 0}: the "CPU" is the key, a RunDomain slot (< nr_cpus, else -ENODEV); qsize 0
///    clears the slot; host lookups return it; programs may only redirect to it.
///  - XSKMAP: {queue_id}: an AF_XDP socket the host resolved (XskResolver); programs' lookups see the
///    struct bpf_xdp_sock view (u32 queue_id); host lookups are -EOPNOTSUPP, as in the kernel.
/// Programs get read-only value pointers (the kernel sets BPF_F_RDONLY_PROG on devmaps).
class RedirectArrayMap final : public Map {
 public:
  RedirectArrayMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  void set_device_check(DeviceCheck check) { device_ok_ = std::move(check); }
  void set_xsk_resolver(XskResolver resolver) { xsk_resolver_ = std::move(resolver); }
  /// XSKMAP: a socket bound to `queue_id` in slot `index` without an fd; -E2BIG out of range.
  int set_socket(std::uint32_t index, std::uint32_t queue_id);

  void* lookup(const void* key) override;
  int erase(const void* key) override;

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;
  bool owns_value(std::uintptr_t addr, std::size_t size_bytes) const override;

 private:
  struct Slot {
    std::atomic<bool> present{false};
    std::uint32_t value[2] = {0, 0};
  };
  int set_slot(std::uint32_t index, const std::uint32_t value[2]);
  std::unique_ptr<Slot[]> slots_;
  DeviceCheck device_ok_ = host_has_ifindex;
  XskResolver xsk_resolver_;
};

}  // namespace bpfvm::maps
