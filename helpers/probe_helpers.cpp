// probe_read family: copies from arbitrary addresses that fail with -EFAULT instead of crashing.
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

// bpf_probe_read{,_user,_kernel}(dst, size, unsafe_ptr): 0, or -EFAULT with dst zeroed.
// bpfvm has one address space, so user and kernel variants read the same host memory.
std::uint64_t probe_read(std::uint64_t dst, std::uint64_t size, std::uint64_t src, std::uint64_t, std::uint64_t,
                         vm::RunContext* run) {
  if (!guest_ok(run, dst, size, true, "bpf_probe_read dst")) return 0;
  if (probe_copy(run, ptr(dst), src, static_cast<std::size_t>(size))) return 0;
  std::memset(ptr(dst), 0, size);
  return static_cast<std::uint64_t>(-EFAULT);
}

// bpf_probe_read{,_user,_kernel}_str(dst, size, unsafe_ptr): length copied including the NUL
// (truncated strings are still terminated), 0 when size is 0, -EFAULT with dst zeroed on a fault.
std::uint64_t probe_read_str(std::uint64_t dst, std::uint64_t size, std::uint64_t src, std::uint64_t, std::uint64_t,
                             vm::RunContext* run) {
  if (size == 0) return 0;
  if (!guest_ok(run, dst, size, true, "bpf_probe_read_str dst")) return 0;
  const long n = probe_copy_str(run, reinterpret_cast<char*>(ptr(dst)), src, static_cast<std::size_t>(size));
  if (n < 0) std::memset(ptr(dst), 0, size);
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(n));
}

// bpf_copy_from_user(dst, size, user_ptr): 0, or -EFAULT with dst zeroed. The host process is the
// "user" address space.
std::uint64_t copy_from_user(std::uint64_t dst, std::uint64_t size, std::uint64_t src, std::uint64_t, std::uint64_t,
                             vm::RunContext* run) {
  return probe_read(dst, size, src, 0, 0, run);
}

}  // namespace

void add_probe_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  const std::initializer_list<ArgType> args{ArgType::PtrToUninitMem, ArgType::ConstSizeOrZero, ArgType::Anything};
  reg.add(entry(BPF_FUNC_probe_read, "bpf_probe_read", probe_read, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_probe_read_user, "bpf_probe_read_user", probe_read, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_probe_read_kernel, "bpf_probe_read_kernel", probe_read, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_probe_read_str, "bpf_probe_read_str", probe_read_str, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_probe_read_user_str, "bpf_probe_read_user_str", probe_read_str, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_copy_from_user, "bpf_copy_from_user", copy_from_user, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_probe_read_kernel_str, "bpf_probe_read_kernel_str", probe_read_str, rt, RetType::Integer, args));
}

}  // namespace bpfvm::helpers::detail
