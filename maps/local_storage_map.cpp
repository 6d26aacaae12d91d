// LocalStorageMap: per-object storage maps; bpf_local_storage.c and the four types' fd lookups.
#include "maps/local_storage_map.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "maps/value_copy.hpp"

namespace bpfvm::maps {
namespace {

constexpr long kCgroupSuperMagic = 0x27e0eb;    // CGROUP_SUPER_MAGIC (v1)
constexpr long kCgroup2SuperMagic = 0x63677270;  // CGROUP2_SUPER_MAGIC
#ifndef SO_COOKIE
constexpr int SO_COOKIE = 57;
#endif

// The pid a pidfd refers to ("Pid:" in its fdinfo), or -1 when fd is no pidfd.
long pidfd_pid(int fd) {
  char link[64] = {};
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
  if (n <= 0) return -1;
  const std::string target(link, static_cast<std::size_t>(n));
  if (target != "anon_inode:[pidfd]" && target.rfind("pidfd:", 0) != 0) return -1;
  std::ifstream info("/proc/self/fdinfo/" + std::to_string(fd));
  for (std::string line; std::getline(info, line);)
    if (line.rfind("Pid:", 0) == 0) return std::stol(line.substr(4));
  return -1;
}

}  // namespace

int host_storage_owner(MapType type, int fd, StorageOwner& owner) {
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) return -EBADF;
  switch (type) {
    case MapType::SkStorage: {
      if (!S_ISSOCK(st.st_mode)) return -ENOTSOCK;
      std::uint64_t cookie = 0;
      socklen_t len = sizeof cookie;
      if (::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) return -ENOTSOCK;
      owner = {0, cookie};
      return 0;
    }
    case MapType::InodeStorage:
      owner = {st.st_dev, st.st_ino};
      return 0;
    case MapType::TaskStorage: {
      const long pid = pidfd_pid(fd);
      if (pid <= 0) return -EBADF;
      owner = {0, static_cast<std::uint64_t>(pid)};
      return 0;
    }
    case MapType::CgrpStorage: {
      struct statfs fs {};
      if (!S_ISDIR(st.st_mode) || ::fstatfs(fd, &fs) != 0 ||
          (fs.f_type != kCgroupSuperMagic && fs.f_type != kCgroup2SuperMagic))
        return -EBADF;
      owner = {st.st_dev, st.st_ino};
      return 0;
    }
    default:
      return -EINVAL;
  }
}

LocalStorageMap::LocalStorageMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)), resolver_(host_storage_owner) {}

void LocalStorageMap::set_resolver(StorageOwnerResolver r) {
  std::lock_guard lock(mu_);
  resolver_ = r ? std::move(r) : StorageOwnerResolver(host_storage_owner);
}

std::size_t LocalStorageMap::size() const {
  std::lock_guard lock(mu_);
  return values_.size();
}

int LocalStorageMap::resolve(const void* key, StorageOwner& owner) const {
  std::int32_t fd;
  std::memcpy(&fd, key, sizeof fd);
  return resolver_(spec_.type, fd, owner);
}

int LocalStorageMap::copy_value(const void* key, void* out, std::uint64_t flags) {
  std::lock_guard lock(mu_);
  StorageOwner owner;
  if (int err = resolve(key, owner)) return err;
  auto it = values_.find(owner);
  if (it == values_.end()) return -ENOENT;
  if (flags & kBpfFLock)
    load_value_skip_lock(out, it->second.get(), spec_.value_size, spec_.spin_lock_off);
  else
    load_value(out, it->second.get(), spec_.value_size);
  return 0;
}

int LocalStorageMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  std::lock_guard lock(mu_);
  StorageOwner owner;
  if (int err = resolve(key, owner)) return err;  // the kernel resolves the fd before the flags
  if ((flags & ~(kBpfNoexist | kBpfExist | kBpfFLock)) || (flags & 3) == 3) return -EINVAL;
  auto it = values_.find(owner);
  if (it != values_.end() && (flags & 3) == kBpfNoexist) return -EEXIST;
  if (it == values_.end() && (flags & 3) == kBpfExist) return -ENOENT;
  if (it == values_.end()) {
    it = values_.emplace(owner, std::make_unique<std::uint64_t[]>((spec_.value_size + 7) / 8)).first;
    readable_.insert(reinterpret_cast<std::uintptr_t>(it->second.get()));
  }
  if (flags & kBpfFLock)
    store_value_skip_lock(it->second.get(), value, spec_.value_size, spec_.spin_lock_off);
  else
    store_value(it->second.get(), value, spec_.value_size);
  return 0;
}

int LocalStorageMap::erase_from_host(const void* key) {
  std::lock_guard lock(mu_);
  StorageOwner owner;
  if (int err = resolve(key, owner)) return err;
  return unlink(owner);
}

int LocalStorageMap::next_key(const void*, void*) { return -kENOTSUPP; }

// bpf_local_storage_update(..., BPF_NOEXIST) on a miss: a fresh zeroed element, then copy_map_value.
void* LocalStorageMap::storage_get(const StorageOwner& owner, const void* init, bool create) {
  std::lock_guard lock(mu_);
  auto it = values_.find(owner);
  if (it == values_.end()) {
    if (!create) return nullptr;
    it = values_.emplace(owner, std::make_unique<std::uint64_t[]>((spec_.value_size + 7) / 8)).first;
    if (init != nullptr) store_value_skip_lock(it->second.get(), init, spec_.value_size, spec_.spin_lock_off);
    readable_.insert(reinterpret_cast<std::uintptr_t>(it->second.get()));
  }
  return it->second.get();
}

int LocalStorageMap::storage_delete(const StorageOwner& owner) {
  std::lock_guard lock(mu_);
  return unlink(owner);
}

int LocalStorageMap::unlink(const StorageOwner& owner) {
  auto it = values_.find(owner);
  if (it == values_.end()) return -ENOENT;
  limbo_.emplace_back(domain_->retire_tag(), std::move(it->second));
  values_.erase(it);
  const std::uint64_t safe = domain_->safe_below();
  while (!limbo_.empty() && limbo_.front().first < safe) {
    readable_.erase(reinterpret_cast<std::uintptr_t>(limbo_.front().second.get()));
    limbo_.pop_front();
  }
  return 0;
}

bool LocalStorageMap::owns_value(std::uintptr_t addr, std::size_t size_bytes) const {
  std::lock_guard lock(mu_);
  auto it = readable_.upper_bound(addr);
  if (it == readable_.begin()) return false;
  const std::uintptr_t base = *std::prev(it);
  return addr - base <= spec_.value_size && size_bytes <= spec_.value_size - (addr - base);
}

}  // namespace bpfvm::maps
