// Form::Jump, Ja and Ja32: CMP/TST (Add/subtract and Logical, flag-setting) plus one
// Conditional branch (immediate) to the target pc's label, or B for the unconditional forms.
#include <asmjit/arm/a64assembler.h>

#include "jit/arm64/emitter.hpp"
#include "jit/arm64/instruction_forms.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;
using isa::Form;
using isa::Kind;

Result<void> A64Emitter::emit_jump(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const auto target = static_cast<std::size_t>(vm::branch_target(insn, op, pc));
  if (op.form == Form::Ja || op.form == Form::Ja32) {
    a_.b(labels_[target]);
    return {};
  }
  const auto cc = jump_condition(op.kind);
  if (!cc) return make_error(Errc::Internal, "arm64 JIT: row is not a jump: " + std::string(op.mnemonic), pc);
  const bool w64 = op.width == 64;
  const Gp dst = sized(insn.dst, w64);
  // The immediate as the comparison sees it: sign-extended to 64 bits, or its 32 bits for JMP32.
  const std::int64_t value = w64 ? static_cast<std::int64_t>(insn.imm) : static_cast<std::uint32_t>(insn.imm);
  if (op.kind == Kind::Jset) {
    if (op.operand == isa::Operand::Reg) a_.tst(dst, sized(insn.src, w64));
    else logical_imm(a64::Inst::kIdAnds, w64 ? Gp(a64::xzr) : Gp(a64::wzr), dst, static_cast<std::uint64_t>(value));
  } else if (op.operand == isa::Operand::Reg) {
    a_.cmp(dst, sized(insn.src, w64));
  } else {
    // A W comparison is mod 2^32: for JMP32 a "negative" u32 works as CMN of its negation too.
    compare_imm(dst, w64 ? value : static_cast<std::int32_t>(insn.imm));
  }
  a_.b(*cc, labels_[target]);
  return {};
}

}  // namespace bpfvm::jit::arm64
