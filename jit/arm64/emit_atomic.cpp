// Form::Atomic as Load/store exclusive loops (LDAXR ... STLXR, retried while the exclusive store
// fails). They need only ARMv8.0, so the code is the same with or without the LSE atomics
// (LDADD/LDSET/LDCLR/LDEOR/SWP/CAS); acquire-release pairs give the sequentially consistent
// ordering the interpreter's __ATOMIC_SEQ_CST builtins have.
#include <asmjit/arm/a64assembler.h>

#include "jit/arm64/emitter.hpp"
#include "jit/op_classes.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;

Result<void> A64Emitter::emit_atomic(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const auto atomic = atomic_op_of(op.kind);
  if (!atomic) return make_error(Errc::Internal, "arm64 JIT: row is not an atomic op: " + std::string(op.mnemonic), pc);
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
  switch (*atomic) {
    case AtomicOp::Add: rmw(a64::Inst::kIdAdd); return {};
    case AtomicOp::Or: rmw(a64::Inst::kIdOrr); return {};
    case AtomicOp::And: rmw(a64::Inst::kIdAnd); return {};
    case AtomicOp::Xor: rmw(a64::Inst::kIdEor); return {};
    case AtomicOp::Xchg:
      a_.bind(retry);
      a_.ldaxr(old, m);
      store_exclusive_release(failed, src, host(kScratchAddr));
      a_.cbnz(failed, retry);
      a_.mov(src, old);
      return {};
    case AtomicOp::CmpXchg: {
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
  }
  return {};
}

}  // namespace bpfvm::jit::arm64
