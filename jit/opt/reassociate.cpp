// Reassociation of loop-carried chains: inside a loop, a chain of one associative and commutative
// operation (add, xor, or, and; one width) whose inner nodes each have one reader, in one block,
// adds its operands in the order clang wrote them — `acc += b0; acc += b1; acc += b2; acc += b3` is
// four operations on the loop-carried value per iteration (held-out load_byte: one cycle per byte).
// When exactly one operand of the chain is its own carried value (a loop head's phi the chain's
// result goes back to, or the previous unrolled copy's result), the other operands are combined first
// and the carried one last: `acc + (((b0 + b1) + b2) + b3)`, one operation on the carried path. Else,
// when all operands but one are loop-invariant, that one goes last (`p + i + 36` -> `(p + 36) + i`,
// which LICM then hoists: bench/'s checksum). A chain reading another chain's phi keeps its order
// (spill16: reading it last only lengthened its life, 13 -> 24 spills). Exact: these operations are
// associative and commutative modulo 2^64 (2^32 for 32-bit ones, whose results are zero-extended low
// halves of the same sums). Each new node sits right after the operand it adds (the first two
// together), so no other operand lives longer than before; the chain's result keeps its value id
// and its place.
#include <algorithm>
#include <vector>

#include "jit/opt/loop_depth.hpp"
#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

namespace {

using isa::Kind;

bool associative(const Inst& i) {
  return i.op == Op::Alu && !i.dead &&
         (i.kind == Kind::Add || i.kind == Kind::Xor || i.kind == Kind::Or || i.kind == Kind::And);
}

bool same_operation(const Inst& a, const Inst& b) { return associative(b) && a.kind == b.kind && a.width == b.width; }

constexpr std::size_t kMaxLeaves = 64;  // a longer chain keeps its order (bounded work per chain)

class Reassociator {
 public:
  explicit Reassociator(Function& fn)
      : fn_(fn), uses_(fn.values.size(), 0), pos_(fn.values.size(), -1), inner_(fn.values.size(), false) {
    continues_.assign(fn.values.size(), false);
    for (const auto& i : fn.values)
      if (!i.dead)
        for (auto a : i.args) {
          ++uses_[a];
          if (associative(i) && same_operation(i, fn.values[a]) && fn.values[a].block != i.block) continues_[a] = true;
        }
    std::vector<BlockId> order(fn.blocks.size());
    for (BlockId b = 0; b < order.size(); ++b) order[b] = b;
    depth_ = loop_depths(fn, order);
    loop_head_.assign(fn.blocks.size(), false);
    for (BlockId b = 0; b < fn.blocks.size(); ++b)
      for (auto p : fn.blocks[b].preds)
        if (p >= b) loop_head_[b] = true;
  }

  std::uint32_t run() {
    std::uint32_t changed = 0;
    for (BlockId b = 0; b < fn_.blocks.size(); ++b)
      if (depth_[b] != 0) changed += run_block(b);
    return changed;
  }

 private:
  /// True when `v`, read by the chain of `root`, is a node of it: the same operation in the same
  /// block, read only there.
  bool interior(ValueId v, const Inst& root) const {
    const Inst& i = fn_.values[v];
    return same_operation(root, i) && i.block == root.block && uses_[v] == 1;
  }

  /// Defined outside every loop around block b (a constant, or in a block of fewer loops).
  bool invariant(ValueId v, BlockId b) const {
    const Inst& i = fn_.values[v];
    return i.op == Op::Const || i.op == Op::FramePtr || depth_[i.block] < depth_[b];
  }

  /// The chain's own carried value: a loop head's phi the chain's result `root` goes back to (or, in
  /// an unrolled copy, goes on to the next copy's chain: the same operation in another block, read
  /// only there), or the previous copy's result (the same operation in another block, read only
  /// here, and computed in the loop). A chain reading another chain's phi (spill16's `v[k] * c + (w >> k) + v[k + 1]`) keeps
  /// its order: reading that phi last would only lengthen its life (more spills, measured).
  bool carried(ValueId v, ValueId root) const {
    const Inst& i = fn_.values[v];
    const Inst& r = fn_.values[root];
    if (i.op == Op::Phi) {
      if (!loop_head_[i.block]) return false;
      if (std::find(i.args.begin(), i.args.end(), root) != i.args.end()) return true;
      return uses_[root] == 1 && continues_[root];
    }
    return same_operation(r, i) && i.block != r.block && uses_[v] == 1 && !invariant(v, r.block);
  }

