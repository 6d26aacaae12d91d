// The cgroup v2 directory the test process runs in: where the runtime tests make the child cgroups
// their cgroup programs and helpers (bpf_skb_under_cgroup, sock_ops) are tried on.
#pragma once

#include <unistd.h>

#include <fstream>
#include <string>

#include "helpers/runtime.hpp"

namespace bpfvm::testing {

/// The cgroup v2 directory this process runs in ("0::/path" in /proc/self/cgroup under the cgroup2
/// mount), or "" when there is none (a chroot or container without /sys/fs/cgroup: a test needing it
/// calls skip_case, tests/kernel/skipped_cases.hpp).
inline std::string own_cgroup2_dir() { return helpers::cgroup2_dir_of_this_process(); }

/// Moves this process (every thread) into the cgroup v2 directory `dir`; false when the kernel refuses.
inline bool move_to_cgroup(const std::string& dir) {
  std::ofstream procs(dir + "/cgroup.procs");
  procs << ::getpid() << std::flush;
  return procs.good();
}

}  // namespace bpfvm::testing
