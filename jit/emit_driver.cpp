// Budget segments for EmitDriver (emit_driver.hpp): where a counting build charges its budget.
#include "jit/emit_driver.hpp"

namespace bpfvm::jit {

using isa::Form;

std::vector<std::uint32_t> budget_segments(const vm::Program& program) {
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
        if (static_cast<isa::LddwSrc>(insn.src) == isa::LddwSrc::Func) start[func_target(insn, pc)] = true;
        break;
      case Form::Jump: case Form::Ja: case Form::Ja32: case Form::CallLocal:
        start[static_cast<std::size_t>(vm::branch_target(insn, op, pc))] = true;
        start[next] = true;
        break;
      case Form::Load: case Form::LoadSx: case Form::Store: case Form::StoreReg: case Form::Atomic:
      case Form::Call: case Form::CallKfunc: case Form::CallReg: case Form::Exit: case Form::PacketLoad:
        start[next] = true;
        break;
    }
  }
  std::vector<std::uint32_t> segment_len(n, 0);
  std::size_t seg = 0;
  for (std::size_t pc = 0; pc < n; ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    if (start[pc]) seg = pc;
    ++segment_len[seg];
  }
  return segment_len;
}

}  // namespace bpfvm::jit
