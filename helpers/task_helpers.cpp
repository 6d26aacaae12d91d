// Current-task helpers: pid/tgid, uid/gid, comm.
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers {

TaskIdentity TaskIdentity::of_this_process() {
  TaskIdentity t;
  t.tgid = static_cast<std::uint32_t>(getpid());
  t.pid = static_cast<std::uint32_t>(syscall(SYS_gettid));
  t.uid = static_cast<std::uint32_t>(getuid());
  t.gid = static_cast<std::uint32_t>(getgid());
  std::ifstream f("/proc/self/comm");
  std::getline(f, t.comm);
  return t;
}

namespace detail {
namespace {

using vm::ArgType;
using vm::RetType;

constexpr std::size_t kTaskCommLen = 16;

std::uint64_t get_current_pid_tgid(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                   vm::RunContext* run) {
  const auto& t = runtime_of(run).task;
  return (std::uint64_t{t.tgid} << 32) | t.pid;
}

std::uint64_t get_current_uid_gid(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                  vm::RunContext* run) {
  const auto& t = runtime_of(run).task;
  return (std::uint64_t{t.gid} << 32) | t.uid;
}

// bpf_get_current_comm(buf, size): strscpy_pad into buf; 0. (size 0 is refused by the verifier.)
std::uint64_t get_current_comm(std::uint64_t buf, std::uint64_t size, std::uint64_t, std::uint64_t, std::uint64_t,
                               vm::RunContext* run) {
  if (size == 0) return fault(run, "size must be > 0");
  if (!guest_ok(run, buf, size, true, "bpf_get_current_comm buf")) return 0;
  const auto& comm = runtime_of(run).task.comm;
  const std::size_t n = std::min({comm.size(), kTaskCommLen - 1, static_cast<std::size_t>(size - 1)});
  std::memset(ptr(buf), 0, size);
  std::memcpy(ptr(buf), comm.data(), n);
  return 0;
}

}  // namespace

void add_task_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_get_current_pid_tgid, "bpf_get_current_pid_tgid", get_current_pid_tgid, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_get_current_uid_gid, "bpf_get_current_uid_gid", get_current_uid_gid, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_get_current_comm, "bpf_get_current_comm", get_current_comm, rt, RetType::Integer,
                {ArgType::PtrToUninitMem, ArgType::ConstSize}));
}

}  // namespace detail
}  // namespace bpfvm::helpers
