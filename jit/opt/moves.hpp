// The target-independent half of emitting an allocated function: where a value lives, the moves at
// a block boundary (phi resolution) and where each block goes. Each backend emits the moves this
// orders, with its own instructions for register, slot and immediate operands.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "jit/opt/ir.hpp"
#include "jit/opt/regalloc.hpp"

namespace bpfvm::jit::opt {

/// A value's place for a move: a host register, a spill slot, an immediate, or (Frame, v = depth) the
/// address of an inlined frame, which the backend computes from its stack pointer (never a destination).
struct Loc {
  enum class Kind : std::uint8_t { Reg, Slot, Imm, Frame } kind = Kind::Imm;
  std::int64_t v = 0;
  bool operator==(const Loc& o) const { return kind == o.kind && v == o.v; }
};

/// dst <- src.
struct Move {
  Loc dst, src;
};

/// Where v is: its constant, its frame (FramePtr), its register or its slot.
Loc location(const Function& fn, const Allocation& al, ValueId v);

/// The moves into `to`'s live phis along the edge from -> to, all meant to happen at once.
std::vector<Move> phi_moves(const Function& fn, const Allocation& al, BlockId from, BlockId to);

/// Orders moves that happen at once (every source read before its register or slot is written) into
/// moves a backend emits one after the other; a cycle is broken by parking one destination's value
/// in the register `scratch`, which no move may name.
std::vector<Move> sequentialize(std::vector<Move> moves, std::uint32_t scratch);

/// A block in emission order: whether a later block jumps back to it (a loop head, which backends
/// align), and the block emitted right after it (the fallthrough successor), or -1 after the last.
struct PlacedBlock {
  BlockId id;
  bool loop_head;
  std::int64_t next;
};
std::vector<PlacedBlock> placed_blocks(const Function& fn, const Allocation& al);

/// A loop latch `b` ending in a two-way branch, one arm an edge block back to a loop head whose phi
/// moves only write registers that neither the branch's compare reads nor the other successor needs
/// on entry: that edge block, whose moves a backend may emit in `b` before the compare (they are
/// then wasted on the exit path, harmless), so the latch ends in one conditional branch back.
/// -1 when there is none. forwarding_targets forwards such an edge block: a backend binding labels by
/// forwarding_targets must emit these moves.
std::int64_t hoisted_latch_edge(const Function& fn, const Allocation& al, BlockId b);

/// Per block, the block whose code it starts: itself, or — for a block that would emit nothing but a
/// jump (an empty block, or an edge block whose phi moves all find their values in place) — the block
/// its jump chain ends at, so a backend binds its label there and emits no code for it (also an edge
/// block whose moves hoisted_latch_edge lets its predecessor emit). A cycle of such
/// blocks keeps its blocks (and their jumps); block 0 always keeps its own code.
std::vector<BlockId> forwarding_targets(const Function& fn, const Allocation& al);

/// placed_blocks with forwarding_targets applied: the blocks that emit code, in order, each with the
/// blocks whose labels bind at its start (they emit nothing) and the next block that emits code
/// (its fallthrough successor, -1 after the last); `alias` is forwarding_targets' answer.
struct EmittedBlock {
  BlockId id;
  bool loop_head;
  std::int64_t next;
  std::vector<BlockId> forwarded;
};
struct EmissionPlan {
  std::vector<BlockId> alias;
  std::vector<EmittedBlock> blocks;
};
EmissionPlan emission_plan(const Function& fn, const Allocation& al);

}  // namespace bpfvm::jit::opt
