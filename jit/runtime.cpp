// The thunks generated code calls: helper invocation, checked-mode slow paths, and every run-time
// error, built with vm/exec_errors so the JIT's messages equal the interpreter's to the letter.
#include "jit/runtime.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "jit/jit_program.hpp"
#include "vm/exec_errors.hpp"
#include "vm/tail_call_target.hpp"

namespace bpfvm::jit {

namespace {
void fail(JitState* state, Error error) {
  state->support->error = std::move(error);
  state->status = 1;
}

// Empties checked mode's region cache (JitState::read_lo …): the next access takes the slow path.
void forget_regions(JitState* state) {
  state->read_lo = state->write_lo = std::numeric_limits<std::uint64_t>::max();
  state->read_size = state->write_size = 0;
}
}  // namespace

std::uint64_t jit_call_helper(std::uint64_t r1, std::uint64_t r2, std::uint64_t r3, std::uint64_t r4,
                              std::uint64_t r5, JitState* state) noexcept {
  const vm::HelperEntry* helper = state->pending_helper;
  vm::RunContext* ctx = state->ctx;
  ctx->current_helper = helper;
  // Callbacks inside the helper spend the same budget (as in the interpreter): hand over the count.
  ctx->insns_executed = state->budget_total - state->budget_left;
  const std::uint64_t r0 = helper->fn(r1, r2, r3, r4, r5, ctx);
  state->budget_left = state->budget_total - ctx->insns_executed;
  forget_regions(state);  // the helper may have moved the packet or dropped a region
  if (ctx->faulted()) [[unlikely]]
    fail(state, vm::helper_fault_error(state->pc, helper->name, ctx->helper_fault));
  return r0;
}

std::uint64_t jit_packet_load(JitState* state, std::uint64_t ctx, std::uint64_t offset,
                              std::uint64_t size_bytes) noexcept {
  return jit_call_helper(ctx, offset, size_bytes, 0, 0, state);
}

bool jit_check_access(JitState* state, std::uint64_t addr, std::uint64_t info) noexcept {
  const auto size = static_cast<unsigned>(info & 0xff);
  const bool write = (info >> 8) & 1;
  const auto at = static_cast<std::uintptr_t>(addr);
  if (const vm::Region* r = state->ctx->region_allowing(at, size, write)) {
    // The next access to this region passes inline: allowed() would answer the same until a helper runs.
    state->read_lo = r->begin;
    state->read_size = r->size_bytes;
    if (write) {
      state->write_lo = r->begin;
      state->write_size = r->size_bytes;
    }
    return true;
  }
  // Not a region: allowed() would now ask only the stack (an access the inline test missed, e.g.
  // one spanning frames) and the owners.
  if (state->ctx->stack.contains(at, size) || state->ctx->owned(at, size, write)) return true;
  fail(state, vm::memory_fault_error(static_cast<std::uint32_t>(info >> 32), addr, size, write));
  return false;
}

void jit_budget_exhausted(JitState* state, std::uint64_t start_pc, std::uint64_t length) noexcept {
  // The segment's charge borrowed: budget_left = old - length (mod 2^64), so `old` instructions of
  // the segment were still payable and the next one is the first the interpreter refuses.
  std::uint64_t remaining = state->budget_left + length;
  const vm::Program& program = *state->code->program;
  std::size_t pc = start_pc;
  while (remaining > 0) {
    pc += isa::is_wide(program.op(pc)) ? 2 : 1;
    --remaining;
  }
  fail(state, vm::budget_error(static_cast<std::uint32_t>(pc), state->support->budget_insns));
}

void jit_call_depth(JitState* state, std::uint64_t pc) noexcept {
  fail(state, vm::call_depth_error(static_cast<std::uint32_t>(pc)));
}

std::uint64_t jit_resolve_callx(JitState* state, std::uint64_t value, std::uint64_t pc) noexcept {
  const auto& funcs = state->code->func_addresses;
  if (std::binary_search(funcs.begin(), funcs.end(), value)) return value;
  jit_callx_helper(state, value, pc);
  return 0;
}

void jit_callx_helper(JitState* state, std::uint64_t value, std::uint64_t pc) noexcept {
  const vm::HelperEntry* helper =
      value <= std::numeric_limits<std::uint32_t>::max()
          ? state->code->registry->find(static_cast<std::uint32_t>(value))
          : nullptr;
  state->pc = static_cast<std::uint32_t>(pc);
  if (helper == nullptr) {
    fail(state, vm::callx_target_error(static_cast<std::uint32_t>(pc), value));
    return;
  }
  state->pending_helper = helper;
}

std::uint64_t jit_take_tail_call(JitState* state) noexcept {
  vm::RunContext* ctx = state->ctx;
  const void* chosen = ctx->tail_call_target;
  if (chosen == nullptr) return 0;  // no tail call, or it failed: continue after the call
  ctx->tail_call_target = nullptr;
  const auto* target = static_cast<const JitProgram*>(
      static_cast<const vm::TailCallTarget*>(chosen)->jit.load(std::memory_order_acquire));
  if (target == nullptr) {
    fail(state, vm::tail_call_target_error(state->pc));
    return 0;
  }
  // The target runs in the caller's variant (built now if this is its first run in it), on the
  // caller's frame and call depth: the generated code jumps to its pc 0 with every register kept.
  // Its baseline code even where its fast runs are optimized: only that code takes the caller's
  // registers as they are at pc 0.
  auto code = target->baseline_code_for(state->code->variant);
  if (!code) {
    fail(state, std::move(code).error());
    return 0;
  }
  state->code = *code;
  // It continues on the caller's frame (the deepest live one) and may call deeper: no earlier run's
  // bytes in any of them for a target that may read unwritten stack (run_native's stack is
  // kMaxRunFrames frames below frame_top).
  if ((*code)->zero_stack) {
    const std::uint64_t bottom = state->frame_top - std::uint64_t{isa::kMaxRunFrames} * isa::kStackBytes;
    std::memset(reinterpret_cast<void*>(bottom), 0, state->stack_lo + isa::kStackBytes - bottom);
  }
  // The target may nest its own calls from the frame it continues on (vm/isa.hpp kMaxRunFrames).
  state->depth_limit = std::max<std::uint32_t>(
      state->depth_limit, std::min<std::uint32_t>(state->depth + isa::kMaxCallFrames - 1, isa::kMaxRunFrames - 1));
  return (*code)->entry;
}

}  // namespace bpfvm::jit
