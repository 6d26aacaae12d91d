// Locations of allocated values, phi moves along an edge, parallel-copy sequentialization, block placement.
#include "jit/opt/moves.hpp"

#include <algorithm>

namespace bpfvm::jit::opt {

Loc location(const Function& fn, const Allocation& al, ValueId v) {
  if (fn.values[v].op == Op::Const) return {Loc::Kind::Imm, fn.values[v].imm};
  if (fn.values[v].op == Op::FramePtr) return {Loc::Kind::Frame, fn.values[v].imm};
  if (al.reg[v] >= 0) return {Loc::Kind::Reg, al.reg[v]};
  return {Loc::Kind::Slot, al.slot[v]};
}

std::vector<Move> phi_moves(const Function& fn, const Allocation& al, BlockId from, BlockId to) {
  const auto& preds = fn.blocks[to].preds;
  const auto k = static_cast<std::size_t>(std::find(preds.begin(), preds.end(), from) - preds.begin());
  std::vector<Move> moves;
  for (auto id : fn.blocks[to].insts) {
    const Inst& phi = fn.values[id];
    if (phi.dead) continue;  // removed phis (now dead copies) stay in place
    if (phi.op != Op::Phi) break;
    moves.push_back({location(fn, al, id), location(fn, al, phi.args[k])});
  }
  return moves;
}

std::vector<Move> sequentialize(std::vector<Move> moves, std::uint32_t scratch) {
  std::erase_if(moves, [](const Move& m) { return m.dst == m.src; });
  std::vector<Move> out;
  while (!moves.empty()) {
    // A move whose destination no other pending move still reads can go now.
    const auto ready = std::find_if(moves.begin(), moves.end(), [&](const Move& m) {
      return std::none_of(moves.begin(), moves.end(), [&](const Move& o) { return o.src == m.dst; });
    });
    if (ready != moves.end()) {
      out.push_back(*ready);
      moves.erase(ready);
      continue;
    }
    // Only cycles are left: park one destination's value in the scratch register.
    const Loc parked = moves[0].dst;
    const Loc reg{Loc::Kind::Reg, scratch};
    out.push_back({reg, parked});
    for (auto& m : moves)
      if (m.src == parked) m.src = reg;
  }
  return out;
}

std::vector<PlacedBlock> placed_blocks(const Function& fn, const Allocation& al) {
  // Blocks no edge reaches (arms a pass emptied, select.cpp) take no place: their neighbours fall
  // through to each other.
  std::vector<BlockId> order;
  for (auto b : al.order)
    if (b == 0 || !fn.blocks[b].preds.empty()) order.push_back(b);
  std::vector<std::size_t> index(fn.blocks.size(), 0);
  for (std::size_t i = 0; i < order.size(); ++i) index[order[i]] = i;
  std::vector<PlacedBlock> out;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& preds = fn.blocks[order[i]].preds;
    const bool loop_head = std::any_of(preds.begin(), preds.end(), [&](BlockId p) { return index[p] >= i; });
    const std::int64_t next = i + 1 < order.size() ? static_cast<std::int64_t>(order[i + 1]) : -1;
    out.push_back({order[i], loop_head, next});
  }
  return out;
}

namespace {

bool only_jump(const Function& fn, BlockId b) {
  const auto& insts = fn.blocks[b].insts;
  return std::all_of(insts.begin(), insts.end(), [&](ValueId id) { return fn.values[id].dead || fn.values[id].op == Op::Jmp; });
}

}  // namespace

