// Which scalar registers are precise: whose value may still decide a safety check.
//
// The kernel marks a scalar precise when its value decides a check (pointer arithmetic, a memory
// offset, a helper argument, a branch) and back-propagates the mark; pruning then treats imprecise
// scalars as equal whatever their ranges. Without that, an accumulator (a checksum, a counter of
// matches) makes every loop iteration's state new and exploration runs into the complexity limit.
//
// Here the marks come from a static backward pass instead of path history: a register is precise at
// pc when, on some path from pc, its current value flows (through ALU, moves and memory) into an
// address, a stored value, a call argument, a value a subprogram returns, pointer arithmetic, or a
// conditional jump. Whether an add/sub may be pointer arithmetic comes from a forward
// may-be-pointer pass. Both passes over-approximate, so an imprecise register's value cannot
// influence any check.
//
// Every jump operand counts, not only those whose value decided the branch (the kernel's rule): a
// jump also refines the registers linked to its operand by `mov`, and a path-insensitive pass
// cannot tell which links exist. The price: an accumulator that is ever compared stays precise
// here; pruning compares a register exactly only when the per-path marks of
// precision_backtrack.cpp (the kernel's rule) need it too.
#include "verifier/precision.hpp"

namespace bpfvm::verifier {

using isa::Form;
using isa::Kind;
using isa::Operand;

namespace {

using reg_mask::bit;
using reg_mask::kArgs;
using reg_mask::kCallerSaved;
constexpr RegMask kFunctionEntry = kArgs | bit(isa::kFramePointer);

// Registers that may hold a pointer after pc, given those that may before it.
RegMask pointers_after(const vm::Program& p, std::uint32_t pc, RegMask in) {
  const auto& op = p.op(pc);
  const auto& insn = p.insns[pc];
  const RegMask dst = bit(insn.dst);
  switch (op.form) {
    case Form::Alu:
      if (op.kind == Kind::Mov && op.operand == Operand::Reg)
        return static_cast<RegMask>((in & ~dst) | ((in & bit(insn.src)) ? dst : 0));
      if (op.kind == Kind::Mov || op.kind == Kind::MovSx) return static_cast<RegMask>(in & ~dst);
      if (op.operand == Operand::Reg && (in & bit(insn.src))) return static_cast<RegMask>(in | dst);
      return in;
    case Form::AluUnary: return in;
    case Form::Load:
      // Only 4- and 8-byte loads produce pointers (context fields data/data_end, spilled pointers).
      return op.width >= 32 ? static_cast<RegMask>(in | dst) : static_cast<RegMask>(in & ~dst);
    case Form::LoadSx: return static_cast<RegMask>(in & ~dst);
    case Form::WideImm:
      return static_cast<isa::LddwSrc>(insn.src) == isa::LddwSrc::Imm64 ? static_cast<RegMask>(in & ~dst)
                                                                        : static_cast<RegMask>(in | dst);
    case Form::Atomic:
      if (op.kind == Kind::CmpXchg) return static_cast<RegMask>(in | bit(0));
      return (insn.imm & isa::enc::kFetch) ? static_cast<RegMask>(in | bit(insn.src)) : in;
    case Form::Call: case Form::CallKfunc: case Form::CallLocal: case Form::CallReg:
      return static_cast<RegMask>((in & ~kCallerSaved) | bit(0));
    case Form::PacketLoad: return static_cast<RegMask>(in & ~kCallerSaved);  // r0 = packet bytes
    case Form::Store: case Form::StoreReg: case Form::Jump: case Form::Ja: case Form::Ja32: case Form::Exit:
      return in;
  }
  return in;
}

std::vector<RegMask> may_be_pointer(const vm::Program& p, const Cfg& cfg) {
  const auto n = static_cast<std::uint32_t>(p.size());
  std::vector<RegMask> in(n, 0);
  std::vector<std::uint8_t> reached(n, 0);
  for (auto s : cfg.subprog_starts) {
    in[s] = kFunctionEntry;
    reached[s] = 1;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (std::uint32_t pc = 0; pc < n; ++pc) {
      if (!reached[pc] || p.ops[pc] == isa::kNoOp) continue;
      const RegMask out = pointers_after(p, pc, in[pc]);
      for (auto s : cfg.successors[pc]) {
        const auto joined = static_cast<RegMask>(in[s] | out);
        if (reached[s] && joined == in[s]) continue;
        in[s] = joined;
        reached[s] = 1;
        changed = true;
      }
    }
  }
  return in;
}

// Registers whose value matters before pc, given those that matter after it.
RegMask precise_before(const vm::Program& p, std::uint32_t pc, RegMask out, RegMask pointers,
                       bool main_exit) {
  const auto& op = p.op(pc);
  const auto& insn = p.insns[pc];
  const RegMask dst = bit(insn.dst);
  const RegMask src = bit(insn.src);
  switch (op.form) {
    case Form::Alu: {
      const bool reg = op.operand == Operand::Reg;
      const bool pointer_arith = (op.kind == Kind::Add || op.kind == Kind::Sub) && op.width == 64 &&
                                 ((pointers & dst) || (reg && (pointers & src)));
      if (!(out & dst) && !pointer_arith) return static_cast<RegMask>(out & ~dst);
      RegMask uses = reg ? src : 0;
      if (op.kind != Kind::Mov && op.kind != Kind::MovSx) uses |= dst;
      return static_cast<RegMask>((out & ~dst) | uses);
    }
    case Form::AluUnary: return out;
    case Form::Load: case Form::LoadSx: return static_cast<RegMask>((out & ~dst) | src);
    case Form::Store: return static_cast<RegMask>(out | dst);
    case Form::StoreReg: return static_cast<RegMask>(out | dst | src);
    case Form::Atomic: return static_cast<RegMask>(out | dst | src | (op.kind == Kind::CmpXchg ? bit(0) : 0));
    case Form::WideImm: return static_cast<RegMask>(out & ~dst);
    case Form::Jump: return static_cast<RegMask>(out | dst | (op.operand == Operand::Reg ? src : 0));
    case Form::Ja: case Form::Ja32: return out;
    case Form::Call: case Form::CallKfunc: case Form::CallLocal: return static_cast<RegMask>((out & ~kCallerSaved) | kArgs);
    case Form::CallReg: return static_cast<RegMask>((out & ~kCallerSaved) | kArgs | dst);
    case Form::PacketLoad:  // reads the skb through r6 at src + imm; r0-r5 are written
      return static_cast<RegMask>((out & ~kCallerSaved) | bit(isa::kPacketLoadCtxReg) |
                                  (op.kind == Kind::LdInd ? src : 0));
    // The main program's return value is only checked for its type (pointer leaks), never its
    // range; a subprogram's return value flows into its caller, a callback's is range-checked.
    case Form::Exit: return main_exit ? RegMask{0} : bit(0);
  }
  return static_cast<RegMask>(0xffff);
}

}  // namespace

std::vector<RegMask> precise_registers(const vm::Program& p, const Cfg& cfg) {
  const auto n = static_cast<std::uint32_t>(p.size());
  const std::vector<RegMask> pointers = may_be_pointer(p, cfg);
  // The main program can be entered only from the outside when no call or function pointer names it.
  bool main_called = false;
  for (std::uint32_t pc = 0; pc < n; ++pc) {
    if (p.ops[pc] == isa::kNoOp) continue;
    const auto& op = p.op(pc);
    if (op.form == Form::CallLocal && vm::branch_target(p.insns[pc], op, pc) == 0) main_called = true;
    if (op.form == Form::WideImm && static_cast<isa::LddwSrc>(p.insns[pc].src) == isa::LddwSrc::Func &&
        pc + 1 + static_cast<std::int64_t>(p.insns[pc].imm) == 0)
      main_called = true;
  }
  std::vector<RegMask> in(n, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (std::uint32_t k = n; k-- > 0;) {
      if (p.ops[k] == isa::kNoOp) continue;
      RegMask out = 0;
      for (auto s : cfg.successors[k]) out |= in[s];
      const bool main_exit = !main_called && cfg.subprog_of(k) == 0;
      const RegMask before = static_cast<RegMask>(precise_before(p, k, out, pointers[k], main_exit) & cfg.live_in[k]);
      if (before != in[k]) {
        in[k] = before;
        changed = true;
      }
    }
  }
  return in;
}

}  // namespace bpfvm::verifier
