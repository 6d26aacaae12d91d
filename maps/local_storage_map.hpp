// LocalStorageMap: BPF_MAP_TYPE_SK_STORAGE, INODE_STORAGE, TASK_STORAGE, CGRP_STORAGE — one value per
// kernel object (socket, inode, task, cgroup), named from the host by a file descriptor in the key.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
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

/// Host side (bpf() by fd): lookup/update/delete of the owner's value, BPF_ANY/NOEXIST/EXIST and
/// BPF_F_LOCK; no key walk or lookup_and_delete (-ENOTSUPP, as the kernel). Programs reach values
/// through the storage helpers (helpers/storage_helpers.cpp: `storage_get` / `storage_delete` by the
/// owner the helper found for its object), not map_lookup_elem. Both sides see the same value.
class LocalStorageMap final : public Map {
 public:
  LocalStorageMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  /// Replaces host_storage_owner (an embedder with its own sockets/tasks).
  void set_resolver(StorageOwnerResolver r);
  /// Values currently stored.
  std::size_t size() const;

  /// bpf_*_storage_get: the owner's value; when it has none and `create`, a new one holding `init`
  /// (value_size bytes; nullptr: zeroes; a bpf_spin_lock in it starts unlocked, as copy_map_value).
  /// nullptr when there is none and no create. The pointer stays valid until the value is deleted and
  /// every RunGuard active then ended.
  void* storage_get(const StorageOwner& owner, const void* init, bool create);
  /// bpf_*_storage_delete: 0, or -ENOENT when the owner has no value.
  int storage_delete(const StorageOwner& owner);

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int erase_from_host(const void* key) override;
  int next_key(const void* key, void* next) override;
  /// Checked mode: a value a program got (live, or deleted and still in its grace period).
  bool owns_value(std::uintptr_t addr, std::size_t size_bytes) const override;

 private:
  using Value = std::unique_ptr<std::uint64_t[]>;  // value_size bytes, 8-aligned
  int resolve(const void* key, StorageOwner& owner) const;
  // Unlinks the owner's value (mu_ held): it waits in limbo until the runs that may hold it ended.
  int unlink(const StorageOwner& owner);

  mutable std::mutex mu_;  // guards everything below
  StorageOwnerResolver resolver_;
  std::map<StorageOwner, Value> values_;
  std::deque<std::pair<std::uint64_t, Value>> limbo_;  // (RunDomain retire tag, unlinked value)
  std::set<std::uintptr_t> readable_;                  // addresses of values_ and limbo_
};

}  // namespace bpfvm::maps
