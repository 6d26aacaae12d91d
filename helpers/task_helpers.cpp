// Current-task helpers: pid/tgid, uid/gid, comm, cgroup ids.
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "helpers/guest_memory.hpp"
#include "maps/cgroup_array_map.hpp"

namespace bpfvm::helpers {

namespace detail {
namespace {

using vm::ArgType;
using vm::RetType;

constexpr std::size_t kTaskCommLen = 16;

std::uint64_t get_current_pid_tgid(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                   vm::RunContext* run) {
  const auto& t = runtime_of(run).current_task();
  return (std::uint64_t{t.tgid} << 32) | t.pid;
}

std::uint64_t get_current_uid_gid(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                  vm::RunContext* run) {
  const auto& t = runtime_of(run).current_task();
  return (std::uint64_t{t.gid} << 32) | t.uid;
}

// bpf_get_current_comm(buf, size): strscpy_pad into buf; 0. (size 0 is refused by the verifier.)
std::uint64_t get_current_comm(std::uint64_t buf, std::uint64_t size, std::uint64_t, std::uint64_t, std::uint64_t,
                               vm::RunContext* run) {
  if (size == 0) return fault(run, "size must be > 0");
  if (!guest_ok(run, buf, size, true, "bpf_get_current_comm buf")) return 0;
  const auto& comm = runtime_of(run).current_task().comm;
  const std::size_t n = std::min({comm.size(), kTaskCommLen - 1, static_cast<std::size_t>(size - 1)});
  std::memset(ptr(buf), 0, size);
  std::memcpy(ptr(buf), comm.data(), n);
  return 0;
}

// The current task's cgroup chain, root first (TaskIdentity::cgroup_ids): the embedder's, else the
// calling thread's as this run read it; unknown (no cgroup2 mount): {1}, the root cgroup every task is
// in then.
const std::vector<std::uint64_t>& current_cgroup_ids(vm::RunContext* run, std::vector<std::uint64_t>& scratch) {
  static constexpr std::uint64_t kRootCgroupId = 1;
  const auto& set = runtime_of(run).current_task().cgroup_ids;
  if (set) return *set;
  const auto& ids = runtime_of(run).process.cgroup_ids(run_state(run), scratch);
  if (!ids.empty()) return ids;
  scratch.assign(1, kRootCgroupId);
  return scratch;
}

// bpf_get_current_cgroup_id: the id of the task's cgroup v2.
std::uint64_t get_current_cgroup_id(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                    vm::RunContext* run) {
  std::vector<std::uint64_t> scratch;
  const auto& ids = current_cgroup_ids(run, scratch);
  return ids.empty() ? 0 : ids.back();
}

// bpf_get_current_ancestor_cgroup_id(int level): the ancestor at that level (0 = the root), 0 for a
// negative level or one below the task's cgroup (cgroup_ancestor's NULL).
std::uint64_t get_current_ancestor_cgroup_id(std::uint64_t level, std::uint64_t, std::uint64_t, std::uint64_t,
                                             std::uint64_t, vm::RunContext* run) {
  std::vector<std::uint64_t> scratch;
  const auto& ids = current_cgroup_ids(run, scratch);
  const auto l = static_cast<std::int32_t>(level);
  return l < 0 || static_cast<std::size_t>(l) >= ids.size() ? 0 : ids[static_cast<std::size_t>(l)];
}

// bpf_get_ns_current_pid_tgid(dev, ino, nsdata, size): struct bpf_pidns_info {pid, tgid} of the
// current task in the pid namespace (dev, ino) when that is the task's own; else -EINVAL with nsdata
// zeroed (the kernel's answer for any other namespace, a dev that does not fit a dev_t or a wrong size).
std::uint64_t get_ns_current_pid_tgid(std::uint64_t dev, std::uint64_t ino, std::uint64_t nsdata, std::uint64_t size,
                                      std::uint64_t, vm::RunContext* run) {
  if (!guest_ok(run, nsdata, size, true, "bpf_get_ns_current_pid_tgid nsdata")) return 0;
  const auto& t = runtime_of(run).current_task();
  if (size != sizeof(bpf_pidns_info) || dev > 0xffffffffu || dev != t.pidns_dev || ino != t.pidns_ino ||
      t.pidns_ino == 0) {
    std::memset(ptr(nsdata), 0, size);
    return static_cast<std::uint64_t>(-EINVAL);
  }
  const bpf_pidns_info info{t.pid, t.tgid};
  std::memcpy(ptr(nsdata), &info, sizeof info);
  return 0;
}

// bpf_current_task_under_cgroup(map, index): -E2BIG out of range, -EAGAIN on an empty slot, else
// whether the running task is in that cgroup's hierarchy — which the host said when it put the cgroup
// in the CGROUP_ARRAY (maps::CgroupRef::holds_current_task).
std::uint64_t current_task_under_cgroup(std::uint64_t m, std::uint64_t index, std::uint64_t, std::uint64_t,
                                        std::uint64_t, vm::RunContext* run) {
  const auto* map = reinterpret_cast<const maps::Map*>(static_cast<std::uintptr_t>(m));
  if (map->type() != maps::MapType::CgroupArray)
    return fault(run, "map is " + maps::map_type_name(map->type()) + ", not BPF_MAP_TYPE_CGROUP_ARRAY");
  const int r = static_cast<const maps::CgroupArrayMap*>(map)->current_task_under(static_cast<std::uint32_t>(index));
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(r));
}

}  // namespace

void add_task_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_get_current_pid_tgid, "bpf_get_current_pid_tgid", get_current_pid_tgid, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_get_current_uid_gid, "bpf_get_current_uid_gid", get_current_uid_gid, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_get_current_comm, "bpf_get_current_comm", get_current_comm, rt, RetType::Integer,
                {ArgType::PtrToUninitMem, ArgType::ConstSize}));
  reg.add(entry(BPF_FUNC_get_current_cgroup_id, "bpf_get_current_cgroup_id", get_current_cgroup_id, rt,
                RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_get_current_ancestor_cgroup_id, "bpf_get_current_ancestor_cgroup_id",
                get_current_ancestor_cgroup_id, rt, RetType::Integer, {ArgType::Anything}));
  reg.add(entry(BPF_FUNC_get_ns_current_pid_tgid, "bpf_get_ns_current_pid_tgid", get_ns_current_pid_tgid, rt,
                RetType::Integer, {ArgType::Anything, ArgType::Anything, ArgType::PtrToUninitMem, ArgType::ConstSize}));
  reg.add(entry(BPF_FUNC_current_task_under_cgroup, "bpf_current_task_under_cgroup", current_task_under_cgroup, rt,
                RetType::Integer, {ArgType::ConstMapPtr, ArgType::Anything}));
}

}  // namespace detail
}  // namespace bpfvm::helpers
