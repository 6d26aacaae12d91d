// Mappings from the public ProgramType onto the verifier's and the helpers' views of a type.
#pragma once

#include <optional>

#include "api/kernel_types.hpp"
#include "bpfvm/bpfvm.hpp"
#include "helpers/contexts.hpp"
#include "verifier/verifier.hpp"

namespace bpfvm {

/// What the verifier assumes on entry for `type`; an error where the type's rules need an expected
/// attach type it lacks (cgroup_sock_addr without its hook).
Result<verifier::ProgramTypeInfo> verifier_type_of(const ProgramType& type);

/// BPF_PROG_TYPE_TRACING (26): the context from the attach target's prototype in the kernel's BTF.
Result<verifier::ProgramTypeInfo> tracing_type_of(const ProgramType& type, std::string_view attach_target,
                                                  const KernelBtfTypes* kernel);

/// XDP, socket filter and tc run through helpers::test_run with a kernel packet context; others not.
std::optional<helpers::ProgType> packet_prog_type(const ProgramType& type);

}  // namespace bpfvm
