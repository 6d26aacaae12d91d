// Form::Atomic: lock add/or/and/xor, lock xadd for fetch-add, cmpxchg loops for fetch-or/and/xor,
// xchg and lock cmpxchg.
#include "jit/x86_64/emitter.hpp"
#include "jit/op_classes.hpp"

namespace bpfvm::jit::x86_64 {

using namespace asmjit;

Result<void> X86Emitter::emit_atomic(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const auto atomic = atomic_op_of(op.kind);
  if (!atomic) return make_error(Errc::Internal, "x86-64 JIT: row is not an atomic op: " + std::string(op.mnemonic), pc);
  const bool w64 = op.width == 64;
  const unsigned size = op.width / 8;
  const bool fetch = (insn.imm & isa::enc::kFetch) != 0;
  // The cmpxchg loops rewrite rax, which may be dst: their address goes to r10 first.
  const bool loop = fetch && (*atomic == AtomicOp::Or || *atomic == AtomicOp::And || *atomic == AtomicOp::Xor);
  const Mem m = guarded(insn.dst, insn.off, size, true, pc, /*force_address_reg=*/loop);
  const Gp src = w64 ? q(insn.src) : d(insn.src);
  const Gp ax = w(x86::rax, w64);
  const Gp src_id_is_rax_check = q(insn.src);
  const bool src_is_rax = src_id_is_rax_check.id() == x86::rax.id();

  auto rmw = [&](InstId id) {
    if (!fetch) {
      a_.lock().emit(id, m, src);
      return;
    }
    // Fetch or/and/xor: cmpxchg loop; rax is the comparand, so r0 is parked in r9 — unless src is
    // r0, whose operand value then lives in r9 and which receives the old value anyway.
    const Gp operand = src_is_rax ? w(x86::r9, w64) : src;
    const Gp next = w(x86::r11, w64);
    a_.mov(x86::r9, x86::rax);
    a_.mov(ax, m);
    const Label retry = a_.newLabel();
    a_.bind(retry);
    a_.mov(next, ax);
    a_.emit(id, next, operand);
    a_.lock().cmpxchg(m, next, ax);
    a_.jne(retry);
    if (src_is_rax) {
      if (!w64) a_.mov(x86::eax, x86::eax);
    } else {
      a_.mov(src, ax);  // 32-bit: zero-extended
      a_.mov(x86::rax, x86::r9);
    }
  };
  switch (*atomic) {
    case AtomicOp::Add:
      if (fetch)
        a_.lock().xadd(m, src);  // src = old value (32-bit: zero-extended)
      else
        a_.lock().add(m, src);
      return {};
    case AtomicOp::Or: rmw(x86::Inst::kIdOr); return {};
    case AtomicOp::And: rmw(x86::Inst::kIdAnd); return {};
    case AtomicOp::Xor: rmw(x86::Inst::kIdXor); return {};
    case AtomicOp::Xchg:
      a_.xchg(m, src);  // implicitly locked; src = old value
      return {};
    case AtomicOp::CmpXchg:
      a_.lock().cmpxchg(m, src, ax);
      // On success a 32-bit cmpxchg leaves rax unwritten; r0 must still be the zero-extended old value.
      if (!w64) a_.mov(x86::eax, x86::eax);
      return {};
  }
  return {};
}

}  // namespace bpfvm::jit::x86_64
