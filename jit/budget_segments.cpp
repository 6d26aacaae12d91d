// budget_segment_lengths: segment starts from the ISA forms, then one count per segment.
#include "jit/budget_segments.hpp"

namespace bpfvm::jit {

std::vector<std::uint32_t> budget_segment_lengths(const vm::Program& program) {
  using isa::Form;
  const auto n = program.size();
  std::vector<bool> start(n + 1, false);
  start[0] = true;
  for (std::size_t pc = 0; pc < n; ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    const auto& op = program.op(pc);
    const auto& insn = program.insns[pc];
    const std::size_t next = pc + (isa::is_wide(op) ? 2 : 1);
    switch (op.form) {
      case Form::Alu: case Form::AluUnary:
        break;
      case Form::WideImm:
        if (static_cast<isa::LddwSrc>(insn.src) == isa::LddwSrc::Func)
          start[static_cast<std::size_t>(static_cast<std::int64_t>(pc) + 1 + insn.imm)] = true;
        break;
      case Form::Jump: case Form::Ja: case Form::Ja32: case Form::CallLocal:
        start[static_cast<std::size_t>(vm::branch_target(insn, op, pc))] = true;
        start[next] = true;
        break;
      case Form::Load: case Form::LoadSx: case Form::Store: case Form::StoreReg: case Form::Atomic:
      case Form::Call: case Form::CallReg: case Form::Exit: case Form::PacketLoad:
        start[next] = true;
        break;
    }
  }
  std::vector<std::uint32_t> lengths(n, 0);
  std::size_t seg = 0;
  for (std::size_t pc = 0; pc < n; ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    if (start[pc]) seg = pc;
    ++lengths[seg];
  }
  return lengths;
}

}  // namespace bpfvm::jit