  std::uint32_t run_block(BlockId b) {
    const auto& insts = fn_.blocks[b].insts;
    for (std::size_t k = 0; k < insts.size(); ++k) pos_[insts[k]] = static_cast<std::int64_t>(k);
    // A root: an operation with no reader that makes it an inner node of a chain.
    for (auto u : insts)
      for (auto a : fn_.values[u].args)
        if (associative(fn_.values[u]) && interior(a, fn_.values[u])) inner_[a] = true;
    std::vector<ValueId> roots;
    for (auto id : insts)
      if (associative(fn_.values[id]) && !inner_[id]) roots.push_back(id);
    for (auto id : insts) inner_[id] = false;
    std::uint32_t changed = 0;
    for (auto root : roots) changed += rewrite(b, root);
    return changed;
  }

  std::uint32_t rewrite(BlockId b, ValueId root) {
    const Inst tmpl = fn_.values[root];
    std::vector<ValueId> nodes, leaves, work{root};
    while (!work.empty()) {
      const ValueId n = work.back();
      work.pop_back();
      nodes.push_back(n);
      for (auto a : fn_.values[n].args) {
        if (interior(a, tmpl)) work.push_back(a);
        else leaves.push_back(a);
      }
      if (leaves.size() > kMaxLeaves) return 0;
    }
    if (leaves.size() < 3) return 0;
    // The operand to read last: the chain's own carried value; else the only operand that varies in
    // the loop when all others are invariant (`p + i + 36` -> `(p + 36) + i`: LICM then hoists p + 36).
    auto pick = [&](auto&& last) -> ValueId {
      if (std::count_if(leaves.begin(), leaves.end(), last) != 1) return kNoValue;
      return *std::find_if(leaves.begin(), leaves.end(), last);
    };
    ValueId c = pick([&](ValueId l) { return carried(l, root); });
    if (c == kNoValue) c = pick([&](ValueId l) { return !invariant(l, b); });
    if (c == kNoValue) return 0;
    if (fn_.values[root].args[0] == c || fn_.values[root].args[1] == c) return 0;  // already last
    std::vector<ValueId> rest;
    for (auto l : leaves)
      if (l != c) rest.push_back(l);
    // Operands in the order they become available here: defined outside the block (or phis) first,
    // then by position in it.
    auto at = [&](ValueId v) {
      const Inst& i = fn_.values[v];
      return i.block == b && i.op != Op::Phi ? pos_[v] : -1;
    };
    std::stable_sort(rest.begin(), rest.end(), [&](ValueId x, ValueId y) { return at(x) < at(y); });
    // The inner nodes become the partial sums: inner[0] = rest[0] op rest[1], then inner[j - 1] =
    // inner[j - 2] op rest[j], each placed right after rest[j]; the root = the last one op c.
    std::vector<ValueId> inner(nodes.begin() + 1, nodes.end());  // nodes[0] is the root
    for (std::size_t j = 1; j < rest.size(); ++j) {
      fn_.values[inner[j - 1]].args = {j == 1 ? rest[0] : inner[j - 2], rest[j]};
      inner_[inner[j - 1]] = true;
    }
    fn_.values[root].args = {rest.size() == 1 ? rest[0] : inner[rest.size() - 2], c};
    auto& insts = fn_.blocks[b].insts;
    std::vector<ValueId> placed;
    placed.reserve(insts.size());
    std::size_t next = 1;  // the next rest[j] whose partial sum is to be placed
    auto place_after = [&](std::int64_t position) {
      for (; next < rest.size() && at(rest[next]) <= position; ++next) placed.push_back(inner[next - 1]);
    };
    for (auto id : insts) {
      if (inner_[id]) continue;
      if (fn_.values[id].op != Op::Phi) place_after(-1);
      placed.push_back(id);
      if (fn_.values[id].op != Op::Phi) place_after(pos_[id]);
    }
    for (auto n : inner) inner_[n] = false;
    insts = std::move(placed);
    for (std::size_t k = 0; k < insts.size(); ++k) pos_[insts[k]] = static_cast<std::int64_t>(k);
    return 1;
  }

  Function& fn_;
  std::vector<std::uint32_t> uses_;
  std::vector<std::int64_t> pos_;  // position in its block (run_block's block)
  std::vector<bool> continues_;    // read by the same operation in another block (a next copy's chain)
  std::vector<bool> inner_;        // scratch: run_block's inner nodes, rewrite's nodes being placed
  std::vector<std::uint32_t> depth_;
  std::vector<bool> loop_head_;
};

}  // namespace

std::uint32_t reassociate_carried_chains(Function& fn) {
  // Straight-line code (no back edge) has no loop chain: no per-value work (compile time).
  for (BlockId b = 0; b < fn.blocks.size(); ++b)
    for (auto p : fn.blocks[b].preds)
      if (p >= b) return Reassociator(fn).run();
  return 0;
}

}  // namespace bpfvm::jit::opt
