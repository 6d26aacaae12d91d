// Per-instruction upper bounds of the emitter's output. Each figure adds up the longest encoding of
// every native instruction the emit_<form>.cpp code can write for the form (memory operands with a
// disp32, immediates as imm32, `mov r64, imm64` as 10 bytes, forward jcc as rel32), rounded up.
// Tighter bounds turn more jumps into rel8; test_jit_short_jumps.cpp catches one that is too tight.
#include "jit/x86_64/native_size_bound.hpp"

namespace bpfvm::jit::x86_64 {

using isa::Form;
using isa::Kind;

namespace {

// `sub qword [r12+disp32], imm32` (12) + `jb rel32` (6), at most once per instruction.
constexpr std::uint32_t kBudgetChargeBytes = 18;
// guarded() in checked mode: lea, mov, sub, jb, add, cmp, jbe, mov r11 imm64, call (58 bytes).
constexpr std::uint32_t kCheckedGuardBytes = 64;
// load_imm with blinding: `mov r64, imm64` (10) + `xor r64, imm32` (7).
constexpr std::uint32_t kBlindedImmBytes = 17;

std::uint32_t alu_bytes(const isa::OpInfo& op, bool blind) {
  const bool by_reg = op.operand == isa::Operand::Reg;
  switch (op.kind) {
    case Kind::Div: case Kind::Mod: case Kind::SDiv: case Kind::SMod:
      // Register divisor: mov, test, jz, cmp, je, nine-instruction divide (26), jmp, two
      // one-instruction outcomes and a jmp: 64 bytes. Immediate: (blinded) load + divide.
      return 72;
    case Kind::Lsh: case Kind::Rsh: case Kind::Arsh:
      // By register, without BMI2: four movs around `shl r, cl` plus the 32-bit mov. By immediate:
      // `shl r64, imm8` (never blinded).
      return by_reg ? 16 : 4;
    case Kind::Add: case Kind::Sub: case Kind::Mul: case Kind::Or: case Kind::And: case Kind::Xor:
    case Kind::Mov: case Kind::MovSx:
      // Register: REX + opcode (two for imul/movsx) + ModRM. Immediate: `op r64, imm32` or
      // `imul r64, r64, imm32` (7); blinded, the key load into r10 and the register form.
      if (by_reg) return 4;
      return blind ? kBlindedImmBytes + 4 : 7;
    case Kind::Neg: case Kind::ToLe: case Kind::ToBe: case Kind::Bswap: case Kind::Ldx:
    case Kind::LdxSx: case Kind::St: case Kind::Stx: case Kind::Lddw: case Kind::AtomicAdd:
    case Kind::AtomicOr: case Kind::AtomicAnd: case Kind::AtomicXor: case Kind::Xchg:
    case Kind::CmpXchg: case Kind::Ja: case Kind::Jeq: case Kind::Jgt: case Kind::Jge:
    case Kind::Jset: case Kind::Jne: case Kind::Jsgt: case Kind::Jsge: case Kind::Jlt:
    case Kind::Jle: case Kind::Jslt: case Kind::Jsle: case Kind::Call: case Kind::CallLocal:
    case Kind::CallReg: case Kind::Exit: case Kind::LdAbs: case Kind::LdInd:
      break;
  }
  return 0;  // not an ALU row; the caller asks only for ALU rows
}

// Local call sequence: depth check and increment (24), five pushes (10), three frame updates (31),
// two stack-region syncs (2 × 40), call (5), the ProgramCode store after it (18), five pops (10),
// depth and frame restores (33): 211 bytes.
constexpr std::uint32_t kLocalCallBytes = 224;
// Helper call: three stores of helper, pc (35) + the tail-call check (17); array lookup inlined: 35.
constexpr std::uint32_t kHelperCallBytes = 56;

std::uint32_t body_bytes(const isa::OpInfo& op, bool checked, bool blind) {
  const std::uint32_t guard = checked ? kCheckedGuardBytes : 0;
  switch (op.form) {
    case Form::Alu: return alu_bytes(op, blind);
    case Form::AluUnary: return 12;                   // ror r16 + movzx, or one instruction
    case Form::Load: case Form::LoadSx: return guard + 10;
    case Form::StoreReg: return guard + 10;
    case Form::Store: return guard + (blind ? kBlindedImmBytes + 10 : 13);
    case Form::Atomic: return guard + 48;             // lea + the fetch-or/and/xor cmpxchg loop
    case Form::WideImm: return blind ? kBlindedImmBytes : 10;
    case Form::Jump:  // cmp/test (register 3, imm32 7, blinded key load + register) + jcc rel32
      if (op.operand == isa::Operand::Reg) return 3 + 6;
      return 6 + (blind ? kBlindedImmBytes + 3 : 7);
    case Form::Ja: case Form::Ja32: return 5;
    case Form::Call: return kHelperCallBytes;
    case Form::CallLocal: return kLocalCallBytes;
    case Form::CallReg: return kLocalCallBytes + 64;  // callx stub call, dispatch, helper path
    case Form::Exit: return 1;
    case Form::PacketLoad: return 64 + kBlindedImmBytes;  // three stores, offset, stub call, test
  }
  return 0;
}

}  // namespace

std::uint32_t max_native_bytes(const vm::Program& program, std::size_t pc, Variant variant, bool blind_constants) {
  if (program.ops[pc] == isa::kNoOp) return 0;
  const bool checked = variant == Variant::Checked;
  const bool counting = variant != Variant::Fast;
  return (counting ? kBudgetChargeBytes : 0) + body_bytes(program.op(pc), checked, blind_constants);
}

std::vector<std::uint32_t> native_offset_bounds(const vm::Program& program, Variant variant, bool blind_constants) {
  std::vector<std::uint32_t> bounds(program.size() + 1, 0);
  for (std::size_t pc = 0; pc < program.size(); ++pc)
    bounds[pc + 1] = bounds[pc] + max_native_bytes(program, pc, variant, blind_constants);
  return bounds;
}

}  // namespace bpfvm::jit::x86_64
