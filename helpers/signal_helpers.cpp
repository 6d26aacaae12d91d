// bpf_send_signal / bpf_send_signal_thread: a signal to the task running the program, which for a
// userspace run is the host thread that called run().
#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

constexpr std::uint32_t kLastSignal = 64;  // _NSIG: valid_signal()

// Pid 1 of the initial pid namespace (PROC_PID_INIT_INO: the inode every kernel gives its nsfs file);
// a container's pid 1 is not the kernel's global init.
bool is_global_init() {
  constexpr std::uint64_t kInitPidNsIno = 0xEFFFFFFCu;
  struct stat ns {};
  return stat("/proc/self/ns/pid", &ns) == 0 && ns.st_ino == kInitPidNsIno;
}

// bpf_send_signal_common on the current task, as the kernel answers from process context: -EPERM for
// the global init (is_global_init), then group_send_sig_info's -EINVAL for a signal past _NSIG, 0 for signal 0
// (only the permission check) and for a delivered one. `thread`: PIDTYPE_PID (this thread) rather
// than PIDTYPE_TGID (the process).
std::uint64_t send_signal_common(std::uint64_t sig_arg, bool thread) {
  const auto sig = static_cast<std::uint32_t>(sig_arg);  // the helpers take a u32
  const pid_t tgid = getpid();
  if (tgid == 1 && is_global_init()) return static_cast<std::uint64_t>(-EPERM);
  if (sig > kLastSignal) return static_cast<std::uint64_t>(-EINVAL);
  if (sig == 0) return 0;
  const long r = thread ? syscall(SYS_tgkill, tgid, static_cast<pid_t>(syscall(SYS_gettid)), static_cast<int>(sig))
                        : kill(tgid, static_cast<int>(sig));
  return r == 0 ? 0 : static_cast<std::uint64_t>(-static_cast<std::int64_t>(errno));
}

std::uint64_t send_signal(std::uint64_t sig, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                          vm::RunContext*) {
  return send_signal_common(sig, false);
}

std::uint64_t send_signal_thread(std::uint64_t sig, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                 vm::RunContext*) {
  return send_signal_common(sig, true);
}

}  // namespace

void add_signal_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_send_signal, "bpf_send_signal", send_signal, rt, RetType::Integer, {ArgType::Anything}));
  reg.add(entry(BPF_FUNC_send_signal_thread, "bpf_send_signal_thread", send_signal_thread, rt, RetType::Integer,
                {ArgType::Anything}));
}

}  // namespace bpfvm::helpers::detail
