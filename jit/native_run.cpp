// run_native: sets up a JitState and a stack, enters the code through its trampoline, and serves
// RunContext::call_back for helpers (bpf_loop, bpf_for_each_map_elem) as a nested run_native.
#include "jit/native_run.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "jit/jit_program.hpp"
#include "vm/exec_errors.hpp"

namespace bpfvm::jit {

namespace {

// RunContext::invoke_callback while JIT code runs; `engine` is that run's JitState. Mirrors
// Interpreter::call_function: the callback runs the *current* program's subprogram (a tail call may
// have switched it) on a fresh stack at depth 0, the caller's frames stay reachable as a region,
// and it spends the run's budget (ctx.insns_executed, which jit_call_helper keeps current).
Result<std::uint64_t> call_back_into_code(const void* engine, vm::RunContext& ctx, std::uint64_t fn_value,
                                          std::span<const std::uint64_t, 5> args) {
  const auto* caller = static_cast<const JitState*>(engine);
  const ProgramCode& code = *caller->code;
  if (!std::binary_search(code.func_addresses.begin(), code.func_addresses.end(), fn_value))
    return vm::callback_target_error();
  const vm::Region caller_stack = ctx.stack;
  ctx.regions.push_back(caller_stack);
  auto run = run_native(code, ctx, args, fn_value, caller->support->budget_insns,
                        caller->budget_total - ctx.insns_executed);
  ctx.regions.pop_back();
  ctx.stack = caller_stack;
  if (!run) return std::move(run).error();
  ctx.insns_executed = caller->budget_total - run->budget_left;
  return run->r0;
}

// KeptCallback::call for JIT code (bpf_timer callbacks): a run of its own of the function at fn_value
// in `code`, with the caller's ctx's mode and budget.
Result<std::uint64_t> run_kept_code(const void* code, vm::RunContext& ctx, std::uint64_t fn_value,
                                    std::span<const std::uint64_t, 5> args) {
  const auto& program = *static_cast<const ProgramCode*>(code);
  if (!std::binary_search(program.func_addresses.begin(), program.func_addresses.end(), fn_value))
    return vm::callback_target_error();
  ctx.begin_run();
  const std::uint64_t budget = ctx.budget_insns ? ctx.budget_insns : std::numeric_limits<std::uint64_t>::max();
  auto run = run_native(program, ctx, args, fn_value, ctx.budget_insns, budget);
  if (!run) return std::move(run).error();
  ctx.insns_executed = budget - run->budget_left;
  return run->r0;
}

vm::KeptCallback keep_code_callback(const void* engine, std::uint64_t fn_value) {
  return vm::KeptCallback{&run_kept_code, static_cast<const JitState*>(engine)->code, fn_value};
}

void install_jit_hooks(vm::RunContext& ctx, JitState& state) {
  ctx.invoke_callback = &call_back_into_code;
  ctx.keep_callback = &keep_code_callback;
  ctx.engine = &state;
  ctx.engine_tail_calls = true;  // jit_take_tail_call follows RunContext::tail_call_target
}

// The error of a run whose code returned non-zero (a thunk stored it in support.error).
Error run_error(RunSupport& support) {
  if (support.error) {
    Error e = std::move(*support.error);
    support.error.reset();
    return e;
  }
  return make_error(Errc::Internal, "JIT: run failed without an error");
}

}  // namespace

Result<NativeRunResult> run_native(const ProgramCode& code, vm::RunContext& ctx, std::span<const std::uint64_t> args,
                                   std::uint64_t entry, std::uint64_t budget_insns, std::uint64_t budget_left,
                                   std::uint32_t runs) {
  RunSupport support;
  support.budget_insns = budget_insns;

  // Every frame a run may use, like the interpreter's Machine; zeroed (the frames the program can
  // reach) where memory is checked, so reads of unwritten stack agree with the interpreter, and for a
  // program the verifier let read unwritten stack (JitOptions::zero_stack), so no run sees an
  // earlier run's bytes.
  alignas(16) std::uint8_t stack[isa::kMaxRunFrames * isa::kStackBytes];
  const std::size_t clear_bytes = std::min(code.cleared_stack_bytes, sizeof stack);
  if (clear_bytes != 0) std::memset(stack + sizeof stack - clear_bytes, 0, clear_bytes);
  const auto stack_top = reinterpret_cast<std::uintptr_t>(stack + sizeof stack);

  JitState state;
  init_jit_state(state, code, ctx, support, args, entry, stack_top, budget_left);

  const vm::Region saved_stack = ctx.stack;
  const vm::CallbackFn saved_hook = ctx.invoke_callback;
  const vm::KeepCallbackFn saved_keep = ctx.keep_callback;
  const void* const saved_engine = ctx.engine;
  const bool saved_tail_calls = ctx.engine_tail_calls;
  ctx.stack = vm::Region{state.stack_lo, isa::kStackBytes, true, "stack"};
  install_jit_hooks(ctx, state);
  auto finish = [&](int rc) -> Result<NativeRunResult> {
    ctx.stack = saved_stack;
    ctx.invoke_callback = saved_hook;
    ctx.keep_callback = saved_keep;
    ctx.engine = saved_engine;
    ctx.engine_tail_calls = saved_tail_calls;
    if (rc != 0) return run_error(support);
    return NativeRunResult{state.r0, state.budget_left};
  };
  const auto enter = reinterpret_cast<JitEntry>(code.trampoline);
  if (runs <= 1) [[likely]] {
    const int rc = enter(&state);
    return finish(rc);
  }
  const JitState first = state;  // only repeated runs need it (a copy of ~180 bytes)
  int rc = enter(&state);
  for (std::uint32_t run = 1; run < runs && rc == 0; ++run) {
    state = first;  // a run may have tail-called into other code, moved the frame mirror, spent budget
    std::memset(stack + sizeof stack - clear_bytes, 0, clear_bytes);  // as the first run's
    ctx.begin_run();
    ctx.stack = vm::Region{state.stack_lo, isa::kStackBytes, true, "stack"};
    rc = enter(&state);
  }
  return finish(rc);
}

void HeldRun::prepare(const JitProgram& program, vm::RunContext& ctx, const vm::ExecOptions& options) {
  program_ = &program;
  ctx_ = &ctx;
  variant_ = variant_for(options);
  checked_ = options.checked;
  counted_ = variant_ != Variant::Fast;
  support_.budget_insns = options.budget_insns;
  support_.error.reset();
  code_ = nullptr;
  lookup_ = &kLookUp;
  ctx.checked = checked_;  // as JitProgram::run sets them per run; nothing else changes them between held runs
  ctx.budget_insns = support_.budget_insns;
  install_jit_hooks(ctx, state_);
  ctx.stack = vm::Region{0, 0, true, "stack"};  // run() sets begin and size
  set_fixed_fields();
}

void HeldRun::set_fixed_fields() {
  state_.saved_rsp = 0;
  state_.pending_helper = nullptr;
  state_.depth = 0;
  state_.pc = 0;
  state_.status = 0;
  state_.ctx_stack = &ctx_->stack;
  state_.ctx = ctx_;
  state_.support = &support_;
  state_.frame_top = reinterpret_cast<std::uintptr_t>(stack_ + sizeof stack_);
  state_.entry = code_ != nullptr ? code_->entry : 0;
  state_.budget_total = support_.budget_insns ? support_.budget_insns : std::numeric_limits<std::uint64_t>::max();
  state_.args[2] = state_.args[3] = state_.args[4] = 0;
  state_.r0 = 0;
}

const ProgramCode* HeldRun::current_code() {
  // The tier first: code_for may then already return the optimized code (the next run looks again,
  // harmlessly), but never baseline code with nobody watching for the upgrade.
  const bool watch = program_->tier(variant_) == Tier::Baseline;
  auto built = program_->code_for(variant_);
  if (!built) {
    support_.error = std::move(built).error();
    return nullptr;
  }
  code_ = *built;
  lookup_ = watch ? &program_->optimized_ready(variant_) : &kKeep;
  state_.entry = code_->entry;
  clear_bytes_ = std::min(code_->cleared_stack_bytes, sizeof stack_);
  return code_;
}

Error HeldRun::take_error() { return run_error(support_); }

}  // namespace bpfvm::jit
