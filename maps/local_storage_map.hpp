// LocalStorageMap: BPF_MAP_TYPE_SK_STORAGE, INODE_STORAGE, TASK_STORAGE, CGRP_STORAGE — one value per
// kernel object (socket, inode, task, cgroup), named from the host by a file descriptor in the key.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// The object a key's fd names, as one process can tell it: {st_dev, st_ino} for inodes and cgroups,
/// {0, SO_COOKIE} for sockets, {0, pid} for tasks.
using StorageOwner = std::pair<std::uint64_t, std::uint64_t>;

/// Resolves the fd in a key for a storage map type: 0 and `owner`, or the kernel's errno.
using StorageOwnerResolver = std::function<int(MapType type, int fd, StorageOwner& owner)>;

/// The default resolver: judges `fd` in this process as the 6.18 kernel does (measured): sk_storage
/// needs a socket (not open -EBADF, else -ENOTSOCK); inode_storage any open fd (-EBADF); task_storage
/// a pidfd (anything else -EBADF); cgrp_storage a cgroup directory (anything else -EBADF).
int host_storage_owner(MapType type, int fd, StorageOwner& owner);

/// Host side (bpf() by fd) only: lookup/update/delete of the owner's value, BPF_ANY/NOEXIST/EXIST and
/// BPF_F_LOCK; no key walk or lookup_and_delete (-ENOTSUPP, as the kernel). Programs reach values
/// through the storage helpers (helpers/), not map_lookup_elem.
class LocalStorageMap final : public Map {
 public:
  LocalStorageMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  /// Replaces host_storage_owner (an embedder with its own sockets/tasks).
  void set_resolver(StorageOwnerResolver r);
  /// Values currently stored.
  std::size_t size() const;

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int erase_from_host(const void* key) override;
  int next_key(const void* key, void* next) override;

 private:
  int resolve(const void* key, StorageOwner& owner) const;

  mutable std::mutex mu_;  // guards values_ and resolver_
  StorageOwnerResolver resolver_;
  std::map<StorageOwner, std::unique_ptr<std::uint64_t[]>> values_;  // value_size bytes, 8-aligned
};

}  // namespace bpfvm::maps
