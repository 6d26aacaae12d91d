// Resolution of `call kfunc` insns to registered kfuncs, by the name the program carries.
#include "vm/kfunc_call.hpp"

#include <string>

namespace bpfvm::vm {

Result<const KfuncEntry*> resolve_kfunc_call(const Program& program, std::size_t pc, const HelperRegistry& registry) {
  const auto& insn = program.insns[pc];
  const auto at = static_cast<std::uint32_t>(pc);
  const std::string id = std::to_string(insn.imm);
  // Kernel: off != 0 names a module's BTF (fd_array index); bpfvm reads only vmlinux's.
  if (insn.off != 0)
    return make_error(Errc::Unsupported, "call kfunc " + id + " from module BTF (off " + std::to_string(insn.off) +
                                             ") is not supported yet", at);
  const std::string* name = program.kfunc_name(insn.imm);
  if (name == nullptr)
    return make_error(Errc::Unsupported, "call kfunc " + id + ": no kernel function with this BTF id is known "
                                             "(no target BTF names it); kfunc calls by id are not supported yet", at);
  const KfuncEntry* k = registry.find_kfunc(*name);
  if (k == nullptr || k->call.fn == nullptr)
    return make_error(Errc::Unsupported, "kfunc " + *name + " (BTF id " + id + ") is not supported yet", at);
  return k;
}

}  // namespace bpfvm::vm
