// The cgroup v2 directory the test process runs in: where the runtime tests make the child cgroups
// their cgroup programs and helpers (bpf_skb_under_cgroup, sock_ops) are tried on.
#pragma once

#include <fstream>
#include <string>

namespace bpfvm::testing {

/// The cgroup v2 directory this process runs in ("0::/path" in /proc/self/cgroup under the cgroup2
/// mount), or "" when there is none (a chroot or container without /sys/fs/cgroup: a test needing it
/// calls skip_case, tests/kernel/skipped_cases.hpp).
inline std::string own_cgroup2_dir() {
  std::ifstream mounts("/proc/self/mounts");
  std::string dev, dir, type, rest, root;
  while (mounts >> dev >> dir >> type && std::getline(mounts, rest))
    if (type == "cgroup2") {
      root = dir;
      break;
    }
  std::ifstream self("/proc/self/cgroup");
  std::string line;
  while (!root.empty() && std::getline(self, line))
    if (line.starts_with("0::")) return root + (line.size() > 4 ? line.substr(3) : "");
  return {};
}

}  // namespace bpfvm::testing
