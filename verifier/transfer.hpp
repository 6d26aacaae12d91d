// Transfer functions, one file per instruction form: (State, insn) -> State, or a Violation.
// Control-flow forms also name the successors the explorer must visit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "verifier/cfg.hpp"
#include "verifier/checks.hpp"
#include "verifier/state.hpp"
#include "verifier/verifier.hpp"
#include "vm/program.hpp"
#include "vm/stack_range.hpp"

namespace bpfvm::verifier {

/// Warning kinds reported but not fatal.
enum class WarningKind : std::uint8_t { ShiftOutOfRange };

struct WarningFact {
  std::uint32_t pc;
  WarningKind kind;
  std::int64_t value;
};

/// Facts fixed for one verify() call, plus the id counter and collected warnings.
struct Env {
  const vm::Program& program;
  const VerifierOptions& options;
  const Cfg& cfg;
  std::uint32_t next_id = 1;
  std::vector<WarningFact> warnings;
  const GlobalFunc* root = nullptr;           // the global function being verified on its own, or null (main)
  std::vector<std::uint32_t> globals_called;  // first insns of global functions some path called
  std::vector<std::int8_t> tail_calls_memo;   // per function start: -1 unknown, 0/1 may it tail-call
  std::vector<std::uint32_t> fn_stack_bytes;  // per function start: deepest stack byte any path used
  std::vector<std::uint8_t> access_base;      // per memory insn: kAccessCtx / kAccessOther once reached
  std::vector<vm::StackRange> stack_ranges;   // per insn: the stack bytes it may touch on the paths so far
  bool reads_uninit_stack = false;            // some path read stack bytes no store wrote (privileged)
  std::uint32_t tp_buffer_bytes = 0;          // furthest tracepoint buffer byte an access reaches
  std::uint32_t ctx_bytes_reached = 0;        // furthest context byte an access reaches (max_ctx_offset)
  /// Per load insn: the constant a load through a map pointer reads there (map_ptr_access), or
  /// kMapLoadUnseen / kMapLoadOther (a load through another pointer).
  std::vector<std::int64_t> map_ptr_loads;

  std::vector<std::pair<std::uint32_t, std::uint32_t>> ref_sites;  // (reference id, acquiring insn), ids rising

  std::uint32_t new_id() { return next_id++; }
  /// Reference `id` (the newest id) was acquired at `pc`: the kernel's alloc_insn, for the leak message.
  void note_ref(std::uint32_t id, std::uint32_t pc) { ref_sites.emplace_back(id, pc); }
  std::uint32_t ref_site(std::uint32_t id) const {
    const auto it = std::lower_bound(ref_sites.begin(), ref_sites.end(), std::pair<std::uint32_t, std::uint32_t>{id, 0});
    return it != ref_sites.end() && it->first == id ? it->second : 0;
  }
};

/// Env::map_ptr_loads values besides a constant read through a map pointer.
inline constexpr std::int64_t kMapLoadUnseen = -1, kMapLoadOther = -2;

/// Env::access_base values: what the base register of a load/store/atomic was on the paths so far.
inline constexpr std::uint8_t kAccessUnseen = 0, kAccessCtx = 1, kAccessOther = 2;

/// A state the explorer must visit later, starting at pc.
struct Fork {
  State state;
  std::uint32_t pc;
};

/// Where control goes after a control-flow instruction. The current state continues at
/// `next_pc` unless `ends`; `forks` are extra paths.
struct Successors {
  bool ends = false;
  std::uint32_t next_pc = 0;
  std::vector<Fork> forks;
};

/// Scalar result of ALU op `kind` at `width` (32 or 64) bits — the abstract twin of vm/alu_semantics.
ScalarDomain scalar_alu(isa::Kind kind, int width, const ScalarDomain& a, const ScalarDomain& b);

/// The values of (a, b) for which comparison `kind` at `width` bits is `taken` (or not); a bottom
/// member means that edge is infeasible.
std::pair<ScalarDomain, ScalarDomain> refine_branch(isa::Kind kind, int width, bool taken, const ScalarDomain& a,
                                                    const ScalarDomain& b);

Check transfer_alu(Env& env, State& s, std::uint32_t pc);
/// Joins into env.stack_ranges[pc] the stack bytes insn pc may touch in state s (before it runs):
/// a load's, store's or atomic's through a stack pointer; Unknown for a call given a stack pointer.
void note_stack_range(Env& env, const State& s, std::uint32_t pc);
Check transfer_memory(Env& env, State& s, std::uint32_t pc);  // Load, LoadSx, Store, StoreReg, Atomic, WideImm
Check transfer_jump(Env& env, State& s, std::uint32_t pc, Successors& out);  // Jump, Ja, Ja32
Check transfer_call(Env& env, State& s, std::uint32_t pc, Successors& out);  // Call, CallLocal, CallReg
Check transfer_exit(Env& env, State& s, std::uint32_t pc, Successors& out);
/// CallKfunc (transfer_kfunc.cpp): the kfunc the program names, checked against its KfuncSignature.
Check call_kfunc(Env& env, State& s, std::uint32_t pc, Successors& out);
/// dynptr_get_spi (transfer_kfunc.cpp): a stack dynptr argument sits at a constant, 8-aligned offset with
/// its 16 bytes inside the frame (d gets the offset).
Check check_dynptr_slot(std::uint32_t pc, const RegValue& v, ViolationDetail& d);
/// r1-r5 unreadable after a call.
void clobber_caller_saved_regs(State& s);
Check transfer_packet_load(Env& env, State& s, std::uint32_t pc, Successors& out);  // PacketLoad (LD_ABS/LD_IND)

/// Helpers that may move packet data (the kernel's bpf_helper_changes_pkt_data): packet pointers die.
bool helper_changes_packet_data(std::uint32_t helper_id);
/// Turn every packet pointer in every frame into an unknown scalar.
void invalidate_packet_pointers(State& s);

}  // namespace bpfvm::verifier
