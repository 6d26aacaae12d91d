// Form::Alu and Form::AluUnary: binary ALU (incl. div/mod, masked shifts, movsx) and
// neg/le/be/bswap. 32-bit operations use W registers, whose writes zero bits 63:32, which is
// exactly RFC 9669 4.1's zero-extension.
#include <asmjit/arm/a64assembler.h>

#include "jit/arm64/emitter.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;
using isa::Kind;
using isa::Operand;

namespace {
constexpr std::int64_t sext(std::int32_t v) { return v; }
}  // namespace

Result<void> A64Emitter::emit_alu(const vm::Insn& insn, const isa::OpInfo& op) {
  const bool w64 = op.width == 64;
  const Gp dst = sized(insn.dst, w64);
  const bool by_reg = op.operand == Operand::Reg;
  // The immediate as the operation sees it: sign-extended for 64 bits, its 32 bits otherwise.
  const std::int64_t value = w64 ? sext(insn.imm) : static_cast<std::uint32_t>(insn.imm);
  // Second operand in a register: src, or the immediate loaded into kScratchValue (blinded).
  auto operand = [&]() -> Gp {
    if (by_reg) return sized(insn.src, w64);
    const Gp tmp = host(kScratchValue, w64);
    load_imm(tmp, value);
    return tmp;
  };
  auto logical = [&](InstId id) {
    if (by_reg) a_.emit(id, dst, dst, sized(insn.src, w64));  // Logical (shifted register)
    else logical_imm(id, dst, dst, static_cast<std::uint64_t>(value));
  };
  switch (op.kind) {
    case Kind::Add: case Kind::Sub: {
      const bool add = op.kind == Kind::Add;
      if (!by_reg && !req_.blind_constants) {
        // add_sub_imm keeps a 32-bit ADD #0: it is still a W write that zero-extends.
        add_sub_imm(dst, dst, add ? sext(insn.imm) : -sext(insn.imm));
        return {};
      }
      const Gp s = operand();
      if (add) a_.add(dst, dst, s); else a_.sub(dst, dst, s);  // Add/subtract (shifted register)
      return {};
    }
    case Kind::Or: logical(a64::Inst::kIdOrr); return {};
    case Kind::And: logical(a64::Inst::kIdAnd); return {};
    case Kind::Xor: logical(a64::Inst::kIdEor); return {};
    case Kind::Mul:
      // Data-processing (3 source), MADD with the zero register: the low 32/64 bits of a product
      // are the same signed or unsigned.
      a_.mul(dst, dst, operand());
      return {};
    case Kind::Mov:
      if (by_reg)
        a_.mov(dst, sized(insn.src, w64));  // ORR (shifted register); the W form zero-extends
      else
        load_imm(dst, value);
      return {};
    case Kind::MovSx: {
      // Bitfield: SBFM aliases SXTB/SXTH/SXTW; the 32-bit forms write W, zero-extending past bit 31.
      const Gp src = w(insn.src);
      switch (insn.off) {
        case 8: a_.sxtb(dst, src); break;
        case 16: a_.sxth(dst, src); break;
        default: a_.sxtw(dst, src); break;
      }
      return {};
    }
    case Kind::Div: case Kind::Mod: case Kind::SDiv: case Kind::SMod:
      emit_divmod(insn, op);
      return {};
    case Kind::Lsh: case Kind::Rsh: case Kind::Arsh:
      emit_shift(insn, op);
      return {};
    case Kind::Neg: case Kind::ToLe: case Kind::ToBe: case Kind::Bswap: case Kind::Ldx:
    case Kind::LdxSx: case Kind::St: case Kind::Stx: case Kind::Lddw: case Kind::AtomicAdd:
    case Kind::AtomicOr: case Kind::AtomicAnd: case Kind::AtomicXor: case Kind::Xchg:
    case Kind::CmpXchg: case Kind::Ja: case Kind::Jeq: case Kind::Jgt: case Kind::Jge:
    case Kind::Jset: case Kind::Jne: case Kind::Jsgt: case Kind::Jsge: case Kind::Jlt:
    case Kind::Jle: case Kind::Jslt: case Kind::Jsle: case Kind::Call: case Kind::CallLocal:
    case Kind::CallReg: case Kind::CallKfunc: case Kind::Exit: case Kind::LdAbs: case Kind::LdInd:
      break;
  }
  return make_error(Errc::Internal, "arm64 JIT: row is not a binary ALU op: " + std::string(op.mnemonic));
}

