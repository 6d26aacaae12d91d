// Form::Call, CallLocal and CallReg: helper calls through helper_stub (jit_call_helper), tail
// calls as a branch to the target's pc 0 after bpf_tail_call (tail_stub, jit_take_tail_call), and
// BPF-to-BPF calls as native BL/RET with a fresh 512-byte frame and r6–r9, r10 and x30 kept on the
// host stack for the caller. Exit is a RET (emitter.cpp).
#include <asmjit/arm/a64assembler.h>

#include "jit/arm64/emitter.hpp"
#include "jit/runtime.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;

void A64Emitter::adjust_stack_region(std::int64_t delta_bytes) {
  // stack_lo -= delta, stack_size += delta; then ctx->stack = the mirror, exactly as the
  // interpreter updates it on call and exit.
  const Gp lo = host(kScratchIp0), size = host(kScratchIp1), region = host(kScratchValue);
  a_.ldr(lo, state(offsetof(JitState, stack_lo)));
  a_.ldr(size, state(offsetof(JitState, stack_size)));
  add_sub_imm(lo, lo, -delta_bytes);
  add_sub_imm(size, size, delta_bytes);
  a_.str(lo, state(offsetof(JitState, stack_lo)));
  a_.str(size, state(offsetof(JitState, stack_size)));
  a_.ldr(region, state(offsetof(JitState, ctx_stack)));
  a_.str(lo, a64::ptr(region, offsetof(vm::Region, begin)));
  a_.str(size, a64::ptr(region, offsetof(vm::Region, size_bytes)));
}

void A64Emitter::emit_local_call_sequence(std::uint32_t pc, const Label* target, const Gp* target_reg) {
  const Gp depth = host(kScratchIp0, false);
  a_.ldr(depth, state(offsetof(JitState, depth)));
  const Gp limit = host(kScratchIp1, false);
  a_.ldr(limit, state(offsetof(JitState, depth_limit)));
  a_.cmp(depth, limit);
  a_.b_hs(cold(ColdPath::Kind::CallDepth, pc));
  a_.add(depth, depth, Imm(1));
  a_.str(depth, state(offsetof(JitState, depth)));
  // r6..r9, r10 and this function's return address: 48 bytes keep SP 16-byte aligned.
  a_.stp(x(6), x(7), a64::ptr_pre(a64::sp, -48));
  a_.stp(x(8), x(9), a64::ptr(a64::sp, 16));
  a_.stp(x(isa::kFramePointer), a64::x30, a64::ptr(a64::sp, 32));
  add_sub_imm(x(isa::kFramePointer), x(isa::kFramePointer), -static_cast<std::int64_t>(isa::kStackBytes));
  adjust_stack_region(isa::kStackBytes);
  if (target) a_.bl(*target); else a_.blr(*target_reg);
  if (may_tail_call_) {
    // The callee may have tail-called into another program; back here, this one runs again.
    const Gp code = host(kScratchValue);
    move_wide_imm(code, reinterpret_cast<std::uint64_t>(req_.program_code));
    a_.str(code, state(offsetof(JitState, code)));
  }
  a_.ldp(x(isa::kFramePointer), a64::x30, a64::ptr(a64::sp, 32));
  a_.ldp(x(8), x(9), a64::ptr(a64::sp, 16));
  a_.ldp(x(6), x(7), a64::ptr_post(a64::sp, 48));
  a_.ldr(depth, state(offsetof(JitState, depth)));
  a_.sub(depth, depth, Imm(1));
  a_.str(depth, state(offsetof(JitState, depth)));
  adjust_stack_region(-static_cast<std::int64_t>(isa::kStackBytes));
}

void A64Emitter::emit_helper_sequence() {
  call_stub(helper_stub_);
}

void A64Emitter::emit_tail_call_check() {
  // A taken tail call replaces this program: branch (not BL) to the target's pc 0 with x30 and SP
  // as this function got them, so its RET returns to whoever called this function, on the same
  // frame — the kernel's and the interpreter's semantics, with no host stack growth per tail call.
  const Label no_tail_call = a_.newLabel();
  call_stub(tail_stub_);
  a_.cbz(host(kScratchAddr), no_tail_call);
  a_.br(host(kScratchAddr));
  a_.bind(no_tail_call);
}

void A64Emitter::emit_array_lookup(const vm::DirectArray& array) {
  // r0 = index < max_entries ? base + index * stride : NULL. The key was proven readable by the
  // verifier (unchecked builds only); r1-r5 stay as they were, as after a helper call.
  const Label null = a_.newLabel(), done = a_.newLabel();
  a_.ldr(w(0), a64::ptr(x(2)));
  compare_imm(w(0), array.max_entries);
  a_.b_hs(null);
  const Gp stride = host(kScratchValue), base = host(kScratchAddr);
  move_wide_imm(stride, array.stride);
  move_wide_imm(base, array.base);
  a_.madd(x(0), x(0), stride, base);
  a_.b(done);
  a_.bind(null);
  a_.mov(x(0), a64::xzr);
  a_.bind(done);
}

void A64Emitter::emit_direct_lookup(vm::DirectLookupFn fn) {
  // The map's own entry on (r1 = its handle, r2 = key), already x0 and x1; no JitState bookkeeping:
  // it cannot fault, spends no budget (x27 is callee-saved) and calls nothing back.
  move_wide_imm(host(kScratchAddr), reinterpret_cast<std::uint64_t>(fn));
  call_stub(direct_lookup_stub_);
}

void A64Emitter::emit_helper_call(const vm::HelperEntry& helper, std::uint32_t pc) {
  const Gp tmp = host(kScratchValue);
  move_wide_imm(tmp, reinterpret_cast<std::uint64_t>(&helper));
  a_.str(tmp, state(offsetof(JitState, pending_helper)));
  move_wide_imm(tmp.w(), pc);
  a_.str(tmp.w(), state(offsetof(JitState, pc)));
  emit_helper_sequence();
}

void A64Emitter::emit_call_local(std::uint32_t pc, std::size_t target_pc) {
  emit_local_call_sequence(pc, &labels_[target_pc], nullptr);
}

Result<void> A64Emitter::emit_call_reg(const vm::Insn& insn, std::uint32_t pc) {
  // The register holds a subprogram address from lddw_func, or a helper id (conformance callx).
  const Gp value = host(kScratchAddr);
  a_.mov(value, x(insn.dst));
  move_wide_imm(host(kScratchValue, false), pc);
  call_stub(callx_stub_);
  const Label helper = a_.newLabel(), done = a_.newLabel();
  a_.cbz(value, helper);
  const Gp target = host(kScratchTarget);  // the call sequence uses x9..x11, x16 and x17
  a_.mov(target, value);
  emit_local_call_sequence(pc, nullptr, &target);
  a_.b(done);
  a_.bind(helper);
  emit_helper_sequence();  // jit_resolve_callx set pending_helper and pc
  emit_tail_call_check();  // the id may be bpf_tail_call's
  a_.bind(done);
  return {};
}

}  // namespace bpfvm::jit::arm64
