// Linear scan: critical-edge splitting, block order, liveness (per value, from its uses up to its
// definition), live ranges with holes (segments of the block order), then the scan, which gives a
// register to a value when none of its segments overlaps those of the values already holding it,
// spilling the value of least use per live length (uses weighted by loop depth).
#include "jit/opt/regalloc.hpp"

#include <algorithm>
#include <array>
#include <span>

#include "jit/opt/loop_depth.hpp"

namespace bpfvm::jit::opt {

bool needs_location(const Function& fn, ValueId v) {
  const Inst& i = fn.values[v];
  return !i.dead && fn.defines_value(v) && i.op != Op::Const && i.op != Op::FramePtr;
}

namespace {

/// Gives every edge from a block with several successors into a block with several predecessors
/// a block of its own; returns, per original block, the new blocks to place right after it.
std::vector<std::vector<BlockId>> split_critical_edges(Function& fn) {
  const auto n = static_cast<BlockId>(fn.blocks.size());
  std::vector<std::vector<BlockId>> after(n);
  std::size_t critical = 0;  // counted first, so that adding the blocks moves the others once at most
  for (BlockId p = 0; p < n; ++p)
    if (fn.blocks[p].succs.size() >= 2)
      for (auto s : fn.blocks[p].succs) critical += fn.blocks[s].preds.size() >= 2;
  fn.blocks.reserve(n + critical);
  fn.values.reserve(fn.values.size() + critical);
  for (BlockId p = 0; p < n; ++p) {
    if (fn.blocks[p].succs.size() < 2) continue;
    for (std::size_t k = 0; k < fn.blocks[p].succs.size(); ++k) {
      const BlockId s = fn.blocks[p].succs[k];
      if (fn.blocks[s].preds.size() < 2) continue;
      const auto e = static_cast<BlockId>(fn.blocks.size());
      fn.blocks.push_back(Block{{}, {p}, {s}});
      fn.add(e, Inst{.op = Op::Jmp});
      fn.blocks[p].succs[k] = e;
      // The k-th edge p->s is the first pred entry still naming p (duplicate edges keep their order).
      auto& preds = fn.blocks[s].preds;
      *std::find(preds.begin(), preds.end(), p) = e;
      after[p].push_back(e);
    }
  }
  return after;
}

/// Per block, the values live at its start (or end), ascending: one array, sliced by block.
class LiveSets {
 public:
  LiveSets(const std::vector<std::pair<BlockId, std::uint32_t>>& pairs, std::size_t blocks)
      : start_(blocks + 1, 0), values_(pairs.size()) {
    for (const auto& [b, d] : pairs) ++start_[b + 1];
    for (std::size_t b = 0; b < blocks; ++b) start_[b + 1] += start_[b];
    std::vector<std::uint32_t> fill(start_.begin(), start_.end() - 1);
    for (const auto& [b, d] : pairs) values_[fill[b]++] = d;
  }
  std::span<const std::uint32_t> of(BlockId b) const {
    return {values_.data() + start_[b], values_.data() + start_[b + 1]};
  }

 private:
  std::vector<std::uint32_t> start_, values_;
};

/// Per value (then per coalesced group), its live range: ascending, disjoint [from, to) segments.
/// Built from the last position to the first: `add` merges a segment with the value's earliest one
/// when they touch, `define` starts the earliest one at the definition.
class LiveRanges {
 public:
  struct Segment {
    std::uint32_t from, to;
  };

  explicit LiveRanges(std::size_t values) : latest_(values, kNoSegment) {}

