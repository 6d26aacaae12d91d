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
#include "vm/tail_call_target.hpp"

namespace bpfvm::vm {

struct ExecOptions {
  std::uint64_t budget_insns = 0;  ///< 0 = unlimited; otherwise the run stops after this many
  bool checked = false;            ///< check every load/store against the run's regions
  /// Coverage mode (needs an Interpreter created with InterpreterOptions::coverage): each conditional
  /// jump of this program at pc adds 1 to edge_counters[2 * pc + taken] (taken = 1 when it jumps).
  /// Holds 2 * program().size() counters; the caller clears them. Coverage runs are always checked.
  /// Jumps of tail-called programs are not counted.
  std::uint32_t* edge_counters = nullptr;
  /// Runs back to back on the same RunContext and arguments, as BPF_PROG_TEST_RUN's repeat loop: each
  /// run starts afresh (budget, instruction and tail-call counts; RunContext::begin_run) while memory
  /// a run wrote stays written. The result is the last run's; a failing run ends the loop. 0 = 1.
  std::uint32_t runs = 1;
};

struct InterpreterOptions {
  /// Also prepare the coverage-mode dispatch (ExecOptions::edge_counters): one more copy of the slots.
  bool coverage = false;
  /// Zero the run's stack at every run start (and the frame a tail call enters): for a program the
  /// verifier let read unwritten stack (VerifiedProgram::reads_uninit_stack), so no run sees an
  /// earlier run's bytes. Off: the stack is left as it is (no per-run cost).
  bool zero_stack = false;
};

struct ExecResult {
  std::uint64_t r0 = 0;
  std::uint64_t insns_executed = 0;
};

/// A program prepared for interpretation: helpers resolved, pseudo loads linked, dispatch threaded.
/// Immutable after create(), so one Interpreter may run on many threads at once (each run needs its
/// own RunContext). Tail calls: bpf_tail_call stores the slot's `const TailCallTarget*`
/// (vm/tail_call_target.hpp) in RunContext::tail_call_target; the run continues in its `interpreter`
/// on the same frame.
class Interpreter {
 public:
  /// One threaded instruction: its handler's address and operands, prepared once.
  struct Slot {
    const void* handler = nullptr;
    std::uint64_t imm64 = 0;  // lddw value; for jumps and local calls the absolute target slot
    std::int32_t imm = 0;     // helper calls: index into helpers_
    std::int16_t off = 0;
    std::uint8_t dst = 0;
    std::uint8_t src = 0;
  };

  /// `helpers` must outlive the Interpreter (callx looks helpers up at run time).
  /// Fails when a call names a helper the registry lacks, or a pseudo lddw cannot be resolved.
  static Result<Interpreter> create(const Program& program, const HelperRegistry& helpers,
                                    const PseudoResolver& resolve = {}, const InterpreterOptions& options = {});

  /// Runs with r1..r5 = args (missing ones are 0), r10 = top of a fresh 512-byte frame.
  Result<ExecResult> run(RunContext& ctx, std::span<const std::uint64_t> args,
                         const ExecOptions& options = {}) const;

  /// Runs the subprogram at `fn_value` (a BPF_PSEUDO_FUNC value this program produced in the run's
  /// mode) with r1..r5 = args on a fresh frame, within the run's budget. Helpers reach it through
  /// RunContext::call_back (bpf_loop, bpf_for_each_map_elem).
  Result<std::uint64_t> call_function(RunContext& ctx, std::uint64_t fn_value,
                                      std::span<const std::uint64_t, 5> args) const;

  /// The dispatch a run uses: unchecked, checked, or checked with edge counting.
  enum class Mode : std::uint8_t { Unchecked, Checked, Coverage };

  const Program& program() const { return *program_; }
  const std::vector<Slot>& slots(bool checked) const { return checked ? checked_slots_ : slots_; }
  const std::vector<Slot>& slots(Mode mode) const {
    return mode == Mode::Coverage ? coverage_slots_ : slots(mode == Mode::Checked);
  }
  bool has_coverage() const { return !coverage_slots_.empty(); }
  const HelperEntry* helper_at(std::size_t i) const { return helpers_[i]; }
  /// The registry's packet-load entry when the program has LD_ABS/LD_IND, else nullptr.
  const HelperEntry* packet_load() const { return packet_load_; }
  const HelperRegistry& registry() const { return *registry_; }
  /// InterpreterOptions::zero_stack as created.
  bool zero_stack() const { return zero_stack_; }


 private:
  Result<ExecResult> run_in(Mode mode, RunContext& ctx, std::span<const std::uint64_t> args,
                            std::uint64_t budget_insns, std::uint32_t runs) const;
  static Result<std::uint64_t> callback_entry(const void* engine, RunContext& ctx, std::uint64_t fn_value,
                                              std::span<const std::uint64_t, 5> args);
  // RunContext::keep_callback and the KeptCallback::call it hands out (bpf_timer callbacks).
  static KeptCallback keep_callback_entry(const void* engine, std::uint64_t fn_value);
  static Result<std::uint64_t> run_kept_callback(const void* code, RunContext& ctx, std::uint64_t fn_value,
                                                 std::span<const std::uint64_t, 5> args);
  // The engine hooks a run of this interpreter installs on its context (callbacks, kept callbacks,
  // tail calls), and their removal after it.
  void install_hooks(RunContext& ctx) const;
  static void remove_hooks(RunContext& ctx);
  void thread(std::vector<Slot>& slots, const std::array<const void*, isa::kNumOps>& labels);

  std::shared_ptr<const Program> program_;
  bool zero_stack_ = false;  // InterpreterOptions::zero_stack
  const HelperRegistry* registry_ = nullptr;  // for callx by helper id; must outlive this
  std::vector<Slot> slots_;          // unchecked handlers
  std::vector<Slot> checked_slots_;  // checked-mode handlers
  std::vector<Slot> coverage_slots_; // coverage-mode handlers; empty unless created with coverage
  std::vector<const HelperEntry*> helpers_;  // call sites' helpers, indexed by Slot::imm
  const HelperEntry* packet_load_ = nullptr;  // LD_ABS/LD_IND (HelperRegistry::packet_load)
};

}  // namespace bpfvm::vm
