// Branch-to-select conversion: a small diamond or triangle (a branch whose arms are at most
// kMaxArmInsts cheap pure instructions, or nothing, and meet again at one join) becomes straight-line
// code: the arms' instructions move into the branching block and every phi of the join that chooses
// between the two edges becomes a Select (x86-64 cmov, arm64 csel) on the branch's comparison.
//
// The rule, without profile data: the branch is removed whenever both arms together cost at most
// 2 * kMaxArmInsts cheap ALU instructions and the join chooses at most kMaxSelects values — then both
// arms cost about what a well-predicted branch costs, and a mispredicted one (~15-20 cycles on
// data-dependent conditions) costs far more. Loop branches never qualify: an arm must return to the
// join, and a back edge's target is a loop head with code of its own. Not where a compare reads the
// chosen value or the compare reads a select (below); inside loops only min/max and 0/1-of-a-load
// selects off loop-carried chains (loop_select_kind, on_loop_cycle).
#include <algorithm>
#include <array>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

#include "jit/opt/loop_depth.hpp"
#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

namespace {

constexpr std::size_t kMaxArmInsts = 2;
constexpr std::size_t kMaxSelects = 4;

/// Instructions worth executing on both paths: pure, cannot fault, a cycle or so each. Loads stay
/// (an unverified program's arm may read what the other path guards), and so do div/mod (slow, and
/// the x86-64 sequence branches anyway).
bool cheap(const Inst& i) {
  switch (i.op) {
    case Op::Const: case Op::Copy: case Op::MovSx: case Op::Zext32: case Op::Unary: case Op::Select: case Op::Rotate:
      return true;
    case Op::Alu:
      return i.kind != isa::Kind::Div && i.kind != isa::Kind::SDiv && i.kind != isa::Kind::Mod &&
             i.kind != isa::Kind::SMod;
    default:
      return false;
  }
}

/// An arm of `from`: its only predecessor is `from`, it ends in a jump, and the rest is at most
/// kMaxArmInsts cheap instructions (no phis: one predecessor).
bool is_arm(const Function& fn, BlockId arm, BlockId from) {
  const Block& blk = fn.blocks[arm];
  if (arm == from || blk.preds.size() != 1 || blk.preds[0] != from || blk.succs.size() != 1) return false;
  std::array<ValueId, kMaxArmInsts + 1> insts;  // the live ones (no allocation per candidate arm)
  std::size_t n = 0;
  for (auto id : blk.insts)
    if (!fn.values[id].dead) {
      if (n == insts.size()) return false;
      insts[n++] = id;
    }
  if (n == 0 || fn.values[insts[n - 1]].op != Op::Jmp) return false;
  return std::all_of(insts.begin(), insts.begin() + n - 1, [&](ValueId id) { return cheap(fn.values[id]); });
}

/// True when v is a Select's result, directly or through copies, one-argument phis (a converted
/// join) and up to two cheap operations (log2_fold: a shift amount made from a select). A compare
/// reading a select waits for it: a chain of dependent selects (log2's binary search on the bits,
/// each step testing the value the last one chose) runs serially at the compare-and-cmov latency
/// per step, where predicted branches run ahead.
bool reads_select(const Function& fn, ValueId v, int ops_left = 2, int hops_left = 8) {
  const Inst& i = fn.values[v];
  if (hops_left == 0) return false;
  switch (i.op) {
    case Op::Select: return true;
    case Op::Copy: return reads_select(fn, i.args[0], ops_left, hops_left - 1);
    case Op::Phi: return i.args.size() == 1 && reads_select(fn, i.args[0], ops_left, hops_left - 1);
    case Op::Alu: case Op::Unary: case Op::MovSx: case Op::Zext32: case Op::Rotate:
      return ops_left > 0 && std::any_of(i.args.begin(), i.args.end(), [&](ValueId a) {
        return reads_select(fn, a, ops_left - 1, hops_left - 1);
      });
    default: return false;
  }
}

/// Per value, the instructions that read it, in one flat array (stale entries only make
/// feeds_compare more careful). Built once per round, and only once a diamond gets that far.
class Users {
 public:
  explicit Users(const Function& fn) : start_(fn.values.size() + 1, 0) {
    for (const Inst& i : fn.values)
      if (!i.dead)
        for (auto a : i.args)
          if (a < fn.values.size()) ++start_[a + 1];
    for (std::size_t v = 1; v < start_.size(); ++v) start_[v] += start_[v - 1];
    list_.resize(start_.back());
    std::vector<std::uint32_t> next(start_.begin(), start_.end() - 1);
    for (ValueId id = 0; id < fn.values.size(); ++id)
      if (!fn.values[id].dead)
        for (auto a : fn.values[id].args)
          if (a < fn.values.size()) list_[next[a]++] = id;
  }
  std::size_t size() const { return start_.size() - 1; }
  std::span<const ValueId> of(ValueId v) const { return {list_.data() + start_[v], list_.data() + start_[v + 1]}; }

