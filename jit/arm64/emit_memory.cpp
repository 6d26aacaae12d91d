// Form::Load, LoadSx, Store, StoreReg and WideImm: memory access through guarded() (checked mode
// tests every access) and load_store() (Load/store register, immediate or register offset), zero-
// or sign-extending loads, and lddw with its pseudo sources.
#include <asmjit/arm/a64assembler.h>

#include "jit/arm64/emitter.hpp"
#include "jit/arm64/instruction_forms.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;
using isa::Form;

Result<void> A64Emitter::emit_load(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const unsigned size = op.width / 8;
  const bool sign_extend = op.form == Form::LoadSx;
  const auto [scaled, unscaled] = load_ids(op.width, sign_extend);
  // The register the load writes: X for 64-bit and sign-extending loads, W (zero-extending) else.
  const Gp rt = sign_extend || op.width == 64 ? x(insn.dst) : w(insn.dst);
  if (guarded(insn.src, insn.off, size, false, pc))
    load_store({scaled, unscaled}, rt, host(kScratchAddr), 0, size);
  else
    load_store({scaled, unscaled}, rt, x(insn.src), insn.off, size);
  return {};
}

Result<void> A64Emitter::emit_store(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const unsigned size = op.width / 8;
  const auto [scaled, unscaled] = store_ids(op.width);
  const bool via_addr = guarded(insn.dst, insn.off, size, true, pc);
  const Gp base = via_addr ? host(kScratchAddr) : x(insn.dst);
  const std::int64_t off = via_addr ? 0 : insn.off;
  const bool w64 = op.width == 64;
  if (op.form == Form::StoreReg) {
    load_store({scaled, unscaled}, sized(insn.src, w64), base, off, size);
    return {};
  }
  // Store of an immediate: sign-extended to the access width (RFC 9669 5.2); the low bytes are
  // what a narrower store writes. Zero needs no register (the zero register, unless blinding).
  Gp value;
  if (insn.imm == 0 && !req_.blind_constants) {
    value = w64 ? Gp(a64::xzr) : Gp(a64::wzr);
  } else {
    value = host(kScratchValue, w64);
    load_imm(value, insn.imm);
  }
  load_store({scaled, unscaled}, value, base, off, size);
  return {};
}

Result<void> A64Emitter::emit_wide_imm(const vm::Insn& insn, std::uint32_t pc) {
  if (static_cast<isa::LddwSrc>(insn.src) == isa::LddwSrc::Func) {
    // BPF_PSEUDO_FUNC: the native address of the subprogram (PC-relative ADR, ±1 MiB); callx
    // recognises it.
    const auto target = func_target(insn, pc);
    a_.adr(x(insn.dst), labels_[target]);
    return {};
  }
  load_imm(x(insn.dst), static_cast<std::int64_t>(req_.lddw_values[pc]));
  return {};
}

}  // namespace bpfvm::jit::arm64
