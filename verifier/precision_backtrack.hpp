// Per-path precision marks, the kernel's mark_chain_precision: which scalars an insn's outcome
// depends on, and how such a need flows back through the path's history to its stored states.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "verifier/precision_marks.hpp"
#include "verifier/state.hpp"
#include "verifier/transfer.hpp"

namespace bpfvm::verifier {

/// A load or store at a constant offset of some frame's stack: the slot a fill reads or a spill
/// writes, so that backtracking can carry a mark between the slot and the register.
struct StackAccess {
  std::int8_t frame = -1;  // frame whose stack is accessed; -1: not a constant-offset stack access
  std::uint8_t slot = 0;   // StackSlots::slot_of(offset)
  bool one_slot = false;   // inside one 8-byte slot: a spill or fill (whole or narrow) may carry a register
};

/// The distinct marks of `HistoryEntry::linked`, each kept once: a path's history holds one entry per
/// insn it ran, and most jumps narrow the same few registers.
class LinkedMarksTable {
 public:
  /// The index naming m; 0 for no marks.
  std::uint32_t intern(const PreciseMarks& m);
  const PreciseMarks& operator[](std::uint32_t index) const { return marks_[index]; }
  std::size_t bytes() const {
    return marks_.capacity() * sizeof(PreciseMarks) + index_.size() * (sizeof(PreciseMarks) + 32) +
           index_.bucket_count() * sizeof(void*);
  }

 private:
  struct Hash {
    std::size_t operator()(const PreciseMarks& m) const;
  };
  std::vector<PreciseMarks> marks_{PreciseMarks{}};
  std::unordered_map<PreciseMarks, std::uint32_t, Hash> index_;
  std::uint32_t last_ = 0;  // the last index interned (jumps in a loop repeat it)
};

/// One insn a path executed, as backtracking needs it (16 bytes: a 1M-insn path keeps 1M of them).
struct HistoryEntry {
  std::uint32_t pc = 0;
  std::uint8_t depth = 0;     // frames when the insn ran
  bool in_callback = false;   // a frame was a bpf_loop callback: backtracking gives up there
  StackAccess stack{};        // loads and stores
  std::uint32_t linked = 0;   // conditional jump on scalars: its operands and every scalar linked to
                              // them (LinkedMarksTable index; 0: none)
};

/// What insn pc, about to run in state s, needs to be precise.
struct PrecisionNeeds {
  RegMask always = 0;          // current frame: scalars a check at pc depends on
  RegMask if_decided = 0;      // conditional jump on scalars: its operands, needed when one edge is infeasible
  PreciseMarks linked{};       // conditional jump on scalars: registers and spilled slots the comparison narrows
  StackAccess stack{};         // loads and stores: the stack slot accessed, if any
};

PrecisionNeeds precision_needs(const Env& env, const State& s, std::uint32_t pc);

bool in_callback(const State& s);

/// Turns `bt` (registers and slots precise after the last entry, whose successor ran with
/// `depth_after` frames) into those precise before the first entry. False when it cannot follow the
/// history (bpf_loop callbacks): the caller must then treat everything as precise. Stops as soon as
/// `bt` is empty; `walked` counts the entries it looked at.
bool backtrack(const vm::Program& program, std::span<const HistoryEntry> entries, const LinkedMarksTable& linked,
               std::uint8_t depth_after, PreciseMarks& bt, std::uint64_t& walked);

}  // namespace bpfvm::verifier