std::int64_t hoisted_latch_edge(const Function& fn, const Allocation& al, BlockId b) {
  const Block& blk = fn.blocks[b];
  if (blk.insts.empty() || blk.succs.size() != 2 || blk.succs[0] == blk.succs[1] || al.live_in_regs.empty()) return -1;
  const Inst& branch = fn.values[blk.insts.back()];
  if (branch.op != Op::Branch) return -1;
  std::uint64_t compared = 0;
  for (auto a : branch.args)
    if (const Loc l = location(fn, al, a); l.kind == Loc::Kind::Reg) compared |= std::uint64_t{1} << l.v;
  for (std::size_t k = 0; k < 2; ++k) {
    const BlockId e = blk.succs[k], other = blk.succs[1 - k];
    const Block& edge = fn.blocks[e];
    if (edge.preds.size() != 1 || edge.succs.size() != 1 || !only_jump(fn, e)) continue;
    const BlockId head = edge.succs[0];
    // A back edge: b and the head are blocks of the lowering (an edge block has one predecessor and
    // ends in a jump), which the allocation order keeps in id order.
    if (head > b) continue;
    const auto moves = phi_moves(fn, al, e, head);
    const bool hoistable = std::any_of(moves.begin(), moves.end(), [](const Move& m) { return !(m.dst == m.src); }) &&
                           std::all_of(moves.begin(), moves.end(), [&](const Move& m) {
                             if (m.dst == m.src) return true;
                             if (m.dst.kind != Loc::Kind::Reg || m.dst.v >= 64) return false;
                             const auto bit = std::uint64_t{1} << m.dst.v;
                             return (compared & bit) == 0 && (al.live_in_regs[other] & bit) == 0;
                           });
    if (hoistable) return e;
  }
  return -1;
}

std::vector<BlockId> forwarding_targets(const Function& fn, const Allocation& al) {
  const auto n = fn.blocks.size();
  std::vector<BlockId> alias(n);
  for (BlockId b = 0; b < n; ++b) {
    alias[b] = b;
    const auto& blk = fn.blocks[b];
    if (b == 0 || blk.succs.size() != 1 || blk.succs[0] == b) continue;
    const auto moves = phi_moves(fn, al, b, blk.succs[0]);
    const bool moves_nothing = std::all_of(moves.begin(), moves.end(), [](const Move& m) { return m.dst == m.src; });
    const bool moves_hoisted = blk.preds.size() == 1 && hoisted_latch_edge(fn, al, blk.preds[0]) == b;
    if (only_jump(fn, b) && (moves_nothing || moves_hoisted)) alias[b] = blk.succs[0];
  }
  // Chains end at a block with code; a chain that runs into a cycle keeps its first step. Each block
  // is walked once (a long chain of empty blocks, `ja +0` after `ja +0`, was a walk per block).
  enum : std::uint8_t { kUnseen, kOnPath, kEnds, kCycles };
  std::vector<std::uint8_t> state(n, kUnseen);
  std::vector<BlockId> path;
  for (BlockId b = 0; b < n; ++b) {
    BlockId t = b;
    path.clear();
    while (state[t] == kUnseen && alias[t] != t) {
      state[t] = kOnPath;
      path.push_back(t);
      t = alias[t];
    }
    // t is a block with code (alias[t] == t), one resolved before, or on this walk's path (a cycle).
    const bool ends = state[t] == kEnds || (state[t] == kUnseen && alias[t] == t);
    if (state[t] == kUnseen) state[t] = kEnds;
    const BlockId end = alias[t];
    for (auto x : path) {
      state[x] = ends ? kEnds : kCycles;
      if (ends) alias[x] = end;
    }
  }
  for (bool changed = true; changed;) {  // a cycle of empty blocks: its blocks keep their jumps
    changed = false;
    for (BlockId b = 0; b < n; ++b)
      if (alias[alias[b]] != alias[b]) alias[b] = b, changed = true;
  }
  return alias;
}

EmissionPlan emission_plan(const Function& fn, const Allocation& al) {
  EmissionPlan plan{forwarding_targets(fn, al), {}};
  std::vector<std::vector<BlockId>> forwarded(fn.blocks.size());
  for (BlockId b = 0; b < fn.blocks.size(); ++b)
    if (plan.alias[b] != b) forwarded[plan.alias[b]].push_back(b);
  for (const auto& placed : placed_blocks(fn, al)) {
    if (plan.alias[placed.id] != placed.id) continue;  // its label binds where its jump would go
    if (!plan.blocks.empty()) plan.blocks.back().next = static_cast<std::int64_t>(placed.id);
    plan.blocks.push_back({placed.id, placed.loop_head, -1, std::move(forwarded[placed.id])});
  }
  return plan;
}

}  // namespace bpfvm::jit::opt
