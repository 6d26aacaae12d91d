// Per-instruction upper bounds of the emitter's output. Each figure adds up the longest encoding of
// every native instruction the emit_<form>.cpp code can write for the form (memory operands with a
// disp32, immediates as imm32, `mov r64, imm64` as 10 bytes, forward jcc as rel32), rounded up.
// Where the instruction's own fields settle the encoding, the bound uses them: an immediate that
// fits a signed byte takes the imm8 form (asmjit picks the shortest), a memory offset that fits one
// takes disp8 (no BPF register lives in rsp or r12, so no SIB byte), immediate zero takes xor/test.
// Tighter bounds turn more jumps into rel8; test_jit_short_jumps.cpp catches one that is too tight.
#include "jit/x86_64/native_size_bound.hpp"

#include <array>

namespace bpfvm::jit::x86_64 {

using isa::Form;
using isa::Kind;

namespace {

// `sub qword [r12+disp32], imm32` (12) + `jb rel32` (6), at most once per instruction.
constexpr std::uint32_t kBudgetChargeBytes = 18;
// guarded() in checked mode: lea (7), two tests of mov, sub, jb, add, cmp, jbe (2 × 21), mov r11
// imm64 (10), call (5): 64 bytes.
constexpr std::uint32_t kCheckedGuardBytes = 80;
// load_imm with blinding: `mov r64, imm64` (10) + `xor r64, imm32` (7).
constexpr std::uint32_t kBlindedImmBytes = 17;

constexpr bool fits_int8(std::int32_t v) { return v >= -128 && v <= 127; }

// `op r, imm`: REX + opcode + ModRM + imm8 (4) or imm32 (7); `imul r, r, imm` alike.
constexpr std::uint32_t imm_operand_bytes(std::int32_t imm) { return fits_int8(imm) ? 4 : 7; }

constexpr std::uint32_t alu_bytes(const vm::Insn& insn, const isa::OpInfo& op, bool blind) {
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
      // Register: REX + opcode (two for imul) + ModRM. Immediate: the imm8 or imm32 form;
      // blinded, the key load into r10 and the register form.
      if (by_reg) return 4;
      return blind ? kBlindedImmBytes + 4 : imm_operand_bytes(insn.imm);
    case Kind::Mov: case Kind::MovSx:
      // Register: REX + opcode (two for movsx) + ModRM. Immediate (load_imm): `xor r32, r32` (3)
      // for zero, else `mov r32, imm32` (6) or `mov r64, simm32` (7).
      if (by_reg) return 4;
      if (blind) return kBlindedImmBytes + 4;
      return insn.imm == 0 ? 3 : 7;
    case Kind::Neg: case Kind::ToLe: case Kind::ToBe: case Kind::Bswap: case Kind::Ldx:
    case Kind::LdxSx: case Kind::St: case Kind::Stx: case Kind::Lddw: case Kind::AtomicAdd:
    case Kind::AtomicOr: case Kind::AtomicAnd: case Kind::AtomicXor: case Kind::Xchg:
    case Kind::CmpXchg: case Kind::Ja: case Kind::Jeq: case Kind::Jgt: case Kind::Jge:
    case Kind::Jset: case Kind::Jne: case Kind::Jsgt: case Kind::Jsge: case Kind::Jlt:
    case Kind::Jle: case Kind::Jslt: case Kind::Jsle: case Kind::Call: case Kind::CallLocal:
    case Kind::CallReg: case Kind::CallKfunc: case Kind::Exit: case Kind::LdAbs: case Kind::LdInd:
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

// Outside checked mode a memory operand is [reg + off]: REX + opcode (two for movzx/movsx, one
// more for the 16-bit prefix) + ModRM + disp8 or disp32. With checked mode's guard it is [r11].
constexpr std::uint32_t load_bytes(bool checked, std::int16_t off) {
  return checked ? kCheckedGuardBytes + 10 : fits_int8(off) ? 6 : 10;
}
constexpr std::uint32_t store_reg_bytes(bool checked, std::int16_t off) { return load_bytes(checked, off); }
// `mov [reg + off], imm`: the memory operand as above plus an imm32 (imm16 for 16-bit stores).
constexpr std::uint32_t store_imm_bytes(bool checked, bool blind, std::int16_t off) {
  if (blind) return (checked ? kCheckedGuardBytes : 0) + kBlindedImmBytes + 10;
  return checked ? kCheckedGuardBytes + 13 : fits_int8(off) ? 9 : 13;
}

// The compare before a conditional jump: register 3; immediate zero `test r, r` (3); `cmp r, imm8`
// (4); `cmp r, imm32` or `test r, imm32` (7, jset has no imm8 form); blinded, the key load + 3.
constexpr std::uint32_t compare_bytes(const vm::Insn& insn, const isa::OpInfo& op, bool blind) {
  if (op.operand == isa::Operand::Reg) return 3;
  if (blind) return kBlindedImmBytes + 3;
  if (op.kind == Kind::Jset) return 7;
  return insn.imm == 0 ? 3 : imm_operand_bytes(insn.imm);
}

constexpr std::uint32_t body_bytes(const vm::Insn& insn, const isa::OpInfo& op, bool checked, bool blind) {
  const std::uint32_t guard = checked ? kCheckedGuardBytes : 0;
  switch (op.form) {
    case Form::Alu: return alu_bytes(insn, op, blind);
    case Form::AluUnary: return 12;                   // ror r16 + movzx, or one instruction
    case Form::Load: case Form::LoadSx: return load_bytes(checked, insn.off);
    case Form::StoreReg: return store_reg_bytes(checked, insn.off);
    case Form::Store: return store_imm_bytes(checked, blind, insn.off);
    case Form::Atomic: return guard + 48;             // lea + the fetch-or/and/xor cmpxchg loop
    case Form::WideImm: return blind ? kBlindedImmBytes : 10;
    case Form::Jump: return compare_bytes(insn, op, blind) + 6;  // + jcc rel32
    case Form::Ja: case Form::Ja32: return 5;
    case Form::Call: case Form::CallKfunc: return kHelperCallBytes;
    case Form::CallLocal: return kLocalCallBytes;
    case Form::CallReg: return kLocalCallBytes + 64;  // callx stub call, dispatch, helper path
    case Form::Exit: return 1;
    case Form::PacketLoad: return 64 + kBlindedImmBytes;  // three stores, offset, stub call, test
  }
  return 0;
}

// The instruction fields body_bytes reads, reduced to what settles an encoding: bit 0 the immediate
// is zero, bit 1 it fits a signed byte, bit 2 the offset fits a signed byte.
constexpr unsigned kShapes = 8;
constexpr unsigned shape_of(const vm::Insn& insn) {
  return (insn.imm == 0 ? 1u : 0u) | (fits_int8(insn.imm) ? 2u : 0u) | (fits_int8(insn.off) ? 4u : 0u);
}
// An instruction of that shape (shape 1 alone cannot occur; it is given the zero immediate).
constexpr vm::Insn representative(unsigned shape) {
  vm::Insn insn;
  insn.imm = (shape & 1) ? 0 : (shape & 2) ? 1 : 1000;
  insn.off = (shape & 4) ? 0 : 1000;
  return insn;
}
constexpr std::size_t table_index(unsigned shape, bool checked, bool blind) {
  return shape + kShapes * ((checked ? 1 : 0) + 2 * (blind ? 1 : 0));
}

// body_bytes for every row, shape, checked or not and blinded or not, computed at compile time, so
// the per-instruction bound is one table read instead of two switches.
constexpr auto kBodyBytes = [] {
  std::array<std::array<std::uint16_t, kShapes * 4>, isa::kNumOps> table{};
  for (std::size_t id = 0; id < isa::kNumOps; ++id)
    for (unsigned shape = 0; shape < kShapes; ++shape)
      for (const bool checked : {false, true})
        for (const bool blind : {false, true})
          table[id][table_index(shape, checked, blind)] =
              static_cast<std::uint16_t>(body_bytes(representative(shape), isa::kOps[id], checked, blind));
  return table;
}();

}  // namespace

std::uint32_t max_native_bytes(const vm::Program& program, std::size_t pc, Variant variant, bool blind_constants) {
  const isa::OpId id = program.ops[pc];
  if (id == isa::kNoOp) return 0;
  const bool checked = variant == Variant::Checked;
  const bool counting = variant != Variant::Fast;
  return (counting ? kBudgetChargeBytes : 0) +
         kBodyBytes[id][table_index(shape_of(program.insns[pc]), checked, blind_constants)];
}

namespace {

bool is_jump(isa::Form form) { return form == Form::Jump || form == Form::Ja || form == Form::Ja32; }

}  // namespace

std::vector<bool> loop_heads(const vm::Program& program) {
  std::vector<bool> heads(program.size(), false);
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    if (program.ops[pc] == isa::kNoOp || !is_jump(program.op(pc).form)) continue;
    const auto target = vm::branch_target(program.insns[pc], program.op(pc), pc);
    if (target > 0 && target <= static_cast<std::int64_t>(pc)) heads[static_cast<std::size_t>(target)] = true;
  }
  return heads;
}

namespace {

struct ForwardJump {
  std::uint32_t pc;
  std::uint32_t target;
  std::uint32_t rel8_saving;  // bytes saved as rel8 (2 bytes) instead of rel32
};

// The forward jumps of the program, in pc order.
std::vector<ForwardJump> forward_jumps(const vm::Program& program) {
  std::vector<ForwardJump> jumps;
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    const auto& op = program.op(pc);
    if (!is_jump(op.form)) continue;
    const auto target = vm::branch_target(program.insns[pc], op, pc);
    if (target <= static_cast<std::int64_t>(pc)) continue;
    jumps.push_back({static_cast<std::uint32_t>(pc), static_cast<std::uint32_t>(target),
                     op.form == Form::Jump ? 6u - 2u : 5u - 2u});
  }
  return jumps;
}

void prefix_sums(const std::vector<std::uint32_t>& sizes, std::vector<std::uint32_t>& bounds) {
  for (std::size_t pc = 0; pc < sizes.size(); ++pc) bounds[pc + 1] = bounds[pc] + sizes[pc];
}

// Rounds of shrinking: each is O(n) for the prefix sums; later rounds rarely find more jumps.
constexpr int kMaxShrinkRounds = 4;

}  // namespace

