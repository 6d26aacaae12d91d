// Per-path precision marks, the kernel's mark_chain_precision: which scalars an insn's outcome
// depends on, and how such a need flows back through the path's history to its stored states.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "verifier/state.hpp"
#include "verifier/transfer.hpp"

namespace bpfvm::verifier {

/// One register mask per call frame (index = frame number, 0 = the main program's).
using FrameRegMasks = std::array<RegMask, isa::kMaxCallFrames>;

/// One insn a path executed, as backtracking needs it.
struct HistoryEntry {
  std::uint32_t pc = 0;
  std::uint8_t depth = 0;     // frames when the insn ran
  bool in_callback = false;   // a frame was a bpf_loop callback: backtracking gives up there
  FrameRegMasks linked{};     // conditional jump on scalars: its operands and every scalar linked to them
};

/// What insn pc, about to run in state s, needs to be precise.
struct PrecisionNeeds {
  RegMask always = 0;          // current frame: scalars a check at pc depends on
  RegMask if_decided = 0;      // conditional jump on scalars: its operands, needed when one edge is infeasible
  FrameRegMasks linked{};      // conditional jump on scalars: registers the comparison narrows
  bool linked_spilled = false; // ... and a spilled copy is narrowed too: `linked` is needed now
};

PrecisionNeeds precision_needs(const Env& env, const State& s, std::uint32_t pc);

bool in_callback(const State& s);

/// Turns `bt` (registers precise after the last entry, whose successor ran with `depth_after`
/// frames) into the registers precise before the first entry. False when it cannot follow the
/// history (bpf_loop callbacks): the caller must then treat every register as precise.
bool backtrack(const vm::Program& program, std::span<const HistoryEntry> entries, std::uint8_t depth_after,
               FrameRegMasks& bt);

}  // namespace bpfvm::verifier
