// Form::Jump, Ja and Ja32: cmp/test plus one jcc to the target pc's label, rel8 when the size
// bounds (native_size_bound.hpp) prove the target is near.
#include "jit/x86_64/condition_codes.hpp"
#include "jit/x86_64/emitter.hpp"

namespace bpfvm::jit::x86_64 {

using namespace asmjit;
using isa::Form;
using isa::Kind;

Result<void> X86Emitter::emit_jump(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const auto target = static_cast<std::size_t>(vm::branch_target(insn, op, pc));
  if (op.form == Form::Ja || op.form == Form::Ja32) {
    if (short_reaches(pc, target)) a_.short_();
    a_.jmp(labels_[target]);
    return {};
  }
  const auto cc = jump_condition(op.kind);
  if (!cc) return make_error(Errc::Internal, "x86-64 JIT: row is not a jump: " + std::string(op.mnemonic), pc);
  const bool w64 = op.width == 64;
  const Gp dst = w64 ? q(insn.dst) : d(insn.dst);
  const InstId id = op.kind == Kind::Jset ? x86::Inst::kIdTest : x86::Inst::kIdCmp;
  if (op.operand == isa::Operand::Reg) {
    a_.emit(id, dst, w64 ? q(insn.src) : d(insn.src));
  } else if (req_.blind_constants) {
    const Gp scratch = w(x86::r10, w64);
    load_imm(scratch, insn.imm);
    a_.emit(id, dst, scratch);
  } else if (insn.imm == 0 && id == x86::Inst::kIdCmp) {
    // test r, r sets ZF and SF as cmp r, 0 does and clears CF and OF as it does: every condition
    // above reads the same, in two or three bytes fewer.
    a_.test(dst, dst);
  } else {
    a_.emit(id, dst, imm(insn.imm));  // 64-bit: the imm32 is sign-extended, as BPF wants
  }
  if (short_reaches(pc, target)) a_.short_();
  a_.j(*cc, labels_[target]);
  return {};
}

bool X86Emitter::short_reaches(std::uint32_t pc, std::size_t target) const {
  if (target <= pc) return false;
  switch (req_.forward_jumps) {
    case ForwardJumps::Sized:
      // The jump is the last thing pc emits: it spans exactly the instructions pc+1 .. target-1.
      return offset_bounds_[target] - offset_bounds_[pc + 1] <= 127;
    case ForwardJumps::AllNear: return false;
    case ForwardJumps::AllShort: return true;
  }
  return false;
}

}  // namespace bpfvm::jit::x86_64
