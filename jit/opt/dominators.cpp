// Reverse post-order and immediate dominators (dominators.hpp).
#include "jit/opt/dominators.hpp"

#include <algorithm>
#include <utility>

namespace bpfvm::jit::opt {

std::vector<BlockId> reverse_post_order(const Function& fn) {
  std::vector<BlockId> post;
  std::vector<bool> seen(fn.blocks.size(), false);
  std::vector<std::pair<BlockId, std::size_t>> stack{{0, 0}};
  seen[0] = true;
  while (!stack.empty()) {
    auto& [b, k] = stack.back();
    if (k < fn.blocks[b].succs.size()) {
      const BlockId s = fn.blocks[b].succs[k++];
      if (!seen[s]) {
        seen[s] = true;
        stack.push_back({s, 0});
      }
      continue;
    }
    post.push_back(b);
    stack.pop_back();
  }
  std::reverse(post.begin(), post.end());
  return post;
}

std::vector<BlockId> immediate_dominators(const Function& fn, const std::vector<BlockId>& rpo) {
  constexpr BlockId kNone = UINT32_MAX;
  std::vector<std::uint32_t> index(fn.blocks.size(), kNone);
  for (std::uint32_t i = 0; i < rpo.size(); ++i) index[rpo[i]] = i;
  std::vector<BlockId> idom(fn.blocks.size(), kNone);
  idom[0] = 0;
  auto intersect = [&](BlockId a, BlockId b) {
    while (a != b) {
      while (index[a] > index[b]) a = idom[a];
      while (index[b] > index[a]) b = idom[b];
    }
    return a;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 1; i < rpo.size(); ++i) {
      const BlockId b = rpo[i];
      BlockId d = kNone;
      for (auto p : fn.blocks[b].preds)
        if (index[p] != kNone && idom[p] != kNone) d = d == kNone ? p : intersect(p, d);
      if (d != idom[b]) {
        idom[b] = d;
        changed = true;
      }
    }
  }
  return idom;
}

}  // namespace bpfvm::jit::opt