 private:
  std::vector<std::uint32_t> start_;
  std::vector<ValueId> list_;
};

/// The other direction of reads_select: true when v reaches a comparison of a Branch or Select
/// through copies, phis (a loop head's too: the next iteration's test) and up to two cheap
/// operations. A select there would put its compare and cmov on the path into that comparison,
/// where a predicted branch lets the next one run ahead: log2_fold's `(v > 0xFFFF) << 4` feeding
/// the next step's shift and test (every step a select or every other one: 1.11-1.27x the
/// baseline), binary_search's `found` flag tested at the top of the next iteration (1.14x).
bool feeds_compare(const Function& fn, const Users& users, ValueId v, int ops_left = 2, int hops_left = 8) {
  if (hops_left == 0 || v >= users.size()) return false;
  for (auto u : users.of(v)) {
    const Inst& i = fn.values[u];
    if (i.dead) continue;
    switch (i.op) {
      case Op::Branch: case Op::Select:
        if (i.args[0] == v || i.args[1] == v) return true;
        break;
      case Op::Copy: case Op::Phi:
        if (feeds_compare(fn, users, u, ops_left, hops_left - 1)) return true;
        break;
      case Op::Alu: case Op::Unary: case Op::MovSx: case Op::Zext32: case Op::Rotate:
        if (ops_left > 0 && feeds_compare(fn, users, u, ops_left - 1, hops_left - 1)) return true;
        break;
      default: break;
    }
  }
  return false;
}

/// True when `phi` (a join's phi inside a loop) may be among the values `from` depend on — through
/// any instruction's operands, a loop head's phis included — so that a select in its place would
/// sit on a loop-carried chain: `hits = bit ? hits + 1 : hits` (bitmap), `acc = c > acc ? ...`
/// (signed). Each iteration's cmov would then wait for its compare's operands, where a predicted
/// branch lets the chain run ahead. Values in blocks outside loops (depth 0) cannot depend on it. A
/// walk longer than kMaxWalk values says yes (the branch stays).
bool on_loop_cycle(const Function& fn, std::span<const std::uint32_t> depth, ValueId phi,
                   std::initializer_list<ValueId> from) {
  constexpr std::size_t kMaxWalk = 256;
  std::vector<ValueId> stack(from), seen;
  while (!stack.empty()) {
    const ValueId v = stack.back();
    stack.pop_back();
    if (v == phi) return true;
    if (v >= fn.values.size() || depth[fn.values[v].block] == 0 ||
        std::find(seen.begin(), seen.end(), v) != seen.end())
      continue;
    if (seen.size() == kMaxWalk) return true;
    seen.push_back(v);
    for (auto a : fn.values[v].args) stack.push_back(a);
  }
  return false;
}

/// Inside a loop only two kinds of select (each measured on bench/, interleaved runs): a min/max —
/// the chosen values are the compare's own operands (saturate's `s > 255 ? 255 : s`, a random
/// branch: 217-224 -> 126-128 ns, native C 116) — and a choice of two constants on a compare of a
/// load with a loop-invariant value or a constant (rank's `found += table[k] < key`: 2112-2160 ->
/// 1503-1524 ns). Other selects there ran slower: bitmap's setcc on `bits[i] & bit` (a load the loop
/// stores to) 1.10x, log2's on a computed value 1.10x, branches' `v & 1 ? 0 : v << 3` (the same
/// condition still branches next to it) 1.07x.
bool loop_select_kind(const Function& fn, std::span<const std::uint32_t> depth, BlockId b, const Inst& compare,
                      ValueId x, ValueId y) {
  const ValueId l = compare.args[0], r = compare.args[1];
  if ((x == l && y == r) || (x == r && y == l)) return true;
  if (!fn.is_const(x) || !fn.is_const(y)) return false;
  const auto invariant = [&](ValueId v) { return fn.is_const(v) || depth[fn.values[v].block] < depth[b]; };
  return (fn.values[l].op == Op::Load && invariant(r)) || (fn.values[r].op == Op::Load && invariant(l));
}

std::size_t index_of(std::span<const BlockId> preds, BlockId b) {
  return static_cast<std::size_t>(std::find(preds.begin(), preds.end(), b) - preds.begin());
}

/// Converts the branch ending `b`, if it heads a small diamond or triangle. True when it did.
bool convert(Function& fn, std::optional<Users>& users, std::span<const std::uint32_t> depth, BlockId b) {
  auto& insts = fn.blocks[b].insts;
  if (insts.empty() || fn.values[insts.back()].op != Op::Branch || fn.blocks[b].succs.size() != 2) return false;
  const BlockId taken = fn.blocks[b].succs[0], fall = fn.blocks[b].succs[1];
  if (taken == fall) return false;
  const Inst& compare = fn.values[insts.back()];
  if (reads_select(fn, compare.args[0]) || reads_select(fn, compare.args[1])) return false;
  const bool taken_arm = is_arm(fn, taken, b), fall_arm = is_arm(fn, fall, b);
  // The block each side reaches the join from, and the join.
  BlockId taken_edge = taken, fall_edge = fall, join = 0;
  if (taken_arm && fall_arm && fn.blocks[taken].succs[0] == fn.blocks[fall].succs[0]) {
    join = fn.blocks[taken].succs[0];
  } else if (taken_arm && fn.blocks[taken].succs[0] == fall) {
    join = fall, fall_edge = b;
  } else if (fall_arm && fn.blocks[fall].succs[0] == taken) {
    join = taken, taken_edge = b;
  } else {
    return false;
  }
  if (join == b) return false;
  auto& preds = fn.blocks[join].preds;
  if (std::count(preds.begin(), preds.end(), taken_edge) != 1 || std::count(preds.begin(), preds.end(), fall_edge) != 1)
    return false;
  const std::size_t kt = index_of(preds, taken_edge), kf = index_of(preds, fall_edge);
  std::vector<ValueId> phis;
  for (auto id : fn.blocks[join].insts) {
    if (fn.values[id].dead) continue;
    if (fn.values[id].op != Op::Phi) break;
    phis.push_back(id);
  }
  if (phis.size() > kMaxSelects) return false;
  for (auto phi : phis)
    if (fn.values[phi].args[kt] != fn.values[phi].args[kf]) {
      if (!users) users.emplace(fn);
      if (feeds_compare(fn, *users, phi)) return false;
      const Inst& p = fn.values[phi];
      if (depth[b] > 0 && (!loop_select_kind(fn, depth, b, compare, p.args[kt], p.args[kf]) ||
                           on_loop_cycle(fn, depth, phi, {compare.args[0], compare.args[1], p.args[kt], p.args[kf]})))
        return false;
    }

  // The arms' instructions move in front of the branch; their blocks are left empty and unreachable.
  const ValueId branch = insts.back();
  insts.pop_back();
  for (BlockId arm : {taken, fall}) {
    if (arm == join) continue;
    for (auto id : fn.blocks[arm].insts) {
      Inst& i = fn.values[id];
      if (i.dead) continue;
      if (i.op == Op::Jmp) {
        i.dead = true;
        continue;
      }
      i.block = b;
      insts.push_back(id);
    }
    fn.blocks[arm].insts.clear();
    fn.blocks[arm].preds.clear();
    fn.blocks[arm].succs.clear();
  }
  // Each phi: its two incoming values become one Select on the edge b -> join.
  const Inst cond = fn.values[branch];
  std::vector<BlockId> new_preds;
  for (std::size_t k = 0; k < preds.size(); ++k)
    if (k != kt && k != kf) new_preds.push_back(preds[k]);
  new_preds.push_back(b);
  for (auto phi : phis) {
    Inst sel{.op = Op::Select, .kind = cond.kind, .width = cond.width, .pc = cond.pc};
    sel.args = {cond.args[0], cond.args[1], fn.values[phi].args[kt], fn.values[phi].args[kf]};
    sel.block = b;
    fn.values.push_back(std::move(sel));
    const auto sid = static_cast<ValueId>(fn.values.size() - 1);
    insts.push_back(sid);
    auto& args = fn.values[phi].args;
    std::vector<ValueId> new_args;
    for (std::size_t k = 0; k < args.size(); ++k)
      if (k != kt && k != kf) new_args.push_back(args[k]);
    if (args[kt] == args[kf]) {  // no choice on this phi: its value reaches the join either way
      fn.values[sid].dead = true;
      new_args.push_back(args[kt]);
    } else {
      new_args.push_back(sid);
    }
    args = std::move(new_args);
  }
  preds = std::move(new_preds);
  // The branch becomes the jump to the join.
  Inst& jmp = fn.values[branch];
  jmp.op = Op::Jmp;
  jmp.args.clear();
  insts.push_back(branch);
  fn.blocks[b].succs = {join};
  return true;
}

}  // namespace

std::uint32_t select_small_diamonds(Function& fn) {
  std::uint32_t converted = 0;
  // Branches inside loops mostly stay branches: there a predicted branch lets the next iterations
  // run ahead while a select puts its compare on the path of the chosen value (bench/README.md
  // "Slower than the baseline": bitmap 1.16-1.30x the baseline with a cmov/setcc on a bit read back
  // from memory; binary_search and log2_fold as in feeds_compare). Only loop_select_kind's two kinds
  // convert there, and only off loop-carried chains (on_loop_cycle).
  std::vector<BlockId> order(fn.blocks.size());
  for (BlockId b = 0; b < order.size(); ++b) order[b] = b;  // the allocator's order, before edge splitting
  const auto depth = loop_depths(fn, order);
  // A converted diamond may make its branching block the arm of an enclosing one: repeat until
  // nothing changes (each round removes a branch, so this ends).
  for (bool changed = true; changed;) {
    changed = false;
    std::optional<Users> users;  // built by the first diamond that needs it
    for (BlockId b = 0; b < fn.blocks.size(); ++b)
      if (convert(fn, users, depth, b)) changed = true, ++converted;
  }
  if (converted) remove_trivial_phis(fn);
  return converted;
}

}  // namespace bpfvm::jit::opt
