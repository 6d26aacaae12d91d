// Kernel object pointers (the kernel's PTR_TO_BTF_ID, RegType::BtfId): loads through them checked
// against the struct's layout in the kernel's BTF, and the helpers that return one.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "verifier/checks.hpp"

namespace bpfvm::verifier {

/// A load (or refused store) of `size` bytes at `p` + [lo, hi] (lo == hi: a constant offset); on a
/// permitted load *loaded is what the destination receives (the kernel's check_ptr_to_btf_access).
Check btf_pointer_access(const VerifierOptions& opts, std::uint32_t pc, ViolationDetail d, const RegValue& p,
                         std::int64_t lo, std::int64_t hi, bool bounded, int size, bool write, RegValue* loaded);

/// A kernel helper returning a kernel object (RET_PTR_TO_BTF_ID*): the struct it points to and whether
/// it may be NULL. Nullopt for helpers bpfvm does not model this way.
struct BtfReturn {
  std::string_view struct_name;
  bool maybe_null = false;
};
std::optional<BtfReturn> helper_btf_return(std::uint32_t helper);

/// The struct a kernel helper's ARG_PTR_TO_BTF_ID argument `arg` (1..5) points to (the bpf_func_proto's
/// arg_btf_id). Nullopt for helpers bpfvm does not model this way (per-cpu variables).
std::optional<std::string_view> helper_btf_arg(std::uint32_t helper, int arg);

/// What lddw BPF_PSEUDO_BTF_ID of `var` loads (check_pseudo_btf_id): a per-CPU variable's pointer
/// (MEM_PERCPU), a struct's kernel object pointer, or read-only memory of the variable's size.
RegValue kernel_variable_pointer(const KernelVariable& var);

/// The register a tracing argument of struct `btf_id` gives (PTR_TO_BTF_ID | PTR_TRUSTED).
RegValue btf_pointer(std::uint32_t btf_id);

}  // namespace bpfvm::verifier
