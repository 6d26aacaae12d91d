// Loop depths: one backward walk per loop head, from the sources of its back edges up to the head.
#include "jit/opt/loop_depth.hpp"

namespace bpfvm::jit::opt {

std::vector<std::uint32_t> loop_depths(const Function& fn, std::span<const BlockId> order) {
  const auto nb = fn.blocks.size();
  constexpr auto kUnplaced = UINT32_MAX;
  std::vector<std::uint32_t> index(nb, kUnplaced), depth(nb, 0), stamp(nb, kUnplaced);
  for (std::uint32_t i = 0; i < order.size(); ++i) index[order[i]] = i;
  std::vector<BlockId> work;
  for (auto h : order) {
    // The loop headed by h (if any edge comes back to it): h, and every block reaching a back
    // edge's source without passing h. Several back edges to one head make one loop.
    for (auto p : fn.blocks[h].preds)
      if (index[p] != kUnplaced && index[p] >= index[h]) work.push_back(p);
    if (work.empty()) continue;
    stamp[h] = h;
    ++depth[h];
    while (!work.empty()) {
      const BlockId b = work.back();
      work.pop_back();
      if (stamp[b] == h) continue;
      stamp[b] = h;
      ++depth[b];
      for (auto q : fn.blocks[b].preds) work.push_back(q);
    }
  }
  return depth;
}

}  // namespace bpfvm::jit::opt
