// Linear scan: critical-edge splitting, block order, liveness (per value, from its uses up to its
// definition), one interval per value, then the scan spilling the value of least use per length
// (uses weighted by loop depth).
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

struct Interval {
  std::uint32_t lo = UINT32_MAX, hi = 0;
  void cover(std::uint32_t p) {
    lo = std::min(lo, p);
    hi = std::max(hi, p);
  }
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
  std::vector<std::uint32_t> call_positions;
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

  // Intervals. A phi's own interval ends at its last use; the moves into it at the end of its
  // predecessors extend it (phi_ext) unless its arguments share its location (coalescing below).
  std::vector<Interval> iv(nd), phi_ext(nd);
  for (auto b : out.order) {
    for (auto d : live_in.of(b)) iv[d].cover(block_start[b]);
    for (auto d : live_out.of(b)) iv[d].cover(block_end[b]);
    for (auto id : fn.blocks[b].insts) {
      const Inst& i = fn.values[id];
      if (i.dead) continue;
      if (dense[id] != UINT32_MAX) iv[dense[id]].cover(pos[id]);
      if (i.op == Op::Phi) {
        // Moves into the phi happen at the end of each predecessor.
        for (auto pred : fn.blocks[b].preds) phi_ext[dense[id]].cover(block_end[pred]);
        continue;
      }
      for (auto a : i.args)
        if (dense[a] != UINT32_MAX) iv[dense[a]].cover(pos[id]);
    }
  }

  // Coalescing: a phi and those of its arguments (values or other phis, with what they already
  // joined) whose intervals overlap neither it nor each other become one group with one location,
  // so the moves between them vanish (a loop counter's `i = i + 1` stays in one register). A group
  // is allocated over the hull of its members' intervals and the phis' incoming moves.
  std::vector<std::uint32_t> group(nd);
  for (std::uint32_t d = 0; d < nd; ++d) group[d] = d;
  // A group's members; a value still alone has no list (no allocation per value): it is its own
  // group, and group[g] == g is that one-element list.
  std::vector<std::vector<std::uint32_t>> joined(nd);
  auto members = [&](std::uint32_t g) {
    return joined[g].empty() ? std::span<const std::uint32_t>(&group[g], 1) : std::span<const std::uint32_t>(joined[g]);
  };
  // Intervals are hulls over the block order, so a value live in a block placed after a loop (a
  // loop counter read on the exit edge) overlaps the loop's next counter value. SSA values whose
  // hulls overlap interfere only when one is live right after the other's definition (the one
  // defined first dominates the other's definition), which the live sets decide exactly.
  auto contains = [](std::span<const std::uint32_t> set, std::uint32_t d) {
    return std::binary_search(set.begin(), set.end(), d);
  };
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
    if (iv[a].hi <= iv[b].lo || iv[b].hi <= iv[a].lo) return true;
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
  std::vector<Interval> hull(nd);
  for (std::uint32_t d = 0; d < nd; ++d) {
    auto& h = hull[group[d]];
    h.cover(iv[d].lo), h.cover(iv[d].hi);
    if (phi_ext[d].lo != UINT32_MAX) h.cover(phi_ext[d].lo), h.cover(phi_ext[d].hi);
  }
  iv = std::move(hull);

  // Spill weights: a group's definitions and uses, each weighing 8^(loop depth) of its block (a phi
  // argument's: of the predecessor it moves on) times the block's branch share, per position of the
  // group's interval. Values used in inner loops keep registers; long-lived ones used outside them
  // go to slots first; a value read in every iteration outweighs one read in each of a switch's 32
  // arms (branch_fanout_32 spilled its packet pointer and index, reloaded 4x per iteration, and kept
  // the loop's shifted copies of the index that only one arm reads).
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
  auto spill_weight = [&](std::uint32_t g) { return spill_cost[g] / (iv[g].hi - iv[g].lo + 1.0); };

  // The scan.
  out.reg.assign(nv, Allocation::kNone);
  out.slot.assign(nv, -1);
  std::vector<std::uint32_t> by_start;
  for (std::uint32_t d = 0; d < nd; ++d)
    if (group[d] == d) by_start.push_back(d);
  std::sort(by_start.begin(), by_start.end(), [&](auto a, auto b) {
    return iv[a].lo != iv[b].lo ? iv[a].lo < iv[b].lo : a < b;
  });
  const auto max_reg = regs.allocatable.empty() ? 0 : *std::max_element(regs.allocatable.begin(), regs.allocatable.end());
  std::vector<std::int32_t> holder(max_reg + 1u, -1);  // host register -> dense value holding it
  auto crosses_call = [&](const Interval& i) {
    const auto it = std::upper_bound(call_positions.begin(), call_positions.end(), i.lo);
    return it != call_positions.end() && *it < i.hi;
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
    } else if ((i.op == Op::Alu || i.op == Op::Unary || i.op == Op::MovSx || i.op == Op::Zext32) && !i.args.empty()) {
      h[1] = i.args[0];
    }
    return h;
  };
  for (auto d : by_start) {
    const Interval& cur = iv[d];
    for (auto& h : holder)  // expire: a value whose last use is here may hand its register on
      if (h >= 0 && iv[static_cast<std::size_t>(h)].hi <= cur.lo) h = -1;
    const bool across = crosses_call(cur);
    std::int16_t chosen = Allocation::kNone;
    for (auto hv : hints(of_dense[d])) {
      if (hv == kNoValue || out.reg[hv] == Allocation::kNone) continue;
      const auto r = static_cast<std::size_t>(out.reg[hv]);
      if ((across && !regs.survives_calls[r]) || holder[r] >= 0) continue;
      chosen = static_cast<std::int16_t>(r);
      break;
    }
    for (auto r : regs.allocatable) {
      if (chosen != Allocation::kNone) break;
      if (across && !regs.survives_calls[r]) continue;
      if (holder[r] < 0) {
        chosen = static_cast<std::int16_t>(r);
        break;
      }
    }
    if (chosen == Allocation::kNone) {
      // Spill the cheapest of this value and the holders of the registers it may use (ties: the
      // one that lives longest).
      auto cheaper = [&](std::uint32_t a, std::uint32_t b) {
        const double wa = spill_weight(a), wb = spill_weight(b);
        return wa != wb ? wa < wb : iv[a].hi > iv[b].hi;
      };
      std::int16_t victim_reg = Allocation::kNone;
      for (auto r : regs.allocatable) {
        if (across && !regs.survives_calls[r]) continue;
        if (victim_reg == Allocation::kNone ||
            cheaper(static_cast<std::uint32_t>(holder[r]), static_cast<std::uint32_t>(holder[victim_reg])))
          victim_reg = static_cast<std::int16_t>(r);
      }
      if (victim_reg != Allocation::kNone && cheaper(static_cast<std::uint32_t>(holder[victim_reg]), d)) {
        spill(static_cast<std::uint32_t>(holder[victim_reg]));
        chosen = victim_reg;
      } else {
        spill(d);
        continue;
      }
    }
    holder[static_cast<std::size_t>(chosen)] = static_cast<std::int32_t>(d);
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
