// JitProgram: a program compiled to native code, with the Interpreter's run() contract.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "bpfvm/result.hpp"
#include "jit/native_code.hpp"
#include "jit/opt/passes.hpp"
#include "vm/helper_registry.hpp"
#include "vm/interpreter.hpp"
#include "vm/program.hpp"
#include "vm/pseudo_resolver.hpp"
#include "vm/run_context.hpp"

namespace bpfvm::jit {

struct ProgramCode;  // jit/runtime.hpp

struct JitOptions {
  /// Build the checked variant up front (bounds checks + exact budget). Otherwise the fast one.
  /// Either way run() builds the variant its ExecOptions need on first use (see Variant).
  bool checked = false;
  /// XOR every immediate with a fresh random key, so no program constant appears in code pages.
  bool blind_constants = false;
  /// Emit only baseline instructions (x86-64: no BMI2 shlx/shrx/sarx) even where the CPU has more.
  /// The results are the same; tests use it to cover the baseline code paths on any host.
  bool baseline_isa_only = false;
  /// Symbol name for perf and gdb.
  std::string name = "bpf_prog";
  /// Append "START SIZE name" lines to /tmp/perf-PID.map and register each variant with the GDB
  /// JIT interface (an in-memory ELF with one function symbol).
  bool register_with_debuggers = false;
  /// Tiering: build the variant runs will use (checked when `checked`, counted when `counted`, else
  /// fast) with the optimizing tier (jit/opt/) at compile time, where it supports the program;
  /// otherwise the baseline. Off: baseline at once, optimize() on request. tier() tells which one runs.
  bool optimize = false;
  /// With `optimize`: runs will have an instruction budget (Variant::Counted), so that variant is
  /// the one optimized at compile time.
  bool counted = false;
  /// The optimizing tier's passes (benches switch them one by one).
  opt::PassSet passes;
  /// What the verifier proved about the program (the API sets it for verified programs); the
  /// optimizing tier's passes use it where it lets them do more. Default: nothing proved.
  opt::VerifierFacts facts;
  /// As vm::InterpreterOptions::zero_stack: every run (and a tail call entering this program) starts
  /// on a zeroed stack, for programs the verifier let read unwritten stack.
  bool zero_stack = false;
};

/// Which compiler built the code a run uses.
enum class Tier : std::uint8_t { Baseline, Optimized };

/// Which variant run() uses for these options: Checked when checked, Counted when only a budget
/// is set, Fast otherwise. Fast runs report insns_executed = 0 (they do not count).
/// Inline: every run asks (issue #19, per-call cost).
inline Variant variant_for(const vm::ExecOptions& options) {
  if (options.checked) return Variant::Checked;
  return options.budget_insns != 0 ? Variant::Counted : Variant::Fast;
}

class JitProgram {
 public:
  /// Prepares (helpers, pseudo loads) exactly as Interpreter::create and compiles one variant.
  /// `helpers` must outlive the JitProgram (callx looks helpers up at run time).
  /// Tail calls: bpf_tail_call's target is a vm::TailCallTarget whose `jit` is a JitProgram of the
  /// same helpers; the run jumps to its code (built in the running variant on first use).
  /// Callbacks (bpf_loop, bpf_for_each_map_elem) run the subprogram's code as a nested native run.
  static Result<JitProgram> compile(const vm::Program& program, const vm::HelperRegistry& helpers,
                                    const vm::PseudoResolver& resolve = {}, const JitOptions& options = {});
  /// A temporary registry would die before the JitProgram that keeps it (and a later optimize() or
  /// listing() reads it): refused at compile time.
  static Result<JitProgram> compile(const vm::Program&, vm::HelperRegistry&&, const vm::PseudoResolver& = {},
                                    const JitOptions& = {}) = delete;

  /// Same contract as Interpreter::run: r1..r5 = args, r10 = top of a fresh 512-byte frame,
  /// identical results and identical errors (checked mode, budget, call depth, helper faults).
  Result<vm::ExecResult> run(vm::RunContext& ctx, std::span<const std::uint64_t> args,
                             const vm::ExecOptions& options = {}) const;

  /// Tiering on request: builds the optimizing tier's code of `variant`; once built, every later
  /// run of that variant (in any thread) uses it. Thread-safe; the baseline code stays valid for runs
  /// in flight. Unsupported (one line naming the reason) when the tier does not handle the program
  /// or variant: runs keep using the baseline.
  Result<void> optimize(Variant variant = Variant::Fast) const;
  /// The tier runs with `variant` use now.
  Tier tier(Variant variant) const;

  /// Builds (if needed) a variant; run() does this lazily and thread-safely.
  Result<void> prepare(Variant variant) const;
  /// The code a run with `variant` uses now (the optimizing tier's once ready, as tier() says), or
  /// nullptr while it is not built yet. Two atomic loads: every run asks (JitProgram::run, HeldRun).
  const ProgramCode* ready_code(Variant variant) const noexcept;
  /// Turns true (once, never back) when runs of `variant` switch to the optimizing tier's code: a
  /// holder of code_for(variant)'s baseline code watches it to pick the upgrade up (HeldRun).
  const std::atomic<bool>& optimized_ready(Variant variant) const noexcept;
  /// Builds (if needed) a variant and returns what the run-time thunks know of it.
  Result<const ProgramCode*> code_for(Variant variant) const;
  /// The baseline tier's code of a variant, whichever tier runs: a tail call enters the target at
  /// its pc 0 with the caller's registers in the baseline's mapping, which only that code accepts.
  Result<const ProgramCode*> baseline_code_for(Variant variant) const;
  /// Annotated native listing (disassemble_native's format) of the code runs with `variant` use now:
  /// the optimizing tier's when tier(variant) is Optimized. Its first line names the tier.
  Result<std::string> listing(Variant variant) const;
  /// Native code of a built variant (empty span if not built).
  std::span<const std::uint8_t> code(Variant variant) const;
  /// Offset of pc's first native instruction in a built variant's code.
  std::uint32_t native_offset(Variant variant, std::uint32_t pc) const;

  const vm::Program& program() const;

  struct Impl;  // opaque; defined in jit_program.cpp

  JitProgram(JitProgram&&) noexcept;
  JitProgram& operator=(JitProgram&&) noexcept;
  ~JitProgram();

 private:
  JitProgram();
  std::unique_ptr<Impl> impl_;
};

/// Annotated native listing of one variant: a first line "tier: optimized|baseline (...)", then
/// asmjit's text with each eBPF instruction's boundary marked "; pc N: <instruction>", machine-code
/// bytes and offsets in hex. With options.optimize, the fast variant's listing is the optimizing
/// tier's (block and value annotations), or the baseline's with the tier's reason for refusing.
Result<std::string> disassemble_native(const vm::Program& program, const vm::HelperRegistry& helpers,
                                       const vm::PseudoResolver& resolve = {}, const JitOptions& options = {},
                                       Variant variant = Variant::Fast);

}  // namespace bpfvm::jit
