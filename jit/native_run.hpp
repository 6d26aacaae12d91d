// One native run of built code: the per-run JitState and stack, and the RunContext hooks the JIT
// provides while it runs (tail calls, callbacks into the program); HeldRun keeps them set up for
// one-run-per-event hosts.
#pragma once

#include <cstdint>
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

/// Single runs of one JitProgram on one RunContext with what run_native sets up per call held
/// instead: the stack (kMaxRunFrames frames, cleared per run as run_native clears it), the
/// RunSupport and the RunContext's JIT hooks (installed by prepare(), restored by nested runs).
/// Each run() uses the code the variant runs now (kept, and looked up again when the optimizing
/// tier's becomes ready: a tier upgrade is picked up), writes every JitState field and enters the
/// trampoline: JitProgram::run's results and errors with runs = 1,
/// without its Result layers (issue #19, api's Runner). One run at a time; it does not move
/// (ctx.engine points into it), and ctx must not be given to another engine while it is prepared.
class HeldRun {
 public:
  HeldRun() = default;
  HeldRun(const HeldRun&) = delete;
  HeldRun& operator=(const HeldRun&) = delete;

  /// Sets up runs of `program` in `ctx` with `options` (budget, checked; runs and edge counters are
  /// not used). Call again after anything else reset ctx's hooks (RunContext fields engine,
  /// invoke_callback, engine_tail_calls).
  void prepare(const JitProgram& program, vm::RunContext& ctx, const vm::ExecOptions& options);
  /// One run with r1..r5 = args. False: it failed; take_error() says why.
  bool run(std::span<const std::uint64_t> args);
  std::uint64_t r0() const { return state_.r0; }
  /// As vm::ExecResult::insns_executed (0 for unbudgeted fast runs).
  std::uint64_t insns_executed() const { return counted_ ? state_.budget_total - state_.budget_left : 0; }
  Error take_error();

 private:
  const ProgramCode* current_code();  // looks code_ up (building the variant on first use); null = error

  const JitProgram* program_ = nullptr;
  const ProgramCode* code_ = nullptr;          // what runs use; null until the first run
  const std::atomic<bool>* upgrade_ = nullptr;  // while code_ is the baseline's fast code: the tier's flag
  vm::RunContext* ctx_ = nullptr;
  Variant variant_ = Variant::Fast;
  bool checked_ = false;
  bool counted_ = false;
  RunSupport support_;
  JitState state_{};
  alignas(16) std::uint8_t stack_[isa::kMaxRunFrames * isa::kStackBytes];
};

}  // namespace bpfvm::jit
