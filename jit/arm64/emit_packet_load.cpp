// Form::PacketLoad (legacy LD_ABS/LD_IND): the registry's packet-load entry reads the skb in r6
// through packet_load_stub (jit_packet_load); a negative result means the bytes lie outside the
// packet, and the current function returns 0 with a plain RET (the kernel's hidden exit: the whole
// program from the main function, to the caller from a subprogram).
#include <asmjit/arm/a64assembler.h>

#include "jit/arm64/emitter.hpp"
#include "jit/runtime.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;

Result<void> A64Emitter::emit_packet_load(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc) {
  const vm::HelperEntry* load = req_.helpers.empty() ? nullptr : req_.helpers[pc];
  if (load == nullptr) return make_error(Errc::Internal, "arm64 JIT: the packet-load entry was not resolved", pc);
  const Gp offset = host(kScratchAddr), value = host(kScratchValue);
  move_wide_imm(value, reinterpret_cast<std::uint64_t>(load));
  a_.str(value, state(offsetof(JitState, pending_helper)));
  move_wide_imm(value.w(), pc);
  a_.str(value.w(), state(offsetof(JitState, pc)));
  // The offset in 64 bits like the kernel's r2 (imm, or src + imm); the entry uses the low 32 bits.
  load_imm(offset, insn.imm);
  if (op.kind == isa::Kind::LdInd) a_.add(offset, offset, x(insn.src));
  move_wide_imm(value, op.width / 8);
  call_stub(packet_load_stub_);
  const Label in_packet = a_.newLabel();
  a_.tbz(x(0), 63, in_packet);  // Test bit and branch: the sign bit clear = a loaded value
  a_.mov(x(0), a64::xzr);
  a_.ret(a64::x30);
  a_.bind(in_packet);
  return {};
}

}  // namespace bpfvm::jit::arm64