// Data-processing (2 source) UDIV/SDIV already give what RFC 9669 asks: x / 0 = 0 and
// INT_MIN / -1 = INT_MIN (no trap, the quotient wraps). Modulo is dst - (dst / src) * src with
// MSUB, which keeps dst when src is 0 (quotient 0) and gives 0 for INT_MIN % -1, so no case needs
// a branch.
void A64Emitter::emit_divmod(const vm::Insn& insn, const isa::OpInfo& op) {
  const bool w64 = op.width == 64;
  const bool is_signed = op.kind == Kind::SDiv || op.kind == Kind::SMod;
  const bool is_mod = op.kind == Kind::Mod || op.kind == Kind::SMod;
  const Gp dst = sized(insn.dst, w64);
  Gp divisor;
  if (op.operand == Operand::Reg) {
    divisor = sized(insn.src, w64);
  } else {
    divisor = host(kScratchValue, w64);
    load_imm(divisor, w64 ? sext(insn.imm) : static_cast<std::uint32_t>(insn.imm));
  }
  const InstId div = is_signed ? a64::Inst::kIdSdiv : a64::Inst::kIdUdiv;
  if (!is_mod) {
    a_.emit(div, dst, dst, divisor);
    return;
  }
  const Gp quotient = host(kScratchOffset, w64);
  a_.emit(div, quotient, dst, divisor);
  a_.msub(dst, quotient, divisor, dst);
}

// Shift counts are masked to 5/6 bits (RFC 9669 4.1): LSLV/LSRV/ASRV take the count modulo the
// register width, the 32-bit forms modulo 32.
void A64Emitter::emit_shift(const vm::Insn& insn, const isa::OpInfo& op) {
  const bool w64 = op.width == 64;
  const Gp dst = sized(insn.dst, w64);
  if (op.operand == Operand::Reg) {
    const InstId id = op.kind == Kind::Lsh   ? a64::Inst::kIdLslv
                      : op.kind == Kind::Rsh ? a64::Inst::kIdLsrv
                                             : a64::Inst::kIdAsrv;
    a_.emit(id, dst, dst, sized(insn.src, w64));
    return;
  }
  const unsigned count = static_cast<unsigned>(insn.imm) & (w64 ? 63u : 31u);
  if (count == 0) {
    if (!w64) a_.mov(dst, dst);  // still a 32-bit write: zero-extend
    return;
  }
  // Bitfield (UBFM/SBFM aliases LSL/LSR/ASR #imm).
  const InstId id = op.kind == Kind::Lsh   ? a64::Inst::kIdLsl
                    : op.kind == Kind::Rsh ? a64::Inst::kIdLsr
                                           : a64::Inst::kIdAsr;
  a_.emit(id, dst, dst, Imm(count));
}

Result<void> A64Emitter::emit_alu_unary(const vm::Insn& insn, const isa::OpInfo& op) {
  switch (op.kind) {
    case Kind::Neg: {
      const Gp dst = sized(insn.dst, op.width == 64);
      a_.neg(dst, dst);
      return {};
    }
    case Kind::ToLe:  // little-endian host: truncate
      if (op.width == 16) a_.uxth(w(insn.dst), w(insn.dst));
      else if (op.width == 32) a_.mov(w(insn.dst), w(insn.dst));
      return {};
    case Kind::ToBe: case Kind::Bswap:
      // Data-processing (1 source): REV16 swaps the bytes of each halfword (the upper one is then
      // cleared), REV of a W or X register reverses all of its bytes.
      if (op.width == 16) {
        a_.rev16(w(insn.dst), w(insn.dst));
        a_.uxth(w(insn.dst), w(insn.dst));
      } else if (op.width == 32) {
        a_.rev(w(insn.dst), w(insn.dst));
      } else {
        a_.rev(x(insn.dst), x(insn.dst));
      }
      return {};
    case Kind::Add: case Kind::Sub: case Kind::Mul: case Kind::Div: case Kind::SDiv: case Kind::Or:
    case Kind::And: case Kind::Lsh: case Kind::Rsh: case Kind::Mod: case Kind::SMod: case Kind::Xor:
    case Kind::Mov: case Kind::MovSx: case Kind::Arsh: case Kind::Ldx: case Kind::LdxSx:
    case Kind::St: case Kind::Stx: case Kind::Lddw: case Kind::AtomicAdd: case Kind::AtomicOr:
    case Kind::AtomicAnd: case Kind::AtomicXor: case Kind::Xchg: case Kind::CmpXchg: case Kind::Ja:
    case Kind::Jeq: case Kind::Jgt: case Kind::Jge: case Kind::Jset: case Kind::Jne: case Kind::Jsgt:
    case Kind::Jsge: case Kind::Jlt: case Kind::Jle: case Kind::Jslt: case Kind::Jsle:
    case Kind::Call: case Kind::CallLocal: case Kind::CallReg: case Kind::CallKfunc: case Kind::Exit: case Kind::LdAbs: case Kind::LdInd:
      break;
  }
  return make_error(Errc::Internal, "arm64 JIT: row is not a unary ALU op: " + std::string(op.mnemonic));
}

}  // namespace bpfvm::jit::arm64
