// Form::Alu and Form::AluUnary: binary ALU (incl. div/mod with explicit zero and -1 checks, masked
// shifts through cl, movsx) and neg/le/be/bswap. 32-bit results are zero-extended (RFC 9669 4.1):
// every 32-bit x86 write does that, except where noted.
#include "jit/x86_64/emitter.hpp"

namespace bpfvm::jit::x86_64 {

using namespace asmjit;
using isa::Kind;
using isa::Operand;

namespace {
constexpr std::int64_t sext(std::int32_t v) { return v; }
}  // namespace

Result<void> X86Emitter::emit_alu(const vm::Insn& insn, const isa::OpInfo& op) {
  const bool w64 = op.width == 64;
  const Gp dst = w64 ? q(insn.dst) : d(insn.dst);
  const bool by_reg = op.operand == Operand::Reg;
  const Gp src = w64 ? q(insn.src) : d(insn.src);
  const Gp scratch = w(x86::r10, w64);
  // Second operand: the register, or the immediate (blinded through r10 when asked).
  auto with_operand = [&](auto&& emit_reg, auto&& emit_imm) {
    if (by_reg) {
      emit_reg(src);
    } else if (req_.blind_constants) {
      load_imm(scratch, sext(insn.imm));
      emit_reg(scratch);
    } else {
      emit_imm(imm(insn.imm));
    }
  };
  auto binary = [&](InstId id) {
    with_operand([&](const Gp& s) { a_.emit(id, dst, s); }, [&](const Imm& i) { a_.emit(id, dst, i); });
  };
  switch (op.kind) {
    case Kind::Add: binary(x86::Inst::kIdAdd); return {};
    case Kind::Sub: binary(x86::Inst::kIdSub); return {};
    case Kind::Or: binary(x86::Inst::kIdOr); return {};
    case Kind::And: binary(x86::Inst::kIdAnd); return {};
    case Kind::Xor: binary(x86::Inst::kIdXor); return {};
    case Kind::Mul:
      // The low 32/64 bits of a product are the same signed or unsigned.
      with_operand([&](const Gp& s) { a_.imul(dst, s); }, [&](const Imm& i) { a_.imul(dst, dst, i); });
      return {};
    case Kind::Mov:
      if (by_reg)
        a_.mov(dst, src);  // mov r32, r32 zero-extends
      else
        load_imm(dst, w64 ? sext(insn.imm) : static_cast<std::uint32_t>(insn.imm));
      return {};
    case Kind::MovSx: {
      const unsigned bits = static_cast<unsigned>(insn.off);
      if (bits == 32)
        a_.movsxd(q(insn.dst), d(insn.src));
      else
        a_.movsx(dst, sized(insn.src, bits));  // movsx r32 zero-extends past bit 31
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
  return make_error(Errc::Internal, "x86-64 JIT: row is not a binary ALU op: " + std::string(op.mnemonic));
}

// div/mod need rdx:rax; r0 and r3 live there, so both are parked in r9/r10 around the divide.
// Division by zero gives 0 and modulo by zero keeps dst; INT_MIN / -1 and % -1 (signed) are
// handled before idiv, which would trap on them.
void X86Emitter::emit_divmod(const vm::Insn& insn, const isa::OpInfo& op) {
  const bool w64 = op.width == 64;
  const bool is_signed = op.kind == Kind::SDiv || op.kind == Kind::SMod;
  const bool is_mod = op.kind == Kind::Mod || op.kind == Kind::SMod;
  const Gp dst = w64 ? q(insn.dst) : d(insn.dst);
  const Gp divisor = w(x86::r11, w64);
  const Gp ax = w(x86::rax, w64);
  const Gp dx = w(x86::rdx, w64);

  auto on_zero = [&] {
    if (!is_mod)
      a_.xor_(d(insn.dst), d(insn.dst));
    else if (!w64)
      a_.mov(dst, dst);  // keep dst, zero-extended
  };
  auto on_minus_one = [&] {
    if (op.kind == Kind::SDiv)
      a_.neg(dst);  // x / -1 = -x; INT_MIN wraps to INT_MIN as the RFC asks
    else
      a_.xor_(d(insn.dst), d(insn.dst));  // x % -1 = 0
  };
  const bool dst_is_rax = host_id_of_bpf(insn.dst) == host_id(HostReg::Rax);
  // rdx:rax (edx:eax) / divisor: quotient in ax, remainder in dx.
  auto divide_rdx_rax = [&] {
    if (is_signed) {
      if (w64) a_.cqo(x86::rdx, x86::rax); else a_.cdq(x86::edx, x86::eax);
      a_.idiv(dx, ax, divisor);
    } else {
      a_.xor_(x86::edx, x86::edx);
      a_.div(dx, ax, divisor);
    }
  };
  auto divide = [&] {
    if (dst_is_rax) {
      // The dividend is in place and rax takes the result: only rdx needs keeping.
      a_.mov(x86::r9, x86::rdx);
      divide_rdx_rax();
      if (is_mod) a_.mov(ax, dx);  // a 32-bit div or mov zero-extends rax
      a_.mov(x86::rdx, x86::r9);
      return;
    }
    a_.mov(x86::r10, x86::rax);
    a_.mov(x86::r9, x86::rdx);
    a_.mov(ax, dst);
    divide_rdx_rax();
    a_.mov(divisor, is_mod ? dx : ax);
    a_.mov(x86::rax, x86::r10);
    a_.mov(x86::rdx, x86::r9);
    a_.mov(dst, divisor);
  };

  if (op.operand == Operand::Imm) {
    // The divisor is known: pick the case now.
    const std::int64_t v = w64 ? sext(insn.imm) : static_cast<std::uint32_t>(insn.imm);
    if (insn.imm == 0) return on_zero();
    if (is_signed && insn.imm == -1) return on_minus_one();
    load_imm(divisor, v);
    return divide();
  }
  a_.mov(divisor, w64 ? q(insn.src) : d(insn.src));
  const Label zero = a_.newLabel(), minus_one = a_.newLabel(), done = a_.newLabel();
  // Every jump below skips at most the divide (under 40 bytes) and one outcome: rel8 reaches.
  a_.test(divisor, divisor);
  a_.short_().jz(zero);
  if (is_signed) {
    a_.cmp(divisor, -1);
    a_.short_().je(minus_one);
  }
  divide();
  a_.short_().jmp(done);
  a_.bind(zero);
  on_zero();
  if (is_signed) {
    a_.short_().jmp(done);
    a_.bind(minus_one);
    on_minus_one();
  }
  a_.bind(done);
}

// Shift counts are masked to 5/6 bits (RFC 9669 4.1), which is what x86 does with cl (and BMI2's
// shlx/shrx/sarx with any count register).
void X86Emitter::emit_shift(const vm::Insn& insn, const isa::OpInfo& op) {
  const bool w64 = op.width == 64;
  const InstId id = op.kind == Kind::Lsh   ? x86::Inst::kIdShl
                         : op.kind == Kind::Rsh ? x86::Inst::kIdShr
                                                : x86::Inst::kIdSar;
  const Gp dst = w64 ? q(insn.dst) : d(insn.dst);
  if (op.operand == Operand::Imm) {
    const unsigned count = static_cast<unsigned>(insn.imm) & (w64 ? 63u : 31u);
    if (count != 0)
      a_.emit(id, dst, imm(count));
    else if (!w64)
      a_.mov(dst, dst);
    return;
  }
  if (bmi2_) {
    // shlx/shrx/sarx take the count from any register, mask it to 5/6 bits like shl/shr/sar, and
    // (VEX-encoded) zero-extend a 32-bit result: no rcx shuffle, no extra mov.
    const InstId bmi2_id = op.kind == Kind::Lsh   ? x86::Inst::kIdShlx
                           : op.kind == Kind::Rsh ? x86::Inst::kIdShrx
                                                  : x86::Inst::kIdSarx;
    a_.emit(bmi2_id, dst, dst, w64 ? q(insn.src) : d(insn.src));
    return;
  }
  const auto rcx_id = host_id(HostReg::Rcx);
  const bool dst_is_rcx = host_id_of_bpf(insn.dst) == rcx_id;
  const bool src_is_rcx = host_id_of_bpf(insn.src) == rcx_id;
  if (dst_is_rcx) {
    // Shift a copy of r4 in r11, the count moves into cl.
    const Gp tmp = w(x86::r11, w64);
    a_.mov(x86::r11, x86::rcx);
    if (!src_is_rcx) a_.mov(x86::ecx, d(insn.src));
    a_.emit(id, tmp, x86::cl);
    a_.mov(x86::rcx, x86::r11);
  } else if (src_is_rcx) {
    a_.emit(id, dst, x86::cl);
  } else {
    a_.mov(x86::r11, x86::rcx);
    a_.mov(x86::ecx, d(insn.src));
    a_.emit(id, dst, x86::cl);
    a_.mov(x86::rcx, x86::r11);
  }
  // A 32-bit shift by a masked count of 0 is architecturally allowed to leave bits 63:32 alone.
  if (!w64) a_.mov(dst, dst);
}

Result<void> X86Emitter::emit_alu_unary(const vm::Insn& insn, const isa::OpInfo& op) {
  switch (op.kind) {
    case Kind::Neg:
      a_.neg(op.width == 64 ? q(insn.dst) : d(insn.dst));
      return {};
    case Kind::ToLe:  // little-endian host: truncate
      if (op.width == 16) a_.movzx(d(insn.dst), sized(insn.dst, 16));
      else if (op.width == 32) a_.mov(d(insn.dst), d(insn.dst));
      return {};
    case Kind::ToBe: case Kind::Bswap:
      if (op.width == 16) {
        a_.ror(sized(insn.dst, 16), imm(8));
        a_.movzx(d(insn.dst), sized(insn.dst, 16));
      } else if (op.width == 32) {
        a_.bswap(d(insn.dst));
      } else {
        a_.bswap(q(insn.dst));
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
  return make_error(Errc::Internal, "x86-64 JIT: row is not a unary ALU op: " + std::string(op.mnemonic));
}

}  // namespace bpfvm::jit::x86_64
