// bpf_trace_printk (to HelperRuntime::trace_sink) and bpf_snprintf.
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "helpers/bprintf.hpp"
#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

// bpf_trace_printk(fmt, fmt_size, a1, a2, a3): fmt must hold a NUL within fmt_size; at most three
// conversions. Returns the formatted length (bstr_printf's count), or -EINVAL.
std::uint64_t trace_printk(std::uint64_t fmt, std::uint64_t fmt_size, std::uint64_t a1, std::uint64_t a2,
                           std::uint64_t a3, vm::RunContext* run) {
  if (fmt_size == 0) return ret(-EINVAL);
  if (!guest_ok(run, fmt, fmt_size, false, "bpf_trace_printk fmt")) return 0;
  const char* f = reinterpret_cast<const char*>(ptr(fmt));
  const void* nul = std::memchr(f, 0, fmt_size);
  if (nul == nullptr) return ret(-EINVAL);
  const std::uint64_t args[] = {a1, a2, a3};
  std::string out;
  if (int err = bprintf(run, std::string_view(f, static_cast<const char*>(nul) - f), args, out)) return ret(err);
  const std::size_t len = out.size();
  if (out.size() > kMaxBprintfBuf - 1) out.resize(kMaxBprintfBuf - 1);
  if (auto& sink = runtime_of(run).trace_sink) sink(out);
  return len;
}

// bpf_snprintf(str, str_size, fmt, data, data_len): data is data_len / 8 u64 arguments (at most 12).
// Writes at most str_size bytes, always NUL-terminated when str_size > 0, and returns the full
// length including the NUL, or -EINVAL.
std::uint64_t snprintf_helper(std::uint64_t str, std::uint64_t str_size, std::uint64_t fmt, std::uint64_t data,
                              std::uint64_t data_len, vm::RunContext* run) {
  if (data_len % 8 || data_len > kMaxBprintfArgs * 8 || (data_len && !data)) return ret(-EINVAL);
  if (!guest_ok(run, str, str_size, true, "bpf_snprintf str") ||
      !guest_ok(run, data, data_len, false, "bpf_snprintf data"))
    return 0;
  // fmt is ARG_PTR_TO_CONST_STR: the verifier proved it NUL-terminated in a read-only map value.
  std::string f(64 * 1024, '\0');
  const long n = probe_copy_str(run, f.data(), fmt, f.size());
  if (n <= 0) return fault(run, "fmt " + hex(fmt) + " is not a readable string");
  f.resize(static_cast<std::size_t>(n - 1));
  std::vector<std::uint64_t> args(data_len / 8);
  if (data_len) std::memcpy(args.data(), ptr(data), data_len);
  std::string out;
  if (int err = bprintf(run, f, args, out)) return ret(err);
  if (str_size > 0) {
    const std::size_t n_copy = std::min<std::size_t>(out.size(), static_cast<std::size_t>(str_size - 1));
    std::memcpy(ptr(str), out.data(), n_copy);
    ptr(str)[n_copy] = std::byte{0};
  }
  return out.size() + 1;
}

// bpf_trace_vprintk(fmt, fmt_size, data, data_len): bpf_trace_printk with its values in a u64 array
// (at most 12), as bpf_snprintf takes them. The formatted length, or -EINVAL.
std::uint64_t trace_vprintk(std::uint64_t fmt, std::uint64_t fmt_size, std::uint64_t data, std::uint64_t data_len,
                            std::uint64_t, vm::RunContext* run) {
  if (data_len % 8 || data_len > kMaxBprintfArgs * 8 || (data_len && !data)) return ret(-EINVAL);
  if (fmt_size == 0) return ret(-EINVAL);
  if (!guest_ok(run, fmt, fmt_size, false, "bpf_trace_vprintk fmt") ||
      !guest_ok(run, data, data_len, false, "bpf_trace_vprintk data"))
    return 0;
  const char* f = reinterpret_cast<const char*>(ptr(fmt));
  const void* nul = std::memchr(f, 0, fmt_size);
  if (nul == nullptr) return ret(-EINVAL);
  std::vector<std::uint64_t> args(data_len / 8);
  if (data_len) std::memcpy(args.data(), ptr(data), data_len);
  std::string out;
  if (int err = bprintf(run, std::string_view(f, static_cast<const char*>(nul) - f), args, out)) return ret(err);
  const std::size_t len = out.size();
  if (out.size() > kMaxBprintfBuf - 1) out.resize(kMaxBprintfBuf - 1);
  if (auto& sink = runtime_of(run).trace_sink) sink(out);
  return len;
}

}  // namespace

void add_print_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  // The kernel declares only fmt and its size (bpf_trace_printk_proto); the values are DONTCARE, so
  // bpf_printk with fewer than three values leaves r5 (or r4, r3) unset. They are read with probe
  // copies for %s and friends, so any value is safe.
  reg.add(entry(BPF_FUNC_trace_printk, "bpf_trace_printk", trace_printk, rt, RetType::Integer,
                {ArgType::PtrToMem, ArgType::ConstSize}));
  reg.add(entry(BPF_FUNC_trace_vprintk, "bpf_trace_vprintk", trace_vprintk, rt, RetType::Integer,
                {ArgType::PtrToMem, ArgType::ConstSize, ArgType::PtrToMemOrNull, ArgType::ConstSizeOrZero}));
  reg.add(entry(BPF_FUNC_snprintf, "bpf_snprintf", snprintf_helper, rt, RetType::Integer,
                {ArgType::PtrToUninitMem, ArgType::ConstSizeOrZero, ArgType::PtrToConstStr, ArgType::PtrToMemOrNull,
                 ArgType::ConstSizeOrZero}));
}

}  // namespace bpfvm::helpers::detail