std::vector<std::uint32_t> native_offset_bounds(const vm::Program& program, Variant variant, bool blind_constants) {
  const std::size_t n = program.size();
  std::vector<std::uint32_t> sizes(n);
  for (std::size_t pc = 0; pc < n; ++pc) sizes[pc] = max_native_bytes(program, pc, variant, blind_constants);
  const std::vector<bool> heads = loop_heads(program);
  for (std::size_t pc = 1; pc < n; ++pc)
    if (heads[pc]) sizes[pc - 1] += kLoopHeadPadding;  // the padding ends the instruction before
  std::vector<std::uint32_t> bounds(n + 1, 0);
  prefix_sums(sizes, bounds);
  // A forward jump whose span the bounds prove <= 127 bytes is emitted as rel8 (the emitter asks
  // the same question of the final bounds). Counting it at 2 bytes only lowers other spans, and
  // bounds only ever fall, so a jump proven short in one round stays short in the final bounds.
  // Each round visits the jumps still counted long; a jump proven short leaves the list.
  std::vector<ForwardJump> long_jumps = forward_jumps(program);
  for (int round = 0; round < kMaxShrinkRounds && !long_jumps.empty(); ++round) {
    std::size_t kept = 0;
    for (const ForwardJump& j : long_jumps) {
      if (bounds[j.target] - bounds[j.pc + 1] > 127)
        long_jumps[kept++] = j;
      else
        sizes[j.pc] -= j.rel8_saving;
    }
    if (kept == long_jumps.size()) break;  // nothing shrank: the bounds are final
    long_jumps.resize(kept);
    prefix_sums(sizes, bounds);
  }
  return bounds;
}

}  // namespace bpfvm::jit::x86_64
