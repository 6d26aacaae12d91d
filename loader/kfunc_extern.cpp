// Extern kfunc calls (`extern int bpf_dynptr_size(...) __ksym;`), resolved as libbpf's
// bpf_object__resolve_ksym_func_btf_id does: by name against the target (kernel) BTF, the call
// becoming BPF_PSEUDO_KFUNC_CALL (src 2) with imm = the kernel FUNC's id, off 0 (vmlinux). The name
// travels with the program (vm::Program::kfuncs), so engines find bpfvm's implementation by it.
#include <elf.h>

#include <algorithm>

#include "loader/core_target.hpp"
#include "loader/load_context.hpp"

namespace bpfvm::loader {

std::string resolve_kfunc(LoadContext& ctx, ProgSection& ps, std::uint32_t idx, const ElfSymbol& sym) {
  const std::string name(sym.name);
  vm::Insn& insn = ps.insns[idx];
  std::int32_t id = 0;
  auto target = parsed_target(ctx);
  if (target && *target != nullptr) {
    const Btf& targ = (*target)->btf();
    for (const std::uint32_t t : (*target)->named(name))
      if (targ.kind(t) == BtfKind::Func && targ.name(t) == name) id = static_cast<std::int32_t>(t);
    // libbpf: a weak kfunc the kernel lacks is poisoned (the caller's path); a strong one fails.
    if (id == 0) return "kfunc '" + name + "'" + (sym.bind == STB_WEAK ? "" : " (the kernel's BTF has no function of that name)");
  } else {
    // No target BTF: an id of bpfvm's own, negative so it never looks like a BTF id, one per name.
    auto it = std::find(ctx.kfunc_names.begin(), ctx.kfunc_names.end(), name);
    if (it == ctx.kfunc_names.end()) it = ctx.kfunc_names.insert(it, name);
    id = -static_cast<std::int32_t>(it - ctx.kfunc_names.begin()) - 1;
  }
  insn.src = 2;  // BPF_PSEUDO_KFUNC_CALL
  insn.off = 0;
  insn.imm = id;
  ps.applied.push_back({idx, AppliedReloc::Kind::Kfunc, name, id});
  return {};
}

}  // namespace bpfvm::loader
