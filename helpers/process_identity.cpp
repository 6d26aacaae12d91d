// This process as the helpers report the current task: TaskIdentity, NetnsCookies, the cgroup v2 chain.
#include "helpers/process_identity.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <fstream>

#include "helpers/runtime.hpp"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // asm-generic/socket.h, Linux 5.14
#endif

namespace bpfvm::helpers {

namespace {

// The cgroup2 mount point, "" without one. The usual ones first (unified, hybrid): reading
// /proc/self/mounts costs tens of us.
std::string find_cgroup2_mount() {
  constexpr long kCgroup2SuperMagic = 0x63677270;  // linux/magic.h CGROUP2_SUPER_MAGIC
  for (const char* usual : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs {};
    if (statfs(usual, &fs) == 0 && static_cast<long>(fs.f_type) == kCgroup2SuperMagic) return usual;
  }
  std::ifstream mounts("/proc/self/mounts");
  std::string dev, dir, type, rest;
  while (mounts >> dev >> dir >> type && std::getline(mounts, rest))
    if (type == "cgroup2") return dir;
  return {};
}

// The calling thread's cgroup v2 path, /proc/thread-self/cgroup's "0::" line ("/a/b"); false when /proc
// does not say. The kernel's helpers read the current task's cgroup: the thread's. A plain read, no
// stream: helper calls come here (bench_per_call BM_cgroup_id_run).
bool read_cgroup_path(std::string& path) {
  const int fd = open("/proc/thread-self/cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  char chunk[1024];
  for (ssize_t n; (n = read(fd, chunk, sizeof chunk)) > 0;) text.append(chunk, static_cast<std::size_t>(n));
  close(fd);
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t eol = std::min(text.find('\n', at), text.size());
    if (text.compare(at, 3, "0::") == 0) {
      path.assign(text, at + 3, eol - at - 3);
      return true;
    }
    at = eol + 1;
  }
  return false;
}

// The cgroup directory's inode, then each parent's on the same file system up to the mount's root,
// root first; empty when the directory cannot be stat'ed.
void read_cgroup_chain(std::string dir, std::vector<std::uint64_t>& ids) {
  ids.clear();
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return;
  const dev_t cgroup_fs = st.st_dev;
  ids.push_back(st.st_ino);
  for (auto slash = dir.find_last_of('/'); slash != std::string::npos && slash != 0; slash = dir.find_last_of('/')) {
    dir.resize(slash);
    if (stat(dir.c_str(), &st) != 0 || st.st_dev != cgroup_fs) break;
    ids.push_back(st.st_ino);
  }
  std::reverse(ids.begin(), ids.end());
}

// The cgroup v2 root's id (cgroupfs' root inode), the same in every kernel.
constexpr std::uint64_t kRootCgroupId = 1;

std::string cgroup_dir(const std::string& mount, const std::string& path) { return path == "/" ? mount : mount + path; }

std::uint64_t coarse_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

std::string cgroup2_dir_of_this_process() {
  const std::string mount = find_cgroup2_mount();
  std::string path;
  if (mount.empty() || !read_cgroup_path(path)) return {};
  return cgroup_dir(mount, path);
}

const std::vector<std::uint64_t>& ProcessIdentity::cgroup_ids(HelperRun* run, std::vector<std::uint64_t>& scratch) const {
  const std::uint64_t now = std::max<std::uint64_t>(coarse_now_ns(), 1);
  if (run != nullptr && run->cgroup_read_ns != 0 && now - run->cgroup_read_ns < kCgroupRereadNs) return run->cgroup_ids;
  std::vector<std::uint64_t>& ids = run != nullptr ? run->cgroup_ids : scratch;
  const std::string& mount = cgroup2_mount();
  std::string path;
  if (!read_cgroup_path(path)) {
    ids.clear();
  } else if (mount.empty()) {
    // No cgroup2 mount to stat (a chroot): only the root cgroup's id is known without one.
    ids.assign(path == "/" ? 1 : 0, kRootCgroupId);
  } else if (run == nullptr || path != run->cgroup_path || ids.empty()) {
    read_cgroup_chain(cgroup_dir(mount, path), ids);
  } else {
    // The same path: the same cgroups unless the leaf was removed and made again (its ancestors
    // cannot be while it exists), which its inode tells.
    struct stat st {};
    if (stat(cgroup_dir(mount, path).c_str(), &st) != 0 || st.st_ino != ids.back())
      read_cgroup_chain(cgroup_dir(mount, path), ids);
  }
  if (run != nullptr) {
    run->cgroup_path = std::move(path);
    run->cgroup_read_ns = now;
  }
  return ids;
}

const std::string& ProcessIdentity::cgroup2_mount() const {
  std::call_once(read_->mount_once, [r = read_.get()] { r->cgroup2_mount = find_cgroup2_mount(); });
  return read_->cgroup2_mount;
}

TaskIdentity TaskIdentity::of_this_process() {
  TaskIdentity t;
  t.tgid = static_cast<std::uint32_t>(getpid());
  t.pid = static_cast<std::uint32_t>(syscall(SYS_gettid));
  t.uid = static_cast<std::uint32_t>(getuid());
  t.gid = static_cast<std::uint32_t>(getgid());
  std::ifstream f("/proc/self/comm");
  std::getline(f, t.comm);
  struct stat ns {};
  if (stat("/proc/self/ns/pid", &ns) == 0) {
    t.pidns_dev = ns.st_dev;
    t.pidns_ino = ns.st_ino;
  }
  return t;  // cgroup_ids unset: read per run
}

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

ProcessIdentity::ProcessIdentity() : read_(std::make_shared<Read>()) {}

const TaskIdentity& ProcessIdentity::task() const {
  std::call_once(read_->task_once, [r = read_.get()] { r->task = TaskIdentity::of_this_process(); });
  return read_->task;
}

const NetnsCookies& ProcessIdentity::netns_cookies() const {
  std::call_once(read_->netns_once, [r = read_.get()] { r->netns = NetnsCookies::of_this_process(); });
  return read_->netns;
}

}  // namespace bpfvm::helpers
