// Interpreter: runs a decoded program with a direct-threaded dispatch loop (computed goto).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "bpfvm/result.hpp"
#include "vm/helper_registry.hpp"
#include "vm/program.hpp"
#include "vm/pseudo_resolver.hpp"
#include "vm/run_context.hpp"

namespace bpfvm::vm {

struct ExecOptions {
  std::uint64_t budget_insns = 0;  ///< 0 = unlimited; otherwise the run stops after this many
  bool checked = false;            ///< check every load/store against the run's regions
};

struct ExecResult {
  std::uint64_t r0 = 0;
  std::uint64_t insns_executed = 0;
};

/// A program prepared for interpretation: helpers resolved, pseudo loads linked, dispatch threaded.
/// Immutable after create(), so one Interpreter may run on many threads at once (each run needs its
/// own RunContext).
class Interpreter {
 public:
  /// Fails when a call names a helper the registry lacks, or a pseudo lddw cannot be resolved.
  static Result<Interpreter> create(const Program& program, const HelperRegistry& helpers,
                                    const PseudoResolver& resolve = {});

  /// Runs with r1..r5 = args (missing ones are 0), r10 = top of a fresh 512-byte frame.
  Result<ExecResult> run(RunContext& ctx, std::span<const std::uint64_t> args,
                         const ExecOptions& options = {}) const;

  const Program& program() const { return *program_; }

  struct Slot;  // one threaded instruction (interpreter.cpp)

 private:
  std::shared_ptr<const Program> program_;
  std::vector<Slot> slots_;
  std::vector<const HelperEntry*> helpers_;  // call sites' helpers, indexed by Slot::imm
};

}  // namespace bpfvm::vm