  void add(std::uint32_t d, std::uint32_t from, std::uint32_t to) {
    if (const auto l = latest_[d]; l != kNoSegment && to >= built_[l].seg.from) {
      built_[l].seg.from = std::min(built_[l].seg.from, from);
      built_[l].seg.to = std::max(built_[l].seg.to, to);
      return;
    }
    latest_[d] = static_cast<std::uint32_t>(built_.size());
    built_.push_back({d, {from, to}});
  }
  /// d is defined at `at` in the block starting at `block_from`: its segment in that block starts
  /// there; a value never used lives at its definition only (its write still needs a place).
  void define(std::uint32_t d, std::uint32_t at, std::uint32_t block_from) {
    if (const auto l = latest_[d]; l != kNoSegment && built_[l].seg.from >= block_from && built_[l].seg.from <= at) {
      built_[l].seg.from = at;
      return;
    }
    add(d, at, at + 1);
  }
  /// Groups the segments by value, ascending.
  void finish() {
    const auto n = latest_.size();
    start_.assign(n + 1, 0);
    for (const auto& b : built_) ++start_[b.value + 1];
    for (std::size_t d = 0; d < n; ++d) start_[d + 1] += start_[d];
    segments_.resize(built_.size());
    std::vector<std::uint32_t> fill(start_.begin() + 1, start_.end());  // each value's are built last first
    for (const auto& b : built_) segments_[--fill[b.value]] = b.seg;
    // Blocks are built in reverse order, so each value's segments come out ascending; a segment
    // added ahead of its block's (a hoisted phi write) may overlap one: sort and merge those.
    std::vector<Segment> merged;
    for (std::size_t d = 0; d < n; ++d) {
      const auto first = segments_.begin() + start_[d], last = segments_.begin() + start_[d + 1];
      if (std::adjacent_find(first, last, [](const Segment& a, const Segment& b) { return b.from <= a.to; }) == last)
        continue;
      std::sort(first, last, [](const Segment& a, const Segment& b) { return a.from < b.from; });
      merged.clear();
      for (auto s = first; s != last; ++s)
        if (!merged.empty() && s->from <= merged.back().to) merged.back().to = std::max(merged.back().to, s->to);
        else merged.push_back(*s);
      united_.emplace_back(static_cast<std::uint32_t>(d), merged);
    }
    united_of_.assign(n + 1, kNoSegment);
    for (std::uint32_t k = 0; k < united_.size(); ++k) united_of_[united_[k].first] = k;
    built_ = {};
    latest_ = {};
  }
  /// g's range becomes the union of its members' (g among them); the members' stay as they were.
  /// After finish.
  void unite(std::uint32_t g, std::span<const std::uint32_t> members) {
    std::vector<Segment> all;
    for (auto m : members) all.insert(all.end(), of(m).begin(), of(m).end());
    std::sort(all.begin(), all.end(), [](const Segment& a, const Segment& b) { return a.from < b.from; });
    std::vector<Segment> merged;
    for (const auto& s : all)
      if (!merged.empty() && s.from <= merged.back().to) merged.back().to = std::max(merged.back().to, s.to);
      else merged.push_back(s);
    united_.emplace_back(g, std::move(merged));
    united_of_[g] = static_cast<std::uint32_t>(united_.size() - 1);
  }

  std::span<const Segment> of(std::uint32_t d) const {
    if (d < united_of_.size() && united_of_[d] != kNoSegment) return united_[united_of_[d]].second;
    return {segments_.data() + start_[d], segments_.data() + start_[d + 1]};
  }
  std::uint32_t start(std::uint32_t d) const { return of(d).front().from; }
  std::uint32_t end(std::uint32_t d) const { return of(d).back().to; }
  std::uint64_t length(std::uint32_t d) const {
    std::uint64_t n = 0;
    for (const auto& s : of(d)) n += s.to - s.from;
    return n;
  }

  static bool overlap(std::span<const Segment> a, std::span<const Segment> b) {
    if (a.empty() || b.empty() || a.back().to <= b.front().from || b.back().to <= a.front().from) return false;
    // Skip a's segments that end before b starts.
    auto i = std::partition_point(a.begin(), a.end(), [&](const Segment& s) { return s.to <= b.front().from; });
    auto j = b.begin();
    while (i != a.end() && j != b.end()) {
      if (i->to <= j->from) ++i;
      else if (j->to <= i->from) ++j;
      else return true;
    }
    return false;
  }

