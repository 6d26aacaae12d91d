// The contract between generated code and C++: the per-run JitState the code addresses through a
// base register, and the C++ functions ("thunks") the code calls for helpers, faults and callx.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "bpfvm/result.hpp"
#include "jit/native_code.hpp"
#include "vm/helper_registry.hpp"
#include "vm/program.hpp"
#include "vm/run_context.hpp"

namespace bpfvm::jit {

/// What thunks need to know about the program whose code is running: one per built variant of a
/// JitProgram, at a stable address. A tail call switches JitState::code to the target's; code after
/// a local call restores its own (an immediate), as the interpreter restores `prog` from its frame.
struct ProgramCode {
  const vm::Program* program = nullptr;
  const vm::HelperRegistry* registry = nullptr;   // callx by helper id
  std::vector<std::uint64_t> func_addresses;      // sorted native addresses lddw_func can produce
  std::uint64_t trampoline = 0;                   // native address of the entry trampoline (JitEntry)
  std::uint64_t entry = 0;                        // native address of pc 0
  Variant variant = Variant::Fast;                // a tail call continues in the same variant
  /// Bytes below the stack top run_native clears, so unwritten stack reads as zero as in the checked
  /// interpreter: checked and counted variants, and every variant of a program built with
  /// JitOptions::zero_stack. One frame when the program makes no local call and no tail call (no
  /// other frame is reachable), else every frame a run may use. Otherwise none.
  std::size_t cleared_stack_bytes = 0;
  bool zero_stack = false;  // JitOptions::zero_stack (a tail call into it clears the frames too)
};

/// What a run needs besides registers; the C++ side only. Thunks fill `error` and set status.
struct RunSupport {
  std::uint64_t budget_insns = 0;                  // as given in ExecOptions (for the message)
  std::optional<Error> error;
};

/// Per-run state, addressed by generated code at fixed offsets (hence standard layout). No default
/// member initialisers: run_native sets every field, and a value-initialised JitState cost a block
/// clear (`rep stos`) per call (issue #19). The values a run starts with are noted per field.
struct JitState {
  std::uint64_t budget_left;   // counting variants: instructions the run may still execute
  std::uint64_t stack_lo;      // mirror of ctx->stack: lowest byte of the live frames
  std::uint64_t stack_size;    //   and their size; checked mode's fast path tests against it
  // Checked mode's second inline test (x86-64): the RunContext region the last read / write passed
  // in jit_check_access (lo = UINT64_MAX: none, the start). Regions change only inside helpers, so
  // jit_call_helper forgets both; map memory (MemoryOwner) is never cached.
  std::uint64_t read_lo;
  std::uint64_t read_size;
  std::uint64_t write_lo;
  std::uint64_t write_size;
  std::uint64_t saved_rsp;     // host stack pointer of the entry trampoline (fault unwinding)
  vm::Region* ctx_stack;       // &ctx->stack, kept equal to the mirror on call and exit
  vm::RunContext* ctx;
  const vm::HelperEntry* pending_helper;  // the helper jit_call_helper invokes
  std::uint32_t depth;         // BPF-to-BPF nesting, 0 in the main program
  std::uint32_t pc;            // pc of the helper call in flight
  std::uint32_t status;        // 0 = running; 1 = a thunk stored an error in support->error
  // Deepest `depth` a local call may reach: kMaxCallFrames - 1 frames below the main program (the
  // start), and as many below the frame each tail call continued on (jit_take_tail_call), at most
  // kMaxRunFrames - 1.
  std::uint32_t depth_limit;
  std::uint64_t args[5];       // r1..r5 on entry
  std::uint64_t frame_top;     // r10 on entry
  std::uint64_t r0;            // r0 at the outermost exit
  RunSupport* support;
  const ProgramCode* code;     // the running program (tail calls switch it)
  std::uint64_t entry;         // what the trampoline calls: pc 0, or a callback's subprogram
  std::uint64_t budget_total;  // the run's budget (UINT64_MAX: none); minus budget_left = executed,
                               //   callbacks included (jit_call_helper syncs ctx->insns_executed)
};
static_assert(std::is_standard_layout_v<JitState>);

/// Entry point of generated code: returns 0 when the program exited, 1 when support->error is set.
using JitEntry = int (*)(JitState* state);

// Thunks. Generated code calls them through absolute addresses; none throws.

/// Calls state->pending_helper with r1..r5 like the interpreter; on a helper fault records it.
std::uint64_t jit_call_helper(std::uint64_t r1, std::uint64_t r2, std::uint64_t r3, std::uint64_t r4,
                              std::uint64_t r5, JitState* state) noexcept;
/// LD_ABS/LD_IND: calls state->pending_helper (the registry's packet-load entry) for the skb `ctx`
/// through jit_call_helper. Returns the entry's result: negative = outside the packet, and the
/// generated code then returns 0 from the current function.
std::uint64_t jit_packet_load(JitState* state, std::uint64_t ctx, std::uint64_t offset,
                              std::uint64_t size_bytes) noexcept;
/// Checked mode's slow path: `info` = pc << 32 | write << 8 | size. False = fault recorded.
bool jit_check_access(JitState* state, std::uint64_t addr, std::uint64_t info) noexcept;
/// The segment of `length` instructions starting at `start_pc` could not be paid for in full.
void jit_budget_exhausted(JitState* state, std::uint64_t start_pc, std::uint64_t length) noexcept;
/// A local call at pc would exceed isa::kMaxRunFrames.
void jit_call_depth(JitState* state, std::uint64_t pc) noexcept;
/// callx: returns the native address of a subprogram, or 0 with state->pending_helper set to the
/// helper the value names; records callx_target_error (status 1) when it is neither.
std::uint64_t jit_resolve_callx(JitState* state, std::uint64_t value, std::uint64_t pc) noexcept;
/// The optimizing tier's callx whose value is none of the program's subprograms (it compares them
/// inline): state->pending_helper and pc become the helper the value names as an id, or
/// callx_target_error is recorded (status 1).
void jit_callx_helper(JitState* state, std::uint64_t value, std::uint64_t pc) noexcept;

/// After a helper call that may have been bpf_tail_call: when the helper chose a target, switches
/// the run to it and returns the native address to jump to (its pc 0); otherwise 0. Records an
/// error (status 1) when the target cannot run on the JIT.
std::uint64_t jit_take_tail_call(JitState* state) noexcept;

/// Packs a checked access for jit_check_access.
constexpr std::uint64_t access_info(std::uint32_t pc, unsigned size_bytes, bool write) {
  return (std::uint64_t(pc) << 32) | (std::uint64_t(write) << 8) | size_bytes;
}

}  // namespace bpfvm::jit
