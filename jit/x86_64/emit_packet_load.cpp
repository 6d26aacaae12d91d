// Form::PacketLoad (legacy LD_ABS/LD_IND): the registry's packet-load entry reads the skb in r6
// through packet_load_stub (jit_packet_load); a negative result means the bytes lie outside the
// packet, and the current function returns 0 with a plain `ret` (the kernel's hidden exit: the
// whole program from the main function, to the caller from a subprogram).
#include "jit/runtime.hpp"
#include "jit/x86_64/emitter.hpp"

namespace bpfvm::jit::x86_64 {

using namespace asmjit;

Result<void> X86Emitter::emit_packet_load(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const vm::HelperEntry* load = req_.helpers.empty() ? nullptr : req_.helpers[pc];
  if (load == nullptr) return make_error(Errc::Internal, "x86-64 JIT: the packet-load entry was not resolved", pc);
  a_.mov(x86::r10, imm(reinterpret_cast<std::uint64_t>(load)));
  a_.mov(state(offsetof(JitState, pending_helper)), x86::r10);
  a_.mov(state(offsetof(JitState, pc), 4), imm(pc));
  // The offset in 64 bits like the kernel's r2 (imm, or src + imm); the entry uses the low 32 bits.
  load_imm(x86::r10, insn.imm);
  if (op.kind == isa::Kind::LdInd) a_.add(x86::r10, q(insn.src));
  a_.mov(x86::r11d, imm(op.width / 8));
  a_.call(packet_load_stub_);
  const Label in_packet = a_.newLabel();
  a_.test(q(0), q(0));
  a_.short_().jns(in_packet);  // skips xor + ret
  a_.xor_(d(0), d(0));
  a_.ret();
  a_.bind(in_packet);
  return {};
}

}  // namespace bpfvm::jit::x86_64
