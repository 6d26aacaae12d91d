// Form::Call, CallLocal and CallReg: helper calls through helper_stub (jit_call_helper), tail
// calls as a jump to the target's pc 0 after bpf_tail_call (tail_stub, jit_take_tail_call), and
// BPF-to-BPF calls as native call/ret with a fresh 512-byte frame and r6–r9, r10 kept on the
// host stack for the caller. Exit is a `ret` (emitter.cpp).
#include "jit/runtime.hpp"
#include "jit/x86_64/emitter.hpp"

namespace bpfvm::jit::x86_64 {

using namespace asmjit;

void X86Emitter::sync_stack_region() {
  // ctx->stack = the mirror, exactly as the interpreter updates it on call and exit.
  a_.mov(x86::r11, state(offsetof(JitState, ctx_stack)));
  a_.mov(x86::r10, state(offsetof(JitState, stack_lo)));
  a_.mov(x86::qword_ptr(x86::r11, offsetof(vm::Region, begin)), x86::r10);
  a_.mov(x86::r10, state(offsetof(JitState, stack_size)));
  a_.mov(x86::qword_ptr(x86::r11, offsetof(vm::Region, size_bytes)), x86::r10);
}

void X86Emitter::emit_local_call_sequence(std::uint32_t pc, const Label* target, const Gp* target_reg) {
  const auto depth = state(offsetof(JitState, depth), 4);
  a_.mov(x86::r10d, depth);
  a_.cmp(x86::r10d, state(offsetof(JitState, depth_limit), 4));
  a_.jae(cold(ColdPath::Kind::CallDepth, pc));
  a_.add(depth, 1);
  // Five pushes plus the return address keep rsp ≡ 8 (mod 16) in the callee.
  const Gp kKept[] = {q(6), q(7), q(8), q(9), q(isa::kFramePointer)};
  for (const auto& r : kKept) a_.push(r);
  a_.sub(q(isa::kFramePointer), imm(isa::kStackBytes));
  a_.sub(state(offsetof(JitState, stack_lo)), imm(isa::kStackBytes));
  a_.add(state(offsetof(JitState, stack_size)), imm(isa::kStackBytes));
  sync_stack_region();
  if (target) a_.call(*target); else a_.call(*target_reg);
  if (may_tail_call_) {
    // The callee may have tail-called into another program; back here, this one runs again.
    a_.mov(x86::r10, imm(reinterpret_cast<std::uint64_t>(req_.program_code)));
    a_.mov(state(offsetof(JitState, code)), x86::r10);
  }
  for (int i = 4; i >= 0; --i) a_.pop(kKept[i]);
  a_.sub(depth, 1);
  a_.add(state(offsetof(JitState, stack_lo)), imm(isa::kStackBytes));
  a_.sub(state(offsetof(JitState, stack_size)), imm(isa::kStackBytes));
  sync_stack_region();
}

void X86Emitter::emit_helper_sequence() {
  a_.call(helper_stub_);
}

void X86Emitter::emit_tail_call_check() {
  // A taken tail call replaces this program: jump (not call) to the target's pc 0, so its `exit`
  // returns to whoever called this function, on the same frame — the kernel's and the
  // interpreter's semantics, with no host stack growth per tail call.
  const Label no_tail_call = a_.newLabel();
  a_.call(tail_stub_);
  a_.test(x86::r10, x86::r10);
  a_.short_().jz(no_tail_call);  // skips one 3-byte jmp
  a_.jmp(x86::r10);
  a_.bind(no_tail_call);
}

void X86Emitter::emit_array_lookup(const vm::DirectArray& array) {
  // r0 = index < max_entries ? base + index * stride : NULL. The key was proven readable by the
  // verifier (unchecked builds only); r1-r5 stay as they were, as after a helper call.
  const Label null = a_.newLabel(), done = a_.newLabel();
  a_.mov(q(0).r32(), x86::dword_ptr(q(2)));
  a_.cmp(q(0).r32(), imm(array.max_entries));
  a_.short_().jae(null);
  a_.imul(q(0), q(0), imm(array.stride));
  a_.mov(x86::r10, imm(array.base));
  a_.add(q(0), x86::r10);
  a_.short_().jmp(done);
  a_.bind(null);
  a_.xor_(q(0).r32(), q(0).r32());
  a_.bind(done);
}

void X86Emitter::emit_direct_lookup(vm::DirectLookupFn fn) {
  // The map's own entry on (r1 = its handle, r2 = key), already rdi and rsi; no JitState bookkeeping:
  // it cannot fault, spends no budget and calls nothing back.
  a_.mov(x86::r10, imm(reinterpret_cast<std::uint64_t>(fn)));
  a_.call(direct_lookup_stub_);
}

void X86Emitter::emit_helper_call(const vm::HelperEntry& helper, std::uint32_t pc) {
  a_.mov(x86::r10, imm(reinterpret_cast<std::uint64_t>(&helper)));
  a_.mov(state(offsetof(JitState, pending_helper)), x86::r10);
  a_.mov(state(offsetof(JitState, pc), 4), imm(pc));
  emit_helper_sequence();
}

void X86Emitter::emit_call_local(std::uint32_t pc, std::size_t target_pc) {
  emit_local_call_sequence(pc, &labels_[target_pc], nullptr);
}

Result<void> X86Emitter::emit_call_reg(const vm::Insn& insn, std::uint32_t pc) {
  // The register holds a subprogram address from lddw_func, or a helper id (conformance callx).
  a_.mov(x86::r10, q(insn.dst));
  a_.mov(x86::r11d, imm(pc));
  a_.call(callx_stub_);
  const Label helper = a_.newLabel(), done = a_.newLabel();
  a_.test(x86::r10, x86::r10);
  a_.jz(helper);
  a_.mov(x86::r9, x86::r10);  // sync_stack_region() uses r10 and r11
  emit_local_call_sequence(pc, nullptr, &x86::r9);
  a_.jmp(done);
  a_.bind(helper);
  emit_helper_sequence();  // jit_resolve_callx set pending_helper and pc
  emit_tail_call_check();  // the id may be bpf_tail_call's
  a_.bind(done);
  return {};
}

}  // namespace bpfvm::jit::x86_64
