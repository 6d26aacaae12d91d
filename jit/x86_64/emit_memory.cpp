// Form::Load, LoadSx, Store, StoreReg and WideImm: memory access through guarded() (checked mode
// tests every access), zero- or sign-extending loads, and lddw with its pseudo sources.
#include "jit/x86_64/emitter.hpp"

namespace bpfvm::jit::x86_64 {

using namespace asmjit;
using isa::Form;

Result<void> X86Emitter::emit_load(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const unsigned size = op.width / 8;
  const Mem m = guarded(insn.src, insn.off, size, false, pc);
  if (op.form == Form::LoadSx) {
    if (op.width == 32) a_.movsxd(q(insn.dst), m);
    else a_.movsx(q(insn.dst), m);
    return {};
  }
  switch (op.width) {
    case 8: case 16: a_.movzx(d(insn.dst), m); break;
    case 32: a_.mov(d(insn.dst), m); break;
    default: a_.mov(q(insn.dst), m); break;
  }
  return {};
}

Result<void> X86Emitter::emit_store(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const unsigned size = op.width / 8;
  if (op.form == Form::StoreReg) {
    const Mem m = guarded(insn.dst, insn.off, size, true, pc);
    a_.mov(m, sized(insn.src, op.width));
    return {};
  }
  // Store of an immediate: sign-extended to the access width (RFC 9669 5.2).
  if (req_.blind_constants) {
    load_imm(x86::r9, insn.imm);
    const Mem m = guarded(insn.dst, insn.off, size, true, pc);
    const Gp value = op.width == 8    ? Gp(x86::r9b)
                     : op.width == 16 ? Gp(x86::r9w)
                                      : w(x86::r9, op.width == 64);
    a_.mov(m, value);
    return {};
  }
  const Mem m = guarded(insn.dst, insn.off, size, true, pc);
  const std::int64_t v = op.width == 8    ? static_cast<std::int8_t>(insn.imm)
                         : op.width == 16 ? static_cast<std::int16_t>(insn.imm)
                                          : static_cast<std::int64_t>(insn.imm);
  a_.mov(m, imm(v));
  return {};
}

Result<void> X86Emitter::emit_wide_imm(const vm::Insn& insn, std::uint32_t pc) {
  if (static_cast<isa::LddwSrc>(insn.src) == isa::LddwSrc::Func) {
    // BPF_PSEUDO_FUNC: the native address of the subprogram; callx recognises it.
    const auto target = func_target(insn, pc);
    a_.lea(q(insn.dst), x86::ptr(labels_[target]));
    return {};
  }
  load_imm(q(insn.dst), static_cast<std::int64_t>(req_.lddw_values[pc]));
  return {};
}

}  // namespace bpfvm::jit::x86_64
