// Constant-string helper arguments: ARG_PTR_TO_CONST_STR (the kernel's check_reg_const_str) and the
// format check bpf_snprintf gets at load time (check_bpf_snprintf_call).
#pragma once

#include <cstdint>
#include <string_view>

#include "verifier/domains/reg_value.hpp"
#include "verifier/verifier.hpp"

namespace bpfvm::verifier {

/// Why `v` is no constant string in `map` (the kernel's words), or nullptr: then `str` is the string,
/// NUL excluded. A constant string is a pointer at a constant offset into a frozen BPF_F_RDONLY_PROG
/// array's value with a NUL before the value ends.
const char* const_str_problem(const MapInfo& map, const RegValue& v, std::string_view& str);

/// bpf_bprintf_prepare's checks on a format given `args` values: printable ASCII, and each conversion
/// one the kernel's printk subset knows (%d %i %u %x %X with l/ll, %c, %s, %p, %pK %px %ps %pS %pB,
/// %pks %pus, %pI4 %pi4 %pI6 %pi6, with [0 +-] flags and a width), no more of them than values.
bool printk_format_ok(std::string_view fmt, std::uint64_t args);

}  // namespace bpfvm::verifier
