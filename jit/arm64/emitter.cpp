// A64Emitter core: entry trampoline, epilogue, the budget charge EmitDriver asks for at each
// segment start, the shared stubs into C++ (jit/runtime.hpp) and the code of the cold failure paths.
//
// Frame discipline: SP stays 16-byte aligned everywhere (AAPCS64). The trampoline BLs pc 0; a
// local call stores r6–r9, r10 and x30 (48 bytes) and BLs its target; every BPF `exit` is RET, so
// x30 holds the running BPF function's return address and anything else that BLs saves it first
// (call_stub). A fault anywhere resets SP to the trampoline's saved value.
#include <asmjit/arm/a64assembler.h>

#include <cstddef>
#include <string>

#include "jit/arm64/access_check.hpp"
#include "jit/arm64/emitter.hpp"
#include "jit/native_assembly.hpp"
#include "jit/runtime.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;
using isa::Form;

namespace {

template <class Fn>
std::uint64_t fn_address(Fn* fn) {
  return reinterpret_cast<std::uint64_t>(fn);
}

// Callee-saved registers the trampoline preserves (AAPCS64 6.1.1), in STP pairs after x29/x30.
constexpr std::uint32_t kCalleeSaved[][2] = {{19, 20}, {21, 22}, {23, 24}, {25, 26}, {27, 28}};
constexpr std::int32_t kTrampolineFrameBytes = 96;

}  // namespace

A64Emitter::A64Emitter(const CompileRequest& req, a64::Assembler& a)
    : EmitDriver(req), a_(a), rng_(req.blinding_seed) {
  labels_.resize(program_.size());
  for (auto& l : labels_) l = a_.newLabel();
  fail_exit_ = a_.newLabel();
  epilogue_ = a_.newLabel();
  check_stub_ = a_.newLabel();
  callx_stub_ = a_.newLabel();
  helper_stub_ = a_.newLabel();
  direct_lookup_stub_ = a_.newLabel();
  tail_stub_ = a_.newLabel();
  packet_load_stub_ = a_.newLabel();
}

A64Emitter::Mem A64Emitter::state(std::size_t offset) {
  return a64::ptr(host(kStateReg), static_cast<std::int32_t>(offset));
}

bool A64Emitter::guarded(unsigned bpf_reg, std::int16_t off, unsigned size_bytes, bool write,
                         std::uint32_t pc, bool force_address_reg) {
  if (!checked() && !force_address_reg) return false;
  const Gp addr = host(kScratchAddr);
  add_sub_imm(addr, x(bpf_reg), off);
  if (!checked()) return true;
  // The live frames, then the region the last access passed; else check_stub (x9, x10).
  emit_access_check(a_, addr, host(kScratchValue), host(kScratchOffset), host(kStateReg), size_bytes, write, pc,
                    [&] { call_stub(check_stub_); });
  return true;
}

void A64Emitter::emit_trampoline() {
  // Trampoline: int entry(JitState*). Builds a frame record, saves the callee-saved registers,
  // loads r1..r5, r10 and the budget, and BLRs state->entry (pc 0, or a callback's subprogram) so
  // that every BPF exit is a RET.
  const Gp state_reg = host(kStateReg);
  const Gp budget = host(kBudgetReg);
  const Gp ip0 = host(kScratchIp0);
  if (req_.listing) a_.comment("entry trampoline");
  a_.stp(a64::x29, a64::x30, a64::ptr_pre(a64::sp, -kTrampolineFrameBytes));
  a_.mov(a64::x29, a64::sp);
  for (std::size_t i = 0; i < std::size(kCalleeSaved); ++i)
    a_.stp(a64::GpX(kCalleeSaved[i][0]), a64::GpX(kCalleeSaved[i][1]),
           a64::ptr(a64::sp, static_cast<std::int32_t>(16 + 16 * i)));
  a_.mov(state_reg, a64::x0);
  a_.mov(ip0, a64::sp);
  a_.str(ip0, state(offsetof(JitState, saved_rsp)));
  a_.ldr(budget, state(offsetof(JitState, budget_left)));
  // r1..r5 = args (the interpreter zeroes r0 and r6..r9 too).
  a_.ldp(x(1), x(2), state(offsetof(JitState, args)));
  a_.ldp(x(3), x(4), state(offsetof(JitState, args) + 16));
  a_.ldr(x(5), state(offsetof(JitState, args) + 32));
  for (unsigned r : {0u, 6u, 7u, 8u, 9u}) a_.mov(x(r), a64::xzr);
  a_.ldr(x(isa::kFramePointer), state(offsetof(JitState, frame_top)));
  a_.ldr(ip0, state(offsetof(JitState, entry)));
  a_.blr(ip0);
  a_.str(x(0), state(offsetof(JitState, r0)));
  a_.mov(a64::w0, a64::wzr);
  a_.bind(epilogue_);
  a_.str(budget, state(offsetof(JitState, budget_left)));
  for (std::size_t i = std::size(kCalleeSaved); i-- > 0;)
    a_.ldp(a64::GpX(kCalleeSaved[i][0]), a64::GpX(kCalleeSaved[i][1]),
           a64::ptr(a64::sp, static_cast<std::int32_t>(16 + 16 * i)));
  a_.ldp(a64::x29, a64::x30, a64::ptr_post(a64::sp, kTrampolineFrameBytes));
  a_.ret(a64::x30);
  a_.bind(fail_exit_);
  a_.ldr(ip0, state(offsetof(JitState, saved_rsp)));
  a_.mov(a64::sp, ip0);
  a_.mov(a64::w0, Imm(1));
  a_.b(epilogue_);
}

