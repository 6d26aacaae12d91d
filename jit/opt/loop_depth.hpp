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

}  // namespace bpfvm::jit::opt
