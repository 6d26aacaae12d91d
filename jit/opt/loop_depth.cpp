// Loop depths (one backward walk per loop head, from the sources of its back edges up to the head),
// the static branch shares the allocator weighs uses with, and moving loop exits out of loop bodies.
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

std::uint32_t place_exits_after_loops(const Function& fn, std::vector<BlockId>& order) {
  const auto nb = fn.blocks.size();
  constexpr auto kUnplaced = UINT32_MAX;
  std::vector<std::uint32_t> index(nb, kUnplaced);
  auto reindex = [&] {
    for (std::uint32_t i = 0; i < order.size(); ++i) index[order[i]] = i;
  };
  reindex();
  // Loops as (range length, head), innermost (shortest range) first.
  std::vector<std::pair<std::uint32_t, BlockId>> loops;
  for (auto h : order) {
    std::uint32_t end = 0;
    bool any = false;
    for (auto p : fn.blocks[h].preds)
      if (index[p] != kUnplaced && index[p] >= index[h]) end = std::max(end, index[p]), any = true;
    if (any) loops.emplace_back(end - index[h], h);
  }
  std::sort(loops.begin(), loops.end());
  auto backward = [&](BlockId from, BlockId to) { return index[to] <= index[from]; };
  std::uint32_t moved_total = 0;
  std::vector<std::uint32_t> stamp(nb, kUnplaced);
  std::vector<BlockId> work, kept, moved;
  std::vector<std::uint8_t> was_backward;
  for (const auto& loop : loops) {
    const BlockId h = loop.second;
    const std::uint32_t start = index[h];
    std::uint32_t end = start;
    for (auto p : fn.blocks[h].preds)
      if (index[p] != kUnplaced && index[p] >= start) end = std::max(end, index[p]), work.push_back(p);
    // The loop: h and the blocks reaching a back edge's source without passing h.
    stamp[h] = h;
    while (!work.empty()) {
      const BlockId b = work.back();
      work.pop_back();
      if (stamp[b] == h) continue;
      stamp[b] = h;
      for (auto q : fn.blocks[b].preds) work.push_back(q);
    }
    // A latch's exit (an exit whose block also jumps back to h) stays: the latch falls through to it.
    auto latch_exit = [&](BlockId b) {
      const auto& preds = fn.blocks[b].preds;
      if (preds.size() != 1) return false;
      const auto& succs = fn.blocks[preds[0]].succs;
      return std::any_of(succs.begin(), succs.end(), [&](BlockId s) {
        return s == h || (fn.blocks[s].succs.size() == 1 && fn.blocks[s].succs[0] == h && index[s] >= start);
      });
    };
    kept.clear(), moved.clear();
    for (auto i = start + 1; i < end; ++i)
      (stamp[order[i]] == h || latch_exit(order[i]) ? kept : moved).push_back(order[i]);
    if (moved.empty()) continue;
    // Every edge touching a moved block keeps its direction.
    was_backward.clear();
    for (auto b : moved) {
      for (auto s : fn.blocks[b].succs) was_backward.push_back(backward(b, s));
      for (auto p : fn.blocks[b].preds) was_backward.push_back(backward(p, b));
    }
    // After the last back edge's source and the blocks right after it that only the loop enters (its
    // latch's exit edge: the latch keeps falling through to it).
    auto at = end + 1;
    while (at < order.size() && fn.blocks[order[at]].preds.size() == 1 && stamp[fn.blocks[order[at]].preds[0]] == h) ++at;
    const std::vector<BlockId> before(order.begin() + start + 1, order.begin() + at);
    auto out = std::copy(kept.begin(), kept.end(), order.begin() + start + 1);
    out = std::copy(before.begin() + (end - start - 1), before.end(), out);
    std::copy(moved.begin(), moved.end(), out);
    reindex();
    std::size_t k = 0;
    bool same = true;
    for (auto b : moved) {
      for (auto s : fn.blocks[b].succs) same = same && was_backward[k++] == backward(b, s);
      for (auto p : fn.blocks[b].preds) same = same && was_backward[k++] == backward(p, b);
    }
    if (!same) {
      std::copy(before.begin(), before.end(), order.begin() + start + 1);
      reindex();
      continue;
    }
    moved_total += static_cast<std::uint32_t>(moved.size());
  }
  return moved_total;
}

}  // namespace bpfvm::jit::opt
