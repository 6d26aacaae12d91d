// This process as the helpers report the "current" task: its ids and comm (TaskIdentity), its network
// namespace's cookies (NetnsCookies) and its cgroup v2 chain. Nothing is read at VM creation:
// ProcessIdentity reads the task and the cookies at the first helper call that asks, and the cgroup
// chain when a cgroup helper asks, again once the last read is older than kCgroupRereadNs.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bpfvm::helpers {

/// The task the helpers report as "current" (bpf_get_current_pid_tgid, _uid_gid, _comm).
/// of_this_process(): the host process (getpid/gettid/getuid/getgid, /proc/self/comm).
struct TaskIdentity {
  std::uint32_t tgid = 0;  // user-space "pid"
  std::uint32_t pid = 0;   // kernel pid = thread id
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string comm;        // at most 15 bytes are reported (TASK_COMM_LEN = 16)
  /// The task's pid namespace as stat(/proc/self/ns/pid) names it (bpf_get_ns_current_pid_tgid
  /// answers only for this dev and inode); tgid and pid are in that namespace.
  std::uint64_t pidns_dev = 0;
  std::uint64_t pidns_ino = 0;
  /// The task's cgroup v2 and its ancestors, root first (bpf_get_current_cgroup_id is the last,
  /// bpf_get_current_ancestor_cgroup_id(level) the one at that level; empty: both 0). nullopt: the
  /// calling thread's (ProcessIdentity::cgroup_ids), as the kernel reads the current task's.
  std::optional<std::vector<std::uint64_t>> cgroup_ids;

  static TaskIdentity of_this_process();
};

/// Network namespace cookies (bpf_get_netns_cookie; 0 = unknown: the call stops the run "not supported
/// yet"). of_this_process(): this process's namespace by SO_NETNS_COOKIE, and init_net's when that is
/// init_net.
struct NetnsCookies {
  std::uint64_t own = 0;   ///< every socket and packet of a run lives here
  std::uint64_t init = 0;  ///< init_net (the helper's NULL argument)

  static NetnsCookies of_this_process();
};

/// The cgroup v2 directory the calling thread runs in (the tests' way to find it): the cgroup2 mount
/// plus /proc/thread-self/cgroup's "0::" path (the process's, unless cgroup v2's threaded mode put the
/// thread elsewhere); "" without a cgroup2 mount or /proc.
std::string cgroup2_dir_of_this_process();

struct HelperRun;

/// This process's TaskIdentity, NetnsCookies and cgroup2 mount, each read once, at its first use
/// (thread-safe; copies share what was read), and the calling thread's cgroup v2 chain.
class ProcessIdentity {
 public:
  /// How long a run state keeps the cgroup chain it read: the kernel reads the current task's cgroup
  /// at each call, but reading it here costs microseconds (a /proc read and a stat per level;
  /// bench/bench_per_call BM_cgroup_id_run), so a move to another cgroup shows in the helpers within
  /// this time (and at once in a new run state: a Runner, another program on the thread).
  static constexpr std::uint64_t kCgroupRereadNs = 10'000'000;

  ProcessIdentity();
  const TaskIdentity& task() const;
  const NetnsCookies& netns_cookies() const;
  /// The calling thread's cgroup v2 and its ancestors as the kernel's cgroup ids, root first: the inode
  /// numbers of the directories on the cgroup2 mount from its root down to /proc/thread-self/cgroup's
  /// "0::" path. Inside a cgroup namespace the levels count from the namespace's root, where the
  /// kernel's count from the real root. Without a cgroup2 mount (a chroot) only the root cgroup is
  /// known: {1}. Empty = unknown (no /proc; a cgroup below the root without a cgroup2 mount):
  /// the one rule every cgroup helper reads, each answering unknown as it always has (task_helpers.cpp:
  /// the root, {1}; skb_socket_helpers.cpp: the run stops "not supported yet"). Kept in `run` (see
  /// kCgroupRereadNs); without run state, read now into `scratch`.
  const std::vector<std::uint64_t>& cgroup_ids(HelperRun* run, std::vector<std::uint64_t>& scratch) const;

 private:
  struct Read {
    std::once_flag task_once, netns_once, mount_once;
    TaskIdentity task;
    NetnsCookies netns;
    std::string cgroup2_mount;  // "" = none
  };
  const std::string& cgroup2_mount() const;
  std::shared_ptr<Read> read_;
};

}  // namespace bpfvm::helpers
