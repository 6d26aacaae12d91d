// Loop nesting depth per block, from the back edges of a block order (target independent; the
// register allocator weighs spill costs with it).
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

}  // namespace bpfvm::jit::opt
