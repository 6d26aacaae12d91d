// bpf_sysctl_get_name, bpf_sysctl_get_current_value, bpf_sysctl_get_new_value, bpf_sysctl_set_new_value
// (cgroup_sysctl) on the run's SysctlRun, with the kernel's results (kernel/bpf/cgroup.c, 6.18).
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

constexpr std::size_t kPageBytes = 4096;  // PAGE_SIZE: the kernel's buffers for both values

SysctlRun* sysctl_of(vm::RunContext* run) {
  HelperRun* hr = run_state(run);
  return hr == nullptr ? nullptr : hr->sysctl;
}

std::uint64_t no_sysctl(vm::RunContext* run) {
  return fault(run, run->current_helper->name + " is not supported yet: the run names no sysctl (RunInput::sysctl)");
}

// bpf_sysctl.write as the program reads it: the context's first u32 (the kernel's ctx->write).
bool is_write(std::uint64_t ctx) {
  std::uint32_t write = 0;
  std::memcpy(&write, ptr(ctx), sizeof write);
  return write != 0;
}

// strscpy into [buf, buf + size): at most size - 1 bytes and a NUL; the length, or -E2BIG when `text`
// did not fit (nothing written for size 0). The kernel copies the directories and the name piece by
// piece, each with strscpy, so the whole path truncates the same way.
long copy_string(std::byte* buf, std::size_t size, std::string_view text) {
  if (size == 0) return -E2BIG;
  const std::size_t n = std::min(text.size(), size - 1);
  std::memcpy(buf, text.data(), n);
  buf[n] = std::byte{0};
  return n < text.size() ? -E2BIG : static_cast<long>(n);
}

// copy_sysctl_value: -E2BIG for an empty buffer; an absent value zeroes the buffer, -EINVAL; else the
// value, zero-padded (its length) or cut with a NUL in the last byte (-E2BIG).
long copy_value(std::byte* dst, std::size_t dst_len, const std::vector<std::uint8_t>& src) {
  if (dst_len == 0) return -E2BIG;
  if (src.empty()) {
    std::memset(dst, 0, dst_len);
    return -EINVAL;
  }
  std::memcpy(dst, src.data(), std::min(dst_len, src.size()));
  if (dst_len > src.size()) {
    std::memset(dst + src.size(), 0, dst_len - src.size());
    return static_cast<long>(src.size());
  }
  dst[dst_len - 1] = std::byte{0};
  return -E2BIG;
}

// bpf_sysctl_get_name(ctx, buf, buf_len, flags): the path under /proc/sys ("net/ipv4/tcp_mem"), or
// its last component with BPF_F_SYSCTL_BASE_NAME; other flag bits are ignored, as the kernel's.
std::uint64_t get_name(std::uint64_t, std::uint64_t buf, std::uint64_t len, std::uint64_t flags, std::uint64_t,
                       vm::RunContext* run) {
  const SysctlRun* s = sysctl_of(run);
  if (s == nullptr) return no_sysctl(run);
  if (!guest_ok(run, buf, len, true, "bpf_sysctl_get_name buf")) return 0;
  std::string_view name = s->name;
  if (flags & BPF_F_SYSCTL_BASE_NAME) {
    if (const auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
  }
  return ret(copy_string(ptr(buf), static_cast<std::size_t>(len), name));
}

std::uint64_t get_current_value(std::uint64_t, std::uint64_t buf, std::uint64_t len, std::uint64_t, std::uint64_t,
                                vm::RunContext* run) {
  const SysctlRun* s = sysctl_of(run);
  if (s == nullptr) return no_sysctl(run);
  if (!guest_ok(run, buf, len, true, "bpf_sysctl_get_current_value buf")) return 0;
  return ret(copy_value(ptr(buf), static_cast<std::size_t>(len), s->current_value));
}

// Not a write: the buffer zeroed, -EINVAL.
std::uint64_t get_new_value(std::uint64_t ctx, std::uint64_t buf, std::uint64_t len, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  const SysctlRun* s = sysctl_of(run);
  if (s == nullptr) return no_sysctl(run);
  if (!guest_ok(run, buf, len, true, "bpf_sysctl_get_new_value buf")) return 0;
  if (!is_write(ctx)) {
    if (len != 0) std::memset(ptr(buf), 0, static_cast<std::size_t>(len));
    return ret(-EINVAL);
  }
  return ret(copy_value(ptr(buf), static_cast<std::size_t>(len), s->new_value));
}

// -EINVAL unless a write with a value; more than PAGE_SIZE - 1 bytes -E2BIG; else the write's value
// becomes the buffer's bytes (what the sysctl gets if the hook allows it: RunOutput::sysctl_new_value).
std::uint64_t set_new_value(std::uint64_t ctx, std::uint64_t buf, std::uint64_t len, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  SysctlRun* s = sysctl_of(run);
  if (s == nullptr) return no_sysctl(run);
  if (!guest_ok(run, buf, len, false, "bpf_sysctl_set_new_value buf")) return 0;
  if (!is_write(ctx) || s->new_value.empty() || buf == 0 || len == 0) return ret(-EINVAL);
  if (len > kPageBytes - 1) return ret(-E2BIG);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(ptr(buf));
  s->new_value.assign(bytes, bytes + len);
  s->new_updated = true;
  return 0;
}

}  // namespace

void add_sysctl_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_sysctl_get_name, "bpf_sysctl_get_name", get_name, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::PtrToUninitMem, ArgType::ConstSize, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_sysctl_get_current_value, "bpf_sysctl_get_current_value", get_current_value, rt,
                RetType::Integer, {ArgType::PtrToCtx, ArgType::PtrToUninitMem, ArgType::ConstSize}));
  reg.add(entry(BPF_FUNC_sysctl_get_new_value, "bpf_sysctl_get_new_value", get_new_value, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::PtrToUninitMem, ArgType::ConstSize}));
  reg.add(entry(BPF_FUNC_sysctl_set_new_value, "bpf_sysctl_set_new_value", set_new_value, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::PtrToMem, ArgType::ConstSize}));
}

}  // namespace bpfvm::helpers::detail
