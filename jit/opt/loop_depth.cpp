// Loop depths (one backward walk per loop head, from the sources of its back edges up to the head)
// and the static branch shares the allocator weighs uses with.
#include "jit/opt/loop_depth.hpp"

#include <algorithm>

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

std::vector<double> branch_shares(const Function& fn, std::span<const BlockId> order,
                                  std::span<const std::uint32_t> depths) {
  const auto nb = fn.blocks.size();
  constexpr auto kUnplaced = UINT32_MAX;
  std::vector<std::uint32_t> index(nb, kUnplaced);
  for (std::uint32_t i = 0; i < order.size(); ++i) index[order[i]] = i;
  std::vector<double> share(nb, 1.0);
  for (auto b : order) {
    double sum = 0;
    bool forward = false, loop_head = false;
    for (auto p : fn.blocks[b].preds) {
      if (index[p] != kUnplaced && index[p] >= index[b]) loop_head = true;
      if (index[p] == kUnplaced || index[p] >= index[b]) continue;  // back edges: the loop's own runs
      forward = true;
      const auto succs = std::max<std::size_t>(fn.blocks[p].succs.size(), 1);
      sum += depths[p] > depths[b] ? 1.0 : share[p] / static_cast<double>(succs);
    }
    share[b] = forward && !loop_head ? std::min(1.0, sum) : 1.0;
  }
  return share;
}

}  // namespace bpfvm::jit::opt