void A64Emitter::charge_budget(std::uint32_t pc, std::uint32_t len) {
  // SUBS borrows (C clear, LO) exactly when the segment cannot be paid for in full.
  const Gp budget = host(kBudgetReg);
  if (len < 4096) {
    a_.subs(budget, budget, Imm(len));
  } else {
    move_wide_imm(host(kScratchValue), len);
    a_.subs(budget, budget, host(kScratchValue));
  }
  a_.b_lo(cold(ColdPath::Kind::Budget, pc, len));
}

void A64Emitter::emit_cold_entry(const ColdPath& c, const Label& common) {
  move_wide_imm(a64::w1, c.pc);
  if (c.kind == ColdPath::Kind::Budget) move_wide_imm(a64::w2, c.length);
  a_.b(common);
}

void A64Emitter::emit_cold_exit(ColdPath::Kind kind) {
  // Both failures end the run: unwind first, so the C++ call runs on the trampoline's frame.
  const auto fn = kind == ColdPath::Kind::Budget ? fn_address(&jit_budget_exhausted) : fn_address(&jit_call_depth);
  a_.str(host(kBudgetReg), state(offsetof(JitState, budget_left)));  // jit_budget_exhausted reads it
  a_.ldr(host(kScratchIp0), state(offsetof(JitState, saved_rsp)));
  a_.mov(a64::sp, host(kScratchIp0));
  a_.mov(a64::x0, host(kStateReg));
  call_absolute(fn);
  a_.mov(a64::w0, Imm(1));
  a_.b(epilogue_);
}

