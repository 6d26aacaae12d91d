// One native run of built code: the per-run JitState and stack, and the RunContext hooks the JIT
// provides while it runs (tail calls, callbacks into the program); HeldRun keeps them set up for
// one-run-per-event hosts.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>

#include "bpfvm/result.hpp"
#include "jit/runtime.hpp"
#include "vm/interpreter.hpp"
#include "vm/isa.hpp"
#include "vm/run_context.hpp"

namespace bpfvm::jit {

struct NativeRunResult {
  std::uint64_t r0 = 0;
  std::uint64_t budget_left = 0;  // what the run left of budget_left (counting variants)
};

/// Runs `code` from `entry` (its pc 0, or a subprogram for a callback) with r1..r5 = args,
/// r0 and r6..r9 = 0 and r10 = top of a fresh isa::kMaxRunFrames-frame stack at call depth 0.
/// `budget_insns` is ExecOptions' value (named in budget errors); `budget_left` what the run may
/// still execute. While it runs, ctx's callback and tail-call hooks are the JIT's (restored after).
/// `runs` > 1 repeats the run on the same state set-up (vm::ExecOptions::runs): each later run
/// starts from the first one's JitState and RunContext::begin_run(); the result is the last run's.
Result<NativeRunResult> run_native(const ProgramCode& code, vm::RunContext& ctx, std::span<const std::uint64_t> args,
                                   std::uint64_t entry, std::uint64_t budget_insns, std::uint64_t budget_left,
                                   std::uint32_t runs = 1);

class JitProgram;

/// Writes every JitState field for a run of `code` from `entry` with r1..r5 = args, r10 = stack_top,
/// budget_left instructions to go, thunks' state in `support` (run_native, HeldRun). Inline: on
/// every run's path.
inline void init_jit_state(JitState& state, const ProgramCode& code, vm::RunContext& ctx, RunSupport& support,
                           std::span<const std::uint64_t> args, std::uint64_t entry, std::uintptr_t stack_top,
                           std::uint64_t budget_left) {
  // JitState has no default member initialisers (a value-initialised one cost a `rep stos`, about a
  // third of a run_native call's time, issue #19): every field is written here, and the
  // static_assert stops the build when a field is added until this list sets it too.
  static_assert(sizeof(JitState) == 192, "init_jit_state must set every JitState field");
  state.budget_left = budget_left;
  state.stack_lo = stack_top - isa::kStackBytes;
  state.stack_size = isa::kStackBytes;
  state.read_lo = UINT64_MAX;
  state.read_size = 0;
  state.write_lo = UINT64_MAX;
  state.write_size = 0;
  state.saved_rsp = 0;
  state.ctx_stack = &ctx.stack;
  state.ctx = &ctx;
  state.pending_helper = nullptr;
  state.depth = 0;
  state.pc = 0;
  state.status = 0;
  state.depth_limit = isa::kMaxCallFrames - 1;
  for (std::size_t i = 0; i < 5; ++i) state.args[i] = i < args.size() ? args[i] : 0;
  state.frame_top = stack_top;
  state.r0 = 0;
  state.support = &support;
  state.code = &code;
  state.entry = entry;
  state.budget_total = support.budget_insns ? support.budget_insns : std::numeric_limits<std::uint64_t>::max();
}

/// Single runs of one JitProgram on one RunContext with what run_native sets up per call held
/// instead: the stack (kMaxRunFrames frames, cleared per run as run_native clears it), the
/// RunSupport and the RunContext's JIT hooks (installed by prepare(), restored by nested runs).
/// Each run() uses the code the variant runs now (kept, and looked up again when the optimizing
/// tier's becomes ready: a tier upgrade is picked up), writes every JitState field and enters the
/// trampoline: JitProgram::run's results and errors with runs = 1, without its Result layers
/// (issue #19, api's Runner). One run at a time; it does not move (ctx.engine points into it), and
/// ctx must not be given to another engine while it is prepared.
class HeldRun {
 public:
  HeldRun() = default;
  HeldRun(const HeldRun&) = delete;
  HeldRun& operator=(const HeldRun&) = delete;

