// The kernel's bpf_bprintf_prepare + bstr_printf: printk-style formatting shared by the print helpers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vm/run_context.hpp"

namespace bpfvm::helpers::detail {

/// MAX_BPRINTF_VARARGS and MAX_BPRINTF_BUF.
inline constexpr std::size_t kMaxBprintfArgs = 12;
inline constexpr std::size_t kMaxBprintfBuf = 1024;

/// Formats `fmt` (no NUL) with `args` (one u64 per conversion). Accepts exactly what the kernel
/// accepts: %d %i %u %x %X with optional l/ll, %c, %s, %%, %p %pK %px %ps %pS %pB, %pks/%pus, %pI4
/// %pi4 %pI6 %pi6, flags [0+- ] and a width; no precision. Returns 0 or -EINVAL.
/// Strings and IP addresses are read like probe_read (empty / zero on a fault).
/// Pointers print as 16 hex digits (the kernel hashes %p/%pK and symbolizes %ps/%pS/%pB).
int bprintf(vm::RunContext* run, std::string_view fmt, std::span<const std::uint64_t> args, std::string& out);

}  // namespace bpfvm::helpers::detail