void A64Emitter::emit_stubs() {
  const Gp state_reg = host(kStateReg);
  const Gp status = host(kScratchValue, false);
  // The BPF registers in caller-saved host registers (r0..r5) are kept across every stub.
  const auto push = [&](std::initializer_list<std::pair<Gp, Gp>> pairs) {
    const auto bytes = static_cast<std::int32_t>(16 * pairs.size());
    std::int32_t at = 0;
    for (const auto& [lo, hi] : pairs) {
      if (at == 0) a_.stp(lo, hi, a64::ptr_pre(a64::sp, -bytes));
      else a_.stp(lo, hi, a64::ptr(a64::sp, at));
      at += 16;
    }
  };
  const auto pop = [&](std::initializer_list<std::pair<Gp, Gp>> pairs) {
    const auto bytes = static_cast<std::int32_t>(16 * pairs.size());
    std::int32_t at = bytes - 16;
    for (auto it = std::rbegin(pairs); it != std::rend(pairs); ++it, at -= 16) {
      if (at == 0) a_.ldp(it->first, it->second, a64::ptr_post(a64::sp, bytes));
      else a_.ldp(it->first, it->second, a64::ptr(a64::sp, at));
    }
  };
  const Gp addr = host(kScratchAddr), value = host(kScratchValue);

  // check_stub: x9 = address (kept), x10 = access_info.
  if (req_.listing) a_.comment("stub: checked access slow path");
  a_.bind(check_stub_);
  const std::initializer_list<std::pair<Gp, Gp>> kCheckSaved = {
      {x(1), x(2)}, {x(3), x(4)}, {x(5), x(0)}, {addr, a64::x30}};
  push(kCheckSaved);
  a_.mov(a64::x0, state_reg);
  a_.mov(a64::x1, addr);
  a_.mov(a64::x2, value);
  call_absolute(fn_address(&jit_check_access));
  a_.tst(a64::w0, Imm(0xff));  // AAPCS64: a bool return defines only bits 7:0
  a_.b_eq(fail_exit_);
  pop(kCheckSaved);
  a_.ret(a64::x30);

  // callx_stub: x9 = value, x10 = pc. Returns x9 = native target, or 0 for a helper.
  if (req_.listing) a_.comment("stub: callx target resolution");
  a_.bind(callx_stub_);
  const std::initializer_list<std::pair<Gp, Gp>> kCallxSaved = {
      {x(1), x(2)}, {x(3), x(4)}, {x(5), x(0)}, {a64::x30, value}};
  push(kCallxSaved);
  a_.mov(a64::x0, state_reg);
  a_.mov(a64::x1, addr);
  a_.mov(a64::x2, value);
  call_absolute(fn_address(&jit_resolve_callx));
  a_.mov(addr, a64::x0);
  pop(kCallxSaved);
  a_.ldr(status, state(offsetof(JitState, status)));
  a_.cbnz(status, fail_exit_);
  a_.ret(a64::x30);

  // helper_stub: calls state->pending_helper through jit_call_helper. r1..r5 are AAPCS64
  // arguments already; they are kept for the caller (as the interpreter keeps them), r0 = result.
  if (req_.listing) a_.comment("stub: helper call");
  a_.bind(helper_stub_);
  const std::initializer_list<std::pair<Gp, Gp>> kHelperSaved = {{x(1), x(2)}, {x(3), x(4)}, {x(5), a64::x30}};
  push(kHelperSaved);
  a_.mov(a64::x5, state_reg);
  // The budget lives in x27; jit_call_helper hands it to callbacks through JitState::budget_left.
  a_.str(host(kBudgetReg), state(offsetof(JitState, budget_left)));
  call_absolute(fn_address(&jit_call_helper));
  a_.ldr(host(kBudgetReg), state(offsetof(JitState, budget_left)));
  a_.mov(x(0), a64::x0);
  pop(kHelperSaved);
  a_.ldr(status, state(offsetof(JitState, status)));
  a_.cbnz(status, fail_exit_);
  a_.ret(a64::x30);

  // direct_lookup_stub: x9 = a map's lookup entry (emit_direct_lookup), called like the helper stub
  // calls jit_call_helper, r1..r5 kept; the entry cannot fail, so there is no status to test.
  if (has_direct_lookup_) {
    if (req_.listing) a_.comment("stub: direct map lookup");
    a_.bind(direct_lookup_stub_);
    push(kHelperSaved);
    a_.blr(host(kScratchAddr));
    a_.mov(x(0), a64::x0);
    pop(kHelperSaved);
    a_.ret(a64::x30);
  }

  // tail_stub: asks jit_take_tail_call whether the helper just called chose a tail-call target.
  // r0 (the helper's result) and r1..r5 are kept: a failed tail call continues with them and a
  // taken one starts the target with them. Returns x9 = the target's pc 0, or 0.
  if (may_tail_call_) {
    if (req_.listing) a_.comment("stub: tail call");
    a_.bind(tail_stub_);
    const std::initializer_list<std::pair<Gp, Gp>> kTailSaved = {
        {x(1), x(2)}, {x(3), x(4)}, {x(5), x(0)}, {a64::x30, value}};
    push(kTailSaved);
    a_.mov(a64::x0, state_reg);
    call_absolute(fn_address(&jit_take_tail_call));
    a_.mov(addr, a64::x0);
    pop(kTailSaved);
    a_.ldr(status, state(offsetof(JitState, status)));
    a_.cbnz(status, fail_exit_);
    a_.ret(a64::x30);
  }

  // packet_load_stub: x9 = offset, x10 = size. jit_packet_load(state, r6, offset, size) with
  // r1..r5 kept (as the interpreter keeps them); r0 = the entry's raw result.
  if (has_packet_load_) {
    if (req_.listing) a_.comment("stub: LD_ABS/LD_IND packet load");
    a_.bind(packet_load_stub_);
    push(kHelperSaved);
    a_.mov(a64::x1, x(isa::kPacketLoadCtxReg));
    a_.mov(a64::x2, addr);
    a_.mov(a64::x3, value);
    a_.mov(a64::x0, state_reg);
    call_absolute(fn_address(&jit_packet_load));
    a_.mov(x(0), a64::x0);
    pop(kHelperSaved);
    a_.ldr(status, state(offsetof(JitState, status)));
    a_.cbnz(status, fail_exit_);
    a_.ret(a64::x30);
  }
}

Result<NativeCode> compile(const CompileRequest& req) {
  NativeAssembly code(req, Environment(Arch::kAArch64), "arm64");
  a64::Assembler a(code.holder());
  A64Emitter emitter(req, a);
  auto emitted = emitter.emit_program();
  if (!emitted) return std::move(emitted).error();
  return code.finish(emitter.func_target_pcs(), [&](const CodeHolder& holder) {
    const auto& labels = emitter.pc_labels();
    std::vector<std::uint32_t> offsets(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i)
      offsets[i] = static_cast<std::uint32_t>(holder.labelOffsetFromBase(labels[i]));
    return offsets;
  });
}

}  // namespace bpfvm::jit::arm64
