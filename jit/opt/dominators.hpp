// Reverse post-order and immediate dominators of a Function's blocks (cse.cpp walks the dominator
// tree; loop_unroll.cpp asks which loop exit dominates a use of a loop's value).
#pragma once

#include <vector>

#include "jit/opt/ir.hpp"

namespace bpfvm::jit::opt {

/// Blocks reachable from the entry in reverse post-order.
std::vector<BlockId> reverse_post_order(const Function& fn);

/// Immediate dominators (Cooper, Harvey, Kennedy: "A Simple, Fast Dominance Algorithm"), by block;
/// the entry's is itself, unreachable blocks' UINT32_MAX.
std::vector<BlockId> immediate_dominators(const Function& fn, const std::vector<BlockId>& rpo);

}  // namespace bpfvm::jit::opt