 private:
  static constexpr std::uint32_t kNoSegment = UINT32_MAX;
  struct Built {
    std::uint32_t value;
    Segment seg;
  };
  std::vector<std::uint32_t> latest_;  // while building: per value, its earliest segment so far
  std::vector<Built> built_;
  std::vector<std::uint32_t> start_;
  std::vector<Segment> segments_;
  std::vector<std::pair<std::uint32_t, std::vector<Segment>>> united_;
  std::vector<std::uint32_t> united_of_;
};

}  // namespace

Allocation allocate_registers(Function& fn, const RegisterFile& regs) {
  Allocation out;
  const auto after = split_critical_edges(fn);
  for (BlockId b = 0; b < after.size(); ++b) {
    out.order.push_back(b);
    for (auto e : after[b]) out.order.push_back(e);
  }
  place_exits_after_loops(fn, out.order);

  // Dense numbering of the values that need a location.
  const auto nv = fn.values.size();
  std::vector<std::uint32_t> dense(nv, UINT32_MAX);
  std::vector<ValueId> of_dense;
  for (ValueId v = 0; v < nv; ++v)
    if (needs_location(fn, v)) {
      dense[v] = static_cast<std::uint32_t>(of_dense.size());
      of_dense.push_back(v);
    }
  const auto nd = of_dense.size();
  const auto nb = fn.blocks.size();

  // Positions: all phis of a block share its first position, every other instruction has its own.
  std::vector<std::uint32_t> pos(nv, 0), block_start(nb, 0), block_end(nb, 0);
  std::vector<std::uint32_t> call_positions, divide_positions;
  std::uint32_t p = 0;
  for (auto b : out.order) {
    block_start[b] = p;
    bool any = false;
    for (auto id : fn.blocks[b].insts) {
      const Inst& i = fn.values[id];
      if (i.dead) continue;
      if (i.op == Op::Phi) {
        pos[id] = p;
        any = true;
        continue;
      }
      if (any) ++p, any = false;
      pos[id] = p;
      if (i.op == Op::Call || i.op == Op::TailCall) call_positions.push_back(p);
      if (i.op == Op::Alu && (i.kind == isa::Kind::Div || i.kind == isa::Kind::SDiv || i.kind == isa::Kind::Mod ||
                              i.kind == isa::Kind::SMod))
        divide_positions.push_back(p);
      ++p;
    }
    if (any) ++p;
    block_end[b] = p - 1;
  }

  // Liveness, per value from its uses up to its definition (Brandner et al., "Computing Liveness
  // Sets for SSA-Form Programs", path exploration): each block is visited once per value live in
  // it, so the cost is the size of the live sets, not blocks times values. A phi's argument is used
  // at the end of the matching predecessor; a phi itself is not live into its own block.
  std::vector<BlockId> def_block(nd, 0);
  for (BlockId b = 0; b < nb; ++b)
    for (auto id : fn.blocks[b].insts)
      if (dense[id] != UINT32_MAX) def_block[dense[id]] = b;
  // Uses as (block, at its end?) per dense value, in one array (counting sort by value).
  struct Use {
    BlockId block;
    bool at_end;        // a phi's argument: used on the edge out of `block`
    std::uint32_t pos;  // the using instruction's position (a phi's: its block's first)
  };
  std::vector<std::uint32_t> use_start(nd + 1, 0);
  auto for_each_use = [&](auto&& f) {
    for (BlockId b = 0; b < nb; ++b)
      for (auto id : fn.blocks[b].insts) {
        const Inst& i = fn.values[id];
        if (i.dead) continue;
        for (std::size_t k = 0; k < i.args.size(); ++k)
          if (const auto a = dense[i.args[k]]; a != UINT32_MAX)
            f(a, i.op == Op::Phi ? Use{fn.blocks[b].preds[k], true, pos[id]} : Use{b, false, pos[id]});
      }
  };
  for_each_use([&](std::uint32_t a, Use) { ++use_start[a + 1]; });
  for (std::size_t d = 0; d < nd; ++d) use_start[d + 1] += use_start[d];
  std::vector<Use> uses(use_start[nd]);
  {
    std::vector<std::uint32_t> fill(use_start.begin(), use_start.end() - 1);
    for_each_use([&](std::uint32_t a, Use u) { uses[fill[a]++] = u; });
  }
  // (block, value) pairs, found value by value, then grouped by block (a stable counting sort, so
  // each block's values stay ascending): one array per set instead of two vectors per block.
  std::vector<std::pair<BlockId, std::uint32_t>> in_pairs, out_pairs;
  std::vector<std::uint32_t> in_stamp(nb, UINT32_MAX), out_stamp(nb, UINT32_MAX);
  std::vector<BlockId> stack;
  for (std::uint32_t d = 0; d < nd; ++d) {
    auto mark_out = [&](BlockId b) {
      if (out_stamp[b] == d) return;
      out_stamp[b] = d;
      out_pairs.emplace_back(b, d);
    };
    for (auto u = use_start[d]; u < use_start[d + 1]; ++u) {
      if (uses[u].at_end) mark_out(uses[u].block);
      stack.push_back(uses[u].block);
      while (!stack.empty()) {
        const BlockId b = stack.back();
        stack.pop_back();
        if (def_block[d] == b || in_stamp[b] == d) continue;
        in_stamp[b] = d;
        in_pairs.emplace_back(b, d);
        for (auto pred : fn.blocks[b].preds) {
          mark_out(pred);
          stack.push_back(pred);
        }
      }
    }
  }
  const LiveSets live_in(in_pairs, nb), live_out(out_pairs, nb);

  // Live ranges with holes (Wimmer and Franz, "Linear Scan Register Allocation on SSA Form"): per
  // value, the [from, to) segments of the block order where it is live, built block by block from
  // the live sets, last block first. Positions are doubled: the instruction at p reads its operands
  // at 2p and writes its result at 2p + 1, so a value whose last use is at p and the value defined
  // there may share a register. Block b spans [2 start, 2 end + 2). A phi is live from its block's
  // start and is also written at 2 end + 1 of each predecessor (its moves); an argument live out of a
  // predecessor only for those moves ends at 2 end + 1, so it may share the phi's register (the move
  // vanishes). A value dead across a region (an arm placed between its definition and its use) has
  // a hole there, and its register is free for the arm's values.
  auto contains = [](std::span<const std::uint32_t> set, std::uint32_t d) {
    return std::binary_search(set.begin(), set.end(), d);
  };
  // A latch ending in a branch whose back edge is an edge block may get that block's phi moves
  // above its compare (moves.hpp hoisted_latch_edge): the loop head's phis are then written from
  // the branch on, so a value the compare reads or the exit needs must not share their registers.
  std::vector<std::uint32_t> hoisted_phis;
  auto latch_edge_phis = [&](BlockId b) -> std::span<const std::uint32_t> {
    hoisted_phis.clear();
    const Block& blk = fn.blocks[b];
    if (blk.succs.size() != 2 || blk.insts.empty() || fn.values[blk.insts.back()].op != Op::Branch) return {};
    for (auto e : blk.succs) {
      const Block& edge = fn.blocks[e];
      if (edge.preds.size() != 1 || edge.succs.size() != 1 || edge.succs[0] > b) continue;
      for (auto id : fn.blocks[edge.succs[0]].insts) {
        const Inst& phi = fn.values[id];
        if (phi.dead) continue;
        if (phi.op != Op::Phi) break;
        if (dense[id] != UINT32_MAX) hoisted_phis.push_back(dense[id]);
      }
    }
    return hoisted_phis;
  };
  LiveRanges ranges(nd);
  for (auto it = out.order.rbegin(); it != out.order.rend(); ++it) {
    const BlockId b = *it;
    const std::uint32_t from = 2 * block_start[b], to = 2 * block_end[b] + 2;
    const auto& succs = fn.blocks[b].succs;
    for (auto d : live_out.of(b)) {
      const bool into_succ = std::any_of(succs.begin(), succs.end(), [&](BlockId s) { return contains(live_in.of(s), d); });
      ranges.add(d, from, into_succ ? to : to - 1);
    }
    if (succs.size() == 1)  // the moves along b -> succ write its phis at b's end
      for (auto id : fn.blocks[succs[0]].insts) {
        const Inst& phi = fn.values[id];
        if (phi.dead) continue;
        if (phi.op != Op::Phi) break;
        if (dense[id] != UINT32_MAX) ranges.add(dense[id], to - 1, to);
      }
    if (const auto hoisted = latch_edge_phis(b); !hoisted.empty())  // written from b's branch on
      for (auto d : hoisted) ranges.add(d, 2 * pos[fn.blocks[b].insts.back()], to);
    const auto& insts = fn.blocks[b].insts;
    for (auto k = insts.size(); k-- > 0;) {
      const ValueId id = insts[k];
      const Inst& i = fn.values[id];
      if (i.dead) continue;
      if (i.op == Op::Phi) {
        if (dense[id] != UINT32_MAX) ranges.define(dense[id], from, from);
        continue;
      }
      if (dense[id] != UINT32_MAX) ranges.define(dense[id], 2 * pos[id] + 1, from);
      for (auto a : i.args)
        if (dense[a] != UINT32_MAX) ranges.add(dense[a], from, 2 * pos[id] + 1);
    }
  }
  ranges.finish();

  // Coalescing: a phi and those of its arguments (values or other phis, with what they already
  // joined) that interfere neither with it nor with each other become one group with one location,
  // so the moves between them vanish (a loop counter's `i = i + 1` stays in one register). A group
  // is allocated over the union of its members' ranges.
  constexpr std::size_t kMaxGroupMembers = 64;
  std::vector<std::uint32_t> group(nd);
  for (std::uint32_t d = 0; d < nd; ++d) group[d] = d;
  // A group's members; a value still alone has no list (no allocation per value): it is its own
  // group, and group[g] == g is that one-element list.
  std::vector<std::vector<std::uint32_t>> joined(nd);
  auto members = [&](std::uint32_t g) {
    return joined[g].empty() ? std::span<const std::uint32_t>(&group[g], 1) : std::span<const std::uint32_t>(joined[g]);
  };
  // SSA values interfere only when one is live right after the other's definition (the one defined
  // first dominates the other's definition), which the live sets decide exactly; values whose
  // ranges do not overlap at all never interfere.
  auto live_after_def = [&](std::uint32_t a, std::uint32_t b) {  // is a live just after b's definition?
    const ValueId vb = of_dense[b];
    const BlockId blk = def_block[b];
    const bool defined = contains(live_in.of(blk), a) || (def_block[a] == blk && pos[of_dense[a]] <= pos[vb]);
    if (!defined) return false;
    if (contains(live_out.of(blk), a)) return true;
    for (auto u = use_start[a]; u < use_start[a + 1]; ++u)  // a use later in the block (a phi's are at its preds)
      if (!uses[u].at_end && uses[u].block == blk && uses[u].pos > pos[vb]) return true;
    return false;
  };
  auto disjoint = [&](std::uint32_t a, std::uint32_t b) {
    if (!LiveRanges::overlap(ranges.of(a), ranges.of(b))) return true;
    return !live_after_def(a, b) && !live_after_def(b, a);
  };
  // The move into a phi at the end of a predecessor writes the group's location: no other member
  // of the groups x and y may still be live there, except the value moved (then the move is no
  // move at all). Read from the predecessor's live-out list, so a big group costs its phis only.
  auto moves_spare_members = [&](std::uint32_t x, std::uint32_t y) {
    auto spares = [&](std::uint32_t p) {
      const Inst& phi = fn.values[of_dense[p]];
      if (phi.op != Op::Phi) return true;
      const auto& preds = fn.blocks[phi.block].preds;
      for (std::size_t k = 0; k < preds.size(); ++k) {
        const auto moved = dense[phi.args[k]];
        for (auto m : live_out.of(preds[k]))
          if (m != p && m != moved && (group[m] == x || group[m] == y)) return false;
      }
      return true;
    };
    const auto mx = members(x), my = members(y);
    return std::all_of(mx.begin(), mx.end(), spares) && std::all_of(my.begin(), my.end(), spares);
  };
  for (std::uint32_t d = 0; d < nd; ++d) {
    const Inst& phi = fn.values[of_dense[d]];
    if (phi.op != Op::Phi) continue;
    for (auto a : phi.args) {
      if (dense[a] == UINT32_MAX) continue;
      const auto ga = group[dense[a]], gd = group[d];
      if (ga == gd) continue;
      const auto ma = members(ga), md = members(gd);
      // Each test below reads every member of both groups: a value carried through thousands of
      // loops in a row (each loop's phi joining the last one's group) made the joins quadratic
      // (6,000 two-instruction loops: 11.4 G instructions to compile). The bound leaves every
      // bench/, test and held-out program's code unchanged.
      if (ma.size() + md.size() > kMaxGroupMembers) continue;
      const bool fits = std::all_of(ma.begin(), ma.end(), [&](auto x) {
        return std::all_of(md.begin(), md.end(), [&](auto y) { return disjoint(x, y); });
      });
      if (!fits || !moves_spare_members(ga, gd)) continue;
      if (joined[gd].empty()) joined[gd].push_back(gd);
      joined[gd].insert(joined[gd].end(), ma.begin(), ma.end());
      for (auto x : ma) group[x] = gd;  // after the copy: ma may be group[ga] itself
      joined[ga] = {};
    }
  }
  for (std::uint32_t g = 0; g < nd; ++g)
    if (!joined[g].empty()) ranges.unite(g, joined[g]);

  // Spill weights: a group's definitions and uses, each weighing 8^(loop depth) of its block (a phi
  // argument's: of the predecessor it moves on) times the block's branch share, per position the
  // group is live (its holes not counted). Values used in inner loops keep registers; long-lived
  // ones used outside them go to slots first; a value read in every iteration outweighs one read in
  // each of a switch's 32 arms (branch_fanout_32 spilled its packet pointer and index, reloaded 4x
  // per iteration, and kept the loop's shifted copies of the index that only one arm reads).
  const auto depth = loop_depths(fn, out.order);
  const auto share = branch_shares(fn, out.order, depth);
  std::vector<double> spill_cost(nd, 0);
  auto weight_of = [&](BlockId b) { return share[b] * static_cast<double>(1u << (3 * std::min(depth[b], 5u))); };
  for (BlockId b = 0; b < nb; ++b)
    for (auto id : fn.blocks[b].insts) {
      const Inst& i = fn.values[id];
      if (i.dead) continue;
      if (dense[id] != UINT32_MAX) spill_cost[group[dense[id]]] += weight_of(b);
      for (std::size_t k = 0; k < i.args.size(); ++k)
        if (const auto a = dense[i.args[k]]; a != UINT32_MAX)
          spill_cost[group[a]] += weight_of(i.op == Op::Phi ? fn.blocks[b].preds[k] : b);
    }
  auto spill_weight = [&](std::uint32_t g) { return spill_cost[g] / (ranges.length(g) / 2.0 + 1.0); };

  // The scan, over groups by their first position. A register holds every group given it whose
  // last range has not ended yet (those in a hole too); it is free for a group none of whose ranges
  // overlaps one of theirs.
  out.reg.assign(nv, Allocation::kNone);
  out.slot.assign(nv, -1);
  std::vector<std::uint32_t> first(nd), last(nd);  // per group: where its range starts and ends
  std::vector<std::uint64_t> by_start;             // (start, group), sorted
  for (std::uint32_t d = 0; d < nd; ++d)
    if (group[d] == d) {
      first[d] = ranges.start(d), last[d] = ranges.end(d);
      by_start.push_back(std::uint64_t{first[d]} << 32 | d);
    }
  std::sort(by_start.begin(), by_start.end());
  const auto max_reg = regs.allocatable.empty() ? 0 : *std::max_element(regs.allocatable.begin(), regs.allocatable.end());
  std::vector<std::vector<std::uint32_t>> holders(max_reg + 1u);  // host register -> groups holding it
  // Where each call (divide) writes its result and clobbers registers: a group live there crosses it.
  std::vector<std::uint32_t> call_writes, divide_writes;
  for (auto c : call_positions) call_writes.push_back(2 * c + 1);
  for (auto c : divide_positions) divide_writes.push_back(2 * c + 1);
  auto crosses = [&](std::uint32_t g, const std::vector<std::uint32_t>& writes) {
    for (const auto& r : ranges.of(g)) {
      const auto it = std::upper_bound(writes.begin(), writes.end(), r.from);
      if (it != writes.end() && *it < r.to) return true;
    }
    return false;
  };
  auto spill = [&](std::uint32_t d) {
    out.slot[of_dense[d]] = static_cast<std::int32_t>(out.num_slots++);
    out.reg[of_dense[d]] = Allocation::kNone;
    ++out.spilled;
  };
  // Hints, so that moves vanish: a phi and the values flowing into it share a register, and a
  // two-address operation (x86: add dst, src) reuses its first operand's register where that dies.
  std::vector<ValueId> phi_of(nv, kNoValue);
  for (const auto& blk : fn.blocks)
    for (auto id : blk.insts) {
      const Inst& i = fn.values[id];
      if (i.dead || i.op != Op::Phi) continue;
      for (auto a : i.args)
        if (phi_of[a] == kNoValue) phi_of[a] = id;
    }
  auto hints = [&](ValueId v) {
    std::array<ValueId, 2> h{kNoValue, kNoValue};
    const Inst& i = fn.values[v];
    h[0] = phi_of[v];
    if (i.op == Op::Phi) {
      for (auto a : i.args)
        if (a != v && dense[a] != UINT32_MAX && out.reg[a] != Allocation::kNone) h[1] = a;
    } else if ((i.op == Op::Alu || i.op == Op::Unary || i.op == Op::MovSx || i.op == Op::Zext32 || i.op == Op::Rotate) &&
               !i.args.empty()) {
      h[1] = i.args[0];
    }
    return h;
  };
  // Variable rotates' counts (RegisterFile::rotate_count): that register first for them, last for others.
  std::vector<bool> is_count(nv, false);
  std::vector<std::uint8_t> order = regs.allocatable;
  if (regs.rotate_count >= 0) {
    for (const auto& i : fn.values)
      if (!i.dead && i.op == Op::Rotate && !fn.is_const(i.args[1])) is_count[i.args[1]] = true;
    if (std::find(is_count.begin(), is_count.end(), true) != is_count.end())
      if (auto at = std::find(order.begin(), order.end(), regs.rotate_count); at != order.end()) std::rotate(at, at + 1, order.end());
  }
  for (auto key : by_start) {
    const auto d = static_cast<std::uint32_t>(key);
    const auto cur = ranges.of(d);
    for (auto& h : holders)  // expire: a group whose last use is here may hand its register on
      std::erase_if(h, [&](std::uint32_t g) { return last[g] <= first[d]; });
    const bool across = crosses(d, call_writes);
    const bool across_divide = !regs.survives_divides.empty() && crosses(d, divide_writes);
    auto usable = [&](std::size_t r) { return !across || regs.survives_calls[r]; };
    auto conflicts = [&](std::uint32_t g) { return LiveRanges::overlap(ranges.of(g), cur); };
    auto free_reg = [&](std::size_t r) { return usable(r) && std::none_of(holders[r].begin(), holders[r].end(), conflicts); };
    std::int16_t chosen = Allocation::kNone;
    // Hints first, then the preference order; a group live across a divide first tries only the
    // registers a divide leaves alone.
    for (const bool divide_safe_only : {across_divide, false}) {
      auto fits = [&](std::size_t r) { return free_reg(r) && (!divide_safe_only || regs.survives_divides[r]); };
      if (is_count[of_dense[d]] && fits(static_cast<std::size_t>(regs.rotate_count))) chosen = regs.rotate_count;
      for (auto hv : hints(of_dense[d])) {
        if (chosen != Allocation::kNone || hv == kNoValue || out.reg[hv] == Allocation::kNone) continue;
        if (fits(static_cast<std::size_t>(out.reg[hv]))) chosen = out.reg[hv];
      }
      for (auto r : order) {
        if (chosen != Allocation::kNone) break;
        if (fits(r)) chosen = static_cast<std::int16_t>(r);
      }
      if (chosen != Allocation::kNone || !divide_safe_only) break;
    }
    if (chosen == Allocation::kNone) {
      // Spill the cheapest: this group, or every holder of one register it may use that overlaps
      // it, the register whose dearest such holder is cheapest (ties: the one that lives longest).
      auto cheaper = [&](std::uint32_t a, std::uint32_t b) {
        const double wa = spill_weight(a), wb = spill_weight(b);
        return wa != wb ? wa < wb : last[a] > last[b];
      };
      auto dearest = [&](std::size_t r) {
        std::int64_t best = -1;
        for (auto g : holders[r])
          if (conflicts(g) && (best < 0 || cheaper(static_cast<std::uint32_t>(best), g))) best = g;
        return best;
      };
      std::int16_t victim_reg = Allocation::kNone;
      std::int64_t victim = -1;
      for (auto r : regs.allocatable) {
        if (!usable(r)) continue;
        const auto v = dearest(r);
        if (v >= 0 && (victim < 0 || cheaper(static_cast<std::uint32_t>(v), static_cast<std::uint32_t>(victim)))) {
          victim = v;
          victim_reg = static_cast<std::int16_t>(r);
        }
      }
      if (victim >= 0 && cheaper(static_cast<std::uint32_t>(victim), d)) {
        auto& h = holders[static_cast<std::size_t>(victim_reg)];
        std::erase_if(h, [&](std::uint32_t g) {
          if (!conflicts(g)) return false;
          spill(g);
          return true;
        });
        chosen = victim_reg;
      } else {
        spill(d);
        continue;
      }
    }
    holders[static_cast<std::size_t>(chosen)].push_back(d);
    out.reg[of_dense[d]] = chosen;
  }
  for (std::uint32_t d = 0; d < nd; ++d)
    if (group[d] != d) {
      out.reg[of_dense[d]] = out.reg[of_dense[group[d]]];
      out.slot[of_dense[d]] = out.slot[of_dense[group[d]]];
    }
  out.live_in_regs.assign(nb, 0);
  for (BlockId b = 0; b < nb; ++b)
    for (auto d : live_in.of(b))
      if (const auto r = out.reg[of_dense[d]]; r >= 0 && r < 64) out.live_in_regs[b] |= std::uint64_t{1} << r;
  return out;
}

}  // namespace bpfvm::jit::opt
