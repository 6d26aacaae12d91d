// One native run of built code: the per-run JitState and stack, and the RunContext hooks the JIT
// provides while it runs (tail calls, callbacks into the program).
#pragma once

#include <cstdint>
#include <span>

#include "bpfvm/result.hpp"
#include "jit/runtime.hpp"
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

}  // namespace bpfvm::jit
