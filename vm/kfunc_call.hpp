// Which implementation a `call kfunc` insn reaches: the program names the kfunc (Program::kfuncs), the
// registry holds it by name. Shared by the verifier and every engine so all refuse in the same words.
#pragma once

#include <cstddef>

#include "bpfvm/result.hpp"
#include "vm/helper_registry.hpp"
#include "vm/program.hpp"

namespace bpfvm::vm {

/// The kfunc the `call kfunc` at pc calls, or Errc::Unsupported naming the insn and the kfunc:
/// "kfunc bpf_foo (BTF id 123) is not supported yet", an unnamed id, or a module BTF (off != 0).
Result<const KfuncEntry*> resolve_kfunc_call(const Program& program, std::size_t pc, const HelperRegistry& registry);

}  // namespace bpfvm::vm
