// __ksym variable externs, resolved as libbpf's bpf_object__resolve_externs does: a typed one
// (`extern const struct rq runqueues __ksym;`) against the target (kernel) BTF, so its lddw becomes
// BPF_PSEUDO_BTF_ID naming the kernel's VAR; an untyped one (`extern const void x __ksym;`) to the
// kernel address LoadOptions::kernel_symbol_address gives (/proc/kallsyms by default in the API).
#include <elf.h>

#include "loader/core_spec.hpp"
#include "loader/core_target.hpp"
#include "loader/load_context.hpp"

namespace bpfvm::loader {

using isa::to_underlying;

namespace {

// The VAR of the object's .ksyms DATASEC named `name`, or nullopt (a kfunc is a FUNC there).
std::optional<std::uint32_t> ksym_var(const Btf& btf, std::string_view name) {
  const auto ds = btf.find(BtfKind::Datasec, ".ksyms");
  if (!ds) return std::nullopt;
  for (std::uint32_t i = 0; i < btf.vlen(*ds); ++i) {
    const std::uint32_t id = btf.secinfo(*ds, i).type;
    if (btf.kind(id) == BtfKind::Var && btf.name(id) == name) return id;
  }
  return std::nullopt;
}

}  // namespace

std::string resolve_ksym(LoadContext& ctx, ProgSection& ps, std::uint32_t idx, const ElfSymbol& sym) {
  const auto var = ctx.btf ? ksym_var(*ctx.btf, sym.name) : std::nullopt;
  if (!var) return "ksym '" + std::string(sym.name) + "'";
  const bool weak = sym.bind == STB_WEAK;
  vm::Insn& lo = ps.insns[idx];
  vm::Insn& hi = ps.insns[idx + 1];
  const std::string name(sym.name);
  const auto load_constant = [&](std::uint64_t value, AppliedReloc::Kind kind, std::int64_t recorded) {
    lo.src = to_underlying(isa::LddwSrc::Imm64);
    lo.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
    hi.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(value >> 32));
    ps.applied.push_back({idx, kind, name, recorded});
  };
  const std::uint32_t local_type = ctx.btf->skip_mods_and_typedefs(ctx.btf->size_or_type(*var));
  if (local_type == 0) {  // `const void`: untyped, the symbol's address
    const auto address = ctx.options.kernel_symbol_address ? ctx.options.kernel_symbol_address(name) : std::nullopt;
    if (address) {
      load_constant(*address, AppliedReloc::Kind::KsymAddress, static_cast<std::int64_t>(*address));
      return {};
    }
    if (weak) {  // libbpf: an unresolved weak extern reads 0
      load_constant(0, AppliedReloc::Kind::KsymAddress, 0);
      return {};
    }
    return "ksym '" + name + "' (no kernel address for it: /proc/kallsyms or LoadOptions::kernel_symbol_address)";
  }
  auto target = parsed_target(ctx);
  if (!target || *target == nullptr) return "ksym '" + name + "' (a typed __ksym needs the kernel's BTF: LoadOptions::target_btf)";
  const Btf& targ = (*target)->btf();
  std::optional<std::uint32_t> found;
  for (const std::uint32_t id : (*target)->named(name))
    if (targ.kind(id) == BtfKind::Var && targ.name(id) == name) found = id;
  if (!found) {
    if (weak) {
      load_constant(0, AppliedReloc::Kind::KsymAddress, 0);
      return {};
    }
    return "ksym '" + name + "' (the kernel's BTF has no variable of that name)";
  }
  if (!core_types_are_compat(*ctx.btf, local_type, targ, targ.skip_mods_and_typedefs(targ.size_or_type(*found))))
    return "ksym '" + name + "' (its type differs from the kernel's)";
  lo.src = to_underlying(isa::LddwSrc::BtfId);
  lo.imm = static_cast<std::int32_t>(*found);
  hi.imm = 0;  // the BTF object: vmlinux
  ps.applied.push_back({idx, AppliedReloc::Kind::Ksym, name, *found});
  return {};
}

}  // namespace bpfvm::loader
