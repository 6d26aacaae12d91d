// Loop nesting depth per block, from the back edges of a block order (target independent; the
// register allocator weighs spill costs with it), and the placement of loop exits out of loop bodies.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "jit/opt/ir.hpp"

namespace bpfvm::jit::opt {

/// Per block, how many natural loops contain it. A back edge is an edge p -> h with h at or before
/// p in `order` (every block of the function, as the allocator places them); its loop is h and the
/// blocks that reach p without passing h. Blocks not in `order` get depth 0.
std::vector<std::uint32_t> loop_depths(const Function& fn, std::span<const BlockId> order);

/// Per block, the estimated share of its loop's iterations (of the function's run outside loops)
/// that run it, in (0, 1]: without a profile each branch splits its block's share evenly between its
/// successors, joins add their forward predecessors' shares (capped at 1), a loop head has a whole
/// share (the bounds checks before spill_pressure's loop must not make its body look rare), and so
/// has the target of an edge leaving a loop. A switch's arms get 1/arms, its common tail 1 again.
/// `depths` from loop_depths over the same order.
std::vector<double> branch_shares(const Function& fn, std::span<const BlockId> order,
                                  std::span<const std::uint32_t> depths);

/// Moves, in `order` (the allocator's block order), each block that lies between a loop's head and
/// its last back edge's source but is not in that loop — an exit the lowering placed inline (a
/// search's match arm, an early return) — to just after that last source, so the loop's common path
/// falls through instead of jumping over the exit at every iteration (binary_search: `cmp; jne`
/// around the match arm at the loop top). Inner loops first. A move that would turn a forward edge
/// into a backward one or the reverse is not made: the back edges, so loop_depths and the loop heads
/// backends align, stay as they were. Returns how many blocks moved.
std::uint32_t place_exits_after_loops(const Function& fn, std::vector<BlockId>& order);

}  // namespace bpfvm::jit::opt