  /// Sets up runs of `program` in `ctx` with `options` (budget, checked; runs and edge counters are
  /// not used): ctx's JIT hooks and its mode fields (checked, budget_insns). Call again after
  /// anything else set those (RunContext fields engine, invoke_callback, engine_tail_calls,
  /// checked, budget_insns).
  void prepare(const JitProgram& program, vm::RunContext& ctx, const vm::ExecOptions& options);
  /// One run with r1, r2 = args (at most two; r3..r5 = 0). False: it failed; take_error() says
  /// why. Inline (below): the per-event path, one call less.
  bool run(std::span<const std::uint64_t> args);
  std::uint64_t r0() const { return state_.r0; }
  /// As vm::ExecResult::insns_executed (0 for unbudgeted fast runs).
  std::uint64_t insns_executed() const { return counted_ ? state_.budget_total - state_.budget_left : 0; }
  Error take_error();

 private:
  const ProgramCode* current_code();  // looks code_ up (building the variant on first use); null = error
  void set_fixed_fields();            // the JitState fields no run changes (see run())

  const JitProgram* program_ = nullptr;
  // Flags lookup_ points at when no tier flag is watched: look the code up (code_ is null) or not.
  static constinit inline const std::atomic<bool> kLookUp{true};
  static constinit inline const std::atomic<bool> kKeep{false};

  const ProgramCode* code_ = nullptr;  // what runs use; null until the first run
  // True when run() must call current_code(): kLookUp until the first run, then the optimizing
  // tier's ready flag while code_ is the baseline's code (a tier upgrade is picked up), else kKeep.
  const std::atomic<bool>* lookup_ = &kLookUp;
  std::size_t clear_bytes_ = 0;  // code_'s cleared_stack_bytes, at most the stack's size
  vm::RunContext* ctx_ = nullptr;
  Variant variant_ = Variant::Fast;
  bool checked_ = false;
  bool counted_ = false;
  RunSupport support_;
  JitState state_{};
  alignas(16) std::uint8_t stack_[isa::kMaxRunFrames * isa::kStackBytes];
};

inline bool HeldRun::run(std::span<const std::uint64_t> args) {
  // One test for both reasons to look the code up: none yet, or the optimizing tier's turned ready.
  if (lookup_->load(std::memory_order_acquire)) [[unlikely]] {
    if (current_code() == nullptr) return false;
  }
  const ProgramCode* code = code_;
  // As JitProgram::run and run_native: the count at 0 (prepare() set the mode and budget visible to
  // helpers), the reachable frames zeroed where the variant needs it.
  vm::RunContext& ctx = *ctx_;
  ctx.begin_run();
  if (clear_bytes_ != 0) std::memset(stack_ + sizeof stack_ - clear_bytes_, 0, clear_bytes_);
  // The JitState fields a successful run may leave changed, as init_jit_state writes them (issue
  // #19: only these, per run). Generated code and the thunks (jit/runtime.cpp) write budget_left,
  // the frame mirror (stack_lo/size: local calls, the optimizing tier's Frames), the region cache
  // (read_/write_*: checked mode's, the only mode that reads it), depth_limit and code (a tail
  // call). A successful run leaves depth at 0 (calls return) and status at 0 (a thunk's failure
  // sets 1 and fails the run), and pc and pending_helper are written before each use; after a
  // failed run the Runner prepares again. prepare() and current_code() write those and the fields
  // no run changes (set_fixed_fields); the trampoline writes saved_rsp on entry and r0 on a
  // successful exit. A field added to JitState stops the build here until it is placed in one list.
  static_assert(sizeof(JitState) == 192, "HeldRun::run and set_fixed_fields must cover every JitState field");
  const auto stack_top = reinterpret_cast<std::uintptr_t>(stack_ + sizeof stack_);
  state_.budget_left = state_.budget_total;
  state_.stack_lo = stack_top - isa::kStackBytes;
  state_.stack_size = isa::kStackBytes;
  if (checked_) {
    state_.read_lo = UINT64_MAX;
    state_.read_size = 0;
    state_.write_lo = UINT64_MAX;
    state_.write_size = 0;
  }
  state_.depth_limit = isa::kMaxCallFrames - 1;
  state_.args[0] = args.size() > 0 ? args[0] : 0;
  state_.args[1] = args.size() > 1 ? args[1] : 0;
  state_.code = code;
  // ctx.stack's writable flag and name were set by prepare() (callbacks restore the whole region).
  ctx.stack.begin = state_.stack_lo;
  ctx.stack.size_bytes = isa::kStackBytes;
  return reinterpret_cast<JitEntry>(code->trampoline)(&state_) == 0;
}

}  // namespace bpfvm::jit
