// KernelBtfTypes: the verifier's view of the running kernel's types (verifier::KernelTypes) over its
// BTF (a loader::CoreTarget, usually /sys/kernel/btf/vmlinux), and the tracing context built from it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "loader/core_target.hpp"
#include "verifier/verifier.hpp"

namespace bpfvm {

class KernelBtfTypes final : public verifier::KernelTypes {
 public:
  explicit KernelBtfTypes(std::shared_ptr<const loader::CoreTarget> target) : target_(std::move(target)) {}
  std::optional<std::uint32_t> struct_id(std::string_view name) const override;
  std::string struct_name(std::uint32_t id) const override;
  /// The kernel's btf_struct_walk: nested structs, unions and arrays are walked into, a whole pointer
  /// member to a struct gives that struct, anything else inside a member is a number.
  verifier::BtfFieldLoad load(std::uint32_t id, std::uint64_t off, std::uint32_t size) const override;
  /// Per-CPU when the VAR is in the .data..percpu DATASEC (vmlinux BTF holds only those on 6.18).
  std::optional<verifier::KernelVariable> variable(std::uint32_t id) const override;
  std::optional<verifier::KernelVariable> type(std::uint32_t id) const override;
  std::optional<std::uint64_t> member_offset(std::uint32_t id, std::string_view name) const override;

  /// The name of the kernel function with BTF id `id` (a `call kfunc` insn's imm), or the kernel's
  /// refusal "kernel btf_id N is not a function".
  Result<std::string> function_name(std::uint32_t id) const;

  /// The arguments of a tracing program's attach target (tp_btf/<name>: the btf_trace_<name>
  /// prototype without its leading void *), or why the kernel would refuse it.
  Result<std::vector<verifier::program_types::TracingArg>> tracing_args(std::uint32_t expected_attach_type,
                                                                        std::string_view target) const;

 private:
  std::shared_ptr<const loader::CoreTarget> target_;
};

}  // namespace bpfvm
