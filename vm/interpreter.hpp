// Interpreter: runs a decoded program with a direct-threaded dispatch loop (computed goto).
#pragma once

#include <array>
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
  /// `helpers` must outlive the Interpreter (callx looks helpers up at run time).
  /// Fails when a call names a helper the registry lacks, or a pseudo lddw cannot be resolved.
  static Result<Interpreter> create(const Program& program, const HelperRegistry& helpers,
                                    const PseudoResolver& resolve = {});

  /// Runs with r1..r5 = args (missing ones are 0), r10 = top of a fresh 512-byte frame.
  Result<ExecResult> run(RunContext& ctx, std::span<const std::uint64_t> args,
                         const ExecOptions& options = {}) const;

  const Program& program() const { return *program_; }

  /// One threaded instruction: its handler's address and operands, prepared once.
  struct Slot {
    const void* handler = nullptr;
    std::uint64_t imm64 = 0;  // lddw value; for jumps and local calls the absolute target slot
    std::int32_t imm = 0;     // helper calls: index into helpers_
    std::int16_t off = 0;
    std::uint8_t dst = 0;
    std::uint8_t src = 0;
  };

 private:
  void thread(std::vector<Slot>& slots, const std::array<const void*, isa::kNumOps>& labels);

  std::shared_ptr<const Program> program_;
  const HelperRegistry* registry_ = nullptr;  // for callx by helper id; must outlive this
  std::vector<Slot> slots_;          // unchecked handlers
  std::vector<Slot> checked_slots_;  // checked-mode handlers
  std::vector<const HelperEntry*> helpers_;  // call sites' helpers, indexed by Slot::imm
};

}  // namespace bpfvm::vm
