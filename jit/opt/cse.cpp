// Common subexpression elimination over the dominator tree (global value numbering of pure
// operations): an ALU operation, extension, byte swap or select whose operation and operands equal
// one that dominates it becomes a copy of that one. Constants are numbered by value first (they have
// no location, so any copy of one stands for all). Loads are left alone: a store, helper call or
// atomic between two loads may change memory, and a checked load must stay where it is.
#include <algorithm>
#include <array>
#include <unordered_map>

#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

namespace {

// Numbered operations have at most four operands (Select); unused ones stay kNoValue. A fixed array
// keeps keys free of allocations.
struct Key {
  Op op;
  isa::Kind kind;
  std::uint8_t width, bits;
  std::array<ValueId, 4> args;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  std::size_t operator()(const Key& k) const {
    std::size_t h = static_cast<std::size_t>(k.op) * 131 + static_cast<std::size_t>(k.kind);
    h = h * 131 + k.width * 7u + k.bits;
    for (auto a : k.args) h = h * 1000003u + a;
    return h;
  }
};

bool numbered(const Inst& i) {
  switch (i.op) {
    case Op::Alu: case Op::MovSx: case Op::Unary: case Op::Zext32: case Op::Select: return true;
    default: return false;
  }
}

bool commutative(const Inst& i) {
  using isa::Kind;
  return i.op == Op::Alu &&
         (i.kind == Kind::Add || i.kind == Kind::Mul || i.kind == Kind::And || i.kind == Kind::Or || i.kind == Kind::Xor);
}

/// Blocks reachable from the entry in reverse post-order.
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

/// Immediate dominators (Cooper, Harvey, Kennedy: "A Simple, Fast Dominance Algorithm"), by block;
/// the entry's is itself, unreachable blocks' UINT32_MAX.
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

}  // namespace

std::uint32_t eliminate_common_subexpressions(Function& fn) {
  const auto rpo = reverse_post_order(fn);
  const auto idom = immediate_dominators(fn, rpo);
  std::vector<std::vector<BlockId>> children(fn.blocks.size());
  for (std::size_t i = 1; i < rpo.size(); ++i) children[idom[rpo[i]]].push_back(rpo[i]);

  // What each value is replaced by (itself unless an equal one dominates it).
  std::vector<ValueId> same(fn.values.size());
  for (ValueId v = 0; v < same.size(); ++v) same[v] = v;
  std::unordered_map<std::int64_t, ValueId> constants;
  for (ValueId v = 0; v < fn.values.size(); ++v)
    if (const Inst& i = fn.values[v]; !i.dead && i.op == Op::Const) same[v] = constants.try_emplace(i.imm, v).first->second;

  std::unordered_map<Key, ValueId, KeyHash> available;
  available.reserve(fn.values.size());  // no rehashing on large straight-line programs
  std::vector<std::vector<Key>> added(fn.blocks.size());  // keys a block made available, removed on leaving it
  std::uint32_t replaced = 0;
  // Dominator-tree preorder; a block is left (its keys withdrawn) after all its children.
  std::vector<std::pair<BlockId, bool>> walk{{0, false}};
  while (!walk.empty()) {
    const auto [b, leaving] = walk.back();
    walk.pop_back();
    if (leaving) {
      for (const auto& k : added[b]) available.erase(k);
      added[b].clear();
      continue;
    }
    walk.push_back({b, true});
    for (auto c : children[b]) walk.push_back({c, false});
    for (auto id : fn.blocks[b].insts) {
      const Inst& i = fn.values[id];
      if (i.dead || !numbered(i)) continue;
      Key key{i.op, i.kind, i.width, i.bits, {kNoValue, kNoValue, kNoValue, kNoValue}};
      for (std::size_t k = 0; k < i.args.size() && k < key.args.size(); ++k) key.args[k] = same[i.args[k]];
      if (commutative(i)) std::sort(key.args.begin(), key.args.begin() + 2);
      const auto [at, fresh] = available.try_emplace(key, id);
      if (fresh) {
        added[b].push_back(key);
      } else {
        same[id] = at->second;
        ++replaced;
      }
    }
  }
  for (ValueId v = 0; v < fn.values.size(); ++v)
    if (same[v] != v) {
      fn.values[v].op = Op::Copy;
      fn.values[v].args = {same[v]};
    }
  propagate_copies(fn);
  return replaced;
}

}  // namespace bpfvm::jit::opt
