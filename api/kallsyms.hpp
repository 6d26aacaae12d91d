// kallsyms_address: a kernel symbol's address from /proc/kallsyms, as libbpf resolves untyped __ksym
// externs (LoadOptions::kernel_symbol_address's default).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace bpfvm {

/// The address /proc/kallsyms lists for `name` ("ADDR TYPE NAME [MODULE]" lines); nullopt when the
/// file cannot be read, no line names it, or lines name it with different addresses (libbpf:
/// "resolution is ambiguous"). Hidden addresses (kptr_restrict, no CAP_SYSLOG) read as 0, as libbpf gets.
std::optional<std::uint64_t> kallsyms_address(const std::string& name);

}  // namespace bpfvm
