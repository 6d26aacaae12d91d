// Form::Atomic as Load/store exclusive loops (LDAXR ... STLXR, retried while the exclusive store
// fails). They need only ARMv8.0, so the code is the same with or without the LSE atomics
// (LDADD/LDSET/LDCLR/LDEOR/SWP/CAS); acquire-release pairs give the sequentially consistent
// ordering the interpreter's __ATOMIC_SEQ_CST builtins have.
#include <asmjit/arm/a64assembler.h>

#include "jit/arm64/emitter.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;
using isa::Kind;

Result<void> A64Emitter::emit_atomic(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const bool w64 = op.width == 64;
  const unsigned size = op.width / 8;
  const bool fetch = (insn.imm & isa::enc::kFetch) != 0;
  guarded(insn.dst, insn.off, size, true, pc, /*force_address_reg=*/true);
  const Mem m = a64::ptr(host(kScratchAddr));
  const Gp src = sized(insn.src, w64);
  const Gp old = host(kScratchValue, w64);     // the value loaded exclusively
  const Gp next = host(kScratchLoop, w64);     // the value stored
  const Gp failed = host(kScratchStatus, false);
  const Label retry = a_.newLabel();

  auto rmw = [&](InstId id) {
    a_.bind(retry);
    a_.ldaxr(old, m);
    a_.emit(id, next, old, src);
    store_exclusive_release(failed, next, host(kScratchAddr));
    a_.cbnz(failed, retry);
    if (fetch) a_.mov(src, old);  // 32-bit: the W write zero-extends the old value
  };
  switch (op.kind) {
    case Kind::AtomicAdd: rmw(a64::Inst::kIdAdd); return {};
    case Kind::AtomicOr: rmw(a64::Inst::kIdOrr); return {};
    case Kind::AtomicAnd: rmw(a64::Inst::kIdAnd); return {};
    case Kind::AtomicXor: rmw(a64::Inst::kIdEor); return {};
    case Kind::Xchg:
      a_.bind(retry);
      a_.ldaxr(old, m);
      store_exclusive_release(failed, src, host(kScratchAddr));
      a_.cbnz(failed, retry);
      a_.mov(src, old);
      return {};
    case Kind::CmpXchg: {
      // r0 = the old value whether or not it matched r0 (zero-extended for 32 bits).
      const Gp expected = sized(0, w64);
      const Label mismatch = a_.newLabel(), done = a_.newLabel();
      a_.bind(retry);
      a_.ldaxr(old, m);
      a_.cmp(old, expected);
      a_.b_ne(mismatch);
      store_exclusive_release(failed, src, host(kScratchAddr));
      a_.cbnz(failed, retry);
      a_.b(done);
      a_.bind(mismatch);
      a_.clrex(Imm(15));  // drop the exclusive monitor the failed compare left open
      a_.bind(done);
      a_.mov(expected, old);
      return {};
    }
    case Kind::Add: case Kind::Sub: case Kind::Mul: case Kind::Div: case Kind::SDiv: case Kind::Or:
    case Kind::And: case Kind::Lsh: case Kind::Rsh: case Kind::Mod: case Kind::SMod: case Kind::Xor:
    case Kind::Mov: case Kind::MovSx: case Kind::Arsh: case Kind::Neg: case Kind::ToLe:
    case Kind::ToBe: case Kind::Bswap: case Kind::Ldx: case Kind::LdxSx: case Kind::St:
    case Kind::Stx: case Kind::Lddw: case Kind::Ja: case Kind::Jeq: case Kind::Jgt: case Kind::Jge:
    case Kind::Jset: case Kind::Jne: case Kind::Jsgt: case Kind::Jsge: case Kind::Jlt:
    case Kind::Jle: case Kind::Jslt: case Kind::Jsle: case Kind::Call: case Kind::CallLocal:
    case Kind::CallReg: case Kind::Exit: case Kind::LdAbs: case Kind::LdInd:
      break;
  }
  return make_error(Errc::Internal, "arm64 JIT: row is not an atomic op: " + std::string(op.mnemonic), pc);
}

}  // namespace bpfvm::jit::arm64
