// Common subexpression elimination over the dominator tree (global value numbering of pure
// operations): an ALU operation, extension, byte swap or select whose operation and operands equal
// one that dominates it becomes a copy of that one. Constants are numbered by value first (they have
// no location, so any copy of one stands for all). Phis are numbered too (same block, same operand
// numbers: the same value), and a phi whose operands are all one value (or itself) is that value.
// Loads (with PassSet::cse_loads): a load of the address a dominating load read, or a dominating
// store wrote, with no store, atomic or call on any path between them that may alias it
// (memory_alias.hpp), takes that load's value or the stored one (64-bit, or 32-bit zero-extended).
// Checked loads stay where they are.
#include <algorithm>
#include <array>
#include <optional>
#include <unordered_map>

#include "jit/opt/dominators.hpp"
#include "jit/opt/memory_alias.hpp"
#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

namespace {

// Numbered operations have at most four operands (Select; phis with more are not numbered); unused
// ones stay kNoValue. A fixed array keeps keys free of allocations. `where`: a load's displacement
// (a store is keyed as the load of what it wrote), a phi's block.
struct Key {
  Op op;
  isa::Kind kind;
  std::uint8_t width, bits;
  std::array<ValueId, 4> args;
  std::int64_t where = 0;
  bool sx = false;
  std::uint8_t scale = 0;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  std::size_t operator()(const Key& k) const {
    std::size_t h = static_cast<std::size_t>(k.op) * 131 + static_cast<std::size_t>(k.kind);
    h = h * 131 + k.width * 7u + k.bits;
    for (auto a : k.args) h = h * 1000003u + a;
    h = h * 1000003u + static_cast<std::size_t>(k.where);
    return h * 7u + k.sx * 4u + k.scale;
  }
};

bool numbered(const Inst& i) {
  switch (i.op) {
    case Op::Alu: case Op::MovSx: case Op::Unary: case Op::Zext32: case Op::Select: case Op::Rotate: return true;
    case Op::Phi: return i.args.size() <= 4;
    default: return false;
  }
}

/// Loads and stores load reuse numbers: unchecked loads, and stores (whose value a load may take).
bool numbered_access(const Inst& i) { return (i.op == Op::Load && !i.checked) || i.op == Op::Store; }

bool commutative(const Inst& i) {
  using isa::Kind;
  return i.op == Op::Alu &&
         (i.kind == Kind::Add || i.kind == Kind::Mul || i.kind == Kind::And || i.kind == Kind::Or || i.kind == Kind::Xor);
}

/// The operations numbered so far, by Key: open addressing (linear probing) in one array sized
/// for every numbered instruction, so numbering allocates nothing per key. Nothing is removed: an
/// entry made in a block the dominator-tree walk has left no longer dominates what is numbered
/// next (preorder: a finished subtree is never an ancestor again), so a lookup that finds one
/// takes its place, as if the scoped table had withdrawn it.
class KeyTable {
 public:
  struct Entry {
    Key key;
    ValueId value = kNoValue;  // kNoValue: empty
    BlockId block = 0;
  };
  explicit KeyTable(std::size_t keys) {
    std::size_t n = 16;
    while (n < 2 * keys) n *= 2;
    entries_.resize(n);
    mask_ = n - 1;
  }
  /// The entry holding `key`, or the empty one where it goes.
  Entry& slot(const Key& key) {
    std::size_t h = KeyHash{}(key);
    h ^= h >> 29;
    h *= 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
    for (std::size_t k = h & mask_;; k = (k + 1) & mask_)
      if (entries_[k].value == kNoValue || entries_[k].key == key) return entries_[k];
  }

 private:
  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
};

/// The one value a phi's numbered operands name, the phi itself aside (a loop's unchanged variable),
/// or kNoValue. That value dominates every predecessor, so it dominates the phi's block.
ValueId sole_operand(const Key& key, ValueId phi) {
  ValueId only = kNoValue;
  for (auto a : key.args) {
    if (a == kNoValue || a == phi) continue;
    if (only != kNoValue && a != only) return kNoValue;
    only = a;
  }
  return only;
}

/// The Load `id` of the low bytes of what a store of `stored` wrote at its address becomes that:
/// the constant's bytes, the value itself (8 bytes) or its zero-extended low half (4). False for a
/// narrower load of a non-constant (it stays).
bool take_stored(Function& fn, ValueId id, ValueId stored, std::vector<ValueId>& same) {
  Inst& i = fn.values[id];
  if (fn.is_const(stored)) {
    const auto bytes = static_cast<std::uint64_t>(fn.values[stored].imm);
    i.op = Op::Const;
    i.imm = static_cast<std::int64_t>(i.bits == 8 ? bytes : bytes & ((1ull << (8 * i.bits)) - 1));
    i.args.clear();
    return true;
  }
  if (i.bits == 8) {
    same[id] = stored;
    return true;
  }
  if (i.bits == 4) {
    i.op = Op::Zext32;
    i.args = {stored};
    return true;
  }
  return false;
}

/// Load reuse for the Load or Store `id` in block `b`: a load of an address a dominating load read
/// (as wide, as extended) or a dominating store wrote (as wide or wider; not for sign-extending
/// loads), with nothing between them that may alias it, takes that value (take_stored). Otherwise
/// `id` becomes the address's entry. Returns 1 when it replaced the load.
std::uint32_t reuse_load(Function& fn, const MemoryAlias& alias, KeyTable& available, std::vector<ValueId>& same,
                         ValueId id, BlockId b, const std::vector<bool>& open) {
  const Inst& i = fn.values[id];
  const ValueId index = index_of(i);
  Key key{Op::Load, isa::Kind::Add, 0, i.bits, {same[i.args[0]], index == kNoValue ? kNoValue : same[index], kNoValue,
                                                 kNoValue}};
  key.where = i.off;
  key.sx = i.op == Op::Load && i.sx;
  key.scale = i.scale;
  auto& at = available.slot(key);
  auto usable = [&](const KeyTable::Entry& e) {
    return e.value != kNoValue && open[e.block] && !alias.clobbered_between(e.value, id);
  };
  if (i.op == Op::Load && usable(at)) {
    if (fn.values[at.value].op == Op::Load) {
      same[id] = at.value;
      return 1;
    }
    if (take_stored(fn, id, same[fn.values[at.value].args[1]], same)) return 1;
  }
  if (i.op == Op::Load && !i.sx)
    for (const std::uint8_t wider : {2, 4, 8}) {
      if (wider <= i.bits) continue;
      Key wide_key = key;
      wide_key.bits = wider;
      const auto& w = available.slot(wide_key);
      if (w.value != kNoValue && fn.values[w.value].op == Op::Store && usable(w) &&
          take_stored(fn, id, same[fn.values[w.value].args[1]], same))
        return 1;
    }
  at = {key, id, b};
  return 0;
}

}  // namespace

std::uint32_t eliminate_common_subexpressions(Function& fn) {
  return eliminate_common_subexpressions(fn, false, VerifierFacts{});
}

std::uint32_t eliminate_common_subexpressions(Function& fn, bool loads, const VerifierFacts& facts) {
  const auto rpo = reverse_post_order(fn);
  const auto idom = immediate_dominators(fn, rpo);
  // Dominator-tree children, one array sliced by block (no vector per block).
  std::vector<std::uint32_t> child_start(fn.blocks.size() + 1, 0);
  for (std::size_t i = 1; i < rpo.size(); ++i) ++child_start[idom[rpo[i]] + 1];
  for (std::size_t b = 0; b < fn.blocks.size(); ++b) child_start[b + 1] += child_start[b];
  std::vector<BlockId> children(child_start.back());
  {
    std::vector<std::uint32_t> fill(child_start.begin(), child_start.end() - 1);
    for (std::size_t i = 1; i < rpo.size(); ++i) children[fill[idom[rpo[i]]]++] = rpo[i];
  }

  // What each value is replaced by (itself unless an equal one dominates it).
  std::vector<ValueId> same(fn.values.size());
  for (ValueId v = 0; v < same.size(); ++v) same[v] = v;
  std::unordered_map<std::int64_t, ValueId> constants;
  std::size_t numbered_insts = 0;
  for (ValueId v = 0; v < fn.values.size(); ++v) {
    const Inst& i = fn.values[v];
    if (!i.dead && i.op == Op::Const) same[v] = constants.try_emplace(i.imm, v).first->second;
    if (!i.dead && (numbered(i) || (loads && numbered_access(i)))) ++numbered_insts;
  }

  KeyTable available(numbered_insts);
  std::optional<MemoryAlias> alias;
  if (loads) alias.emplace(fn, facts);
  std::vector<bool> open(fn.blocks.size(), false);  // on the walk's current path: dominates the block numbered
  std::uint32_t replaced = 0;
  // Dominator-tree preorder; a block is left (its keys no longer dominate) after all its children.
  std::vector<std::pair<BlockId, bool>> walk{{0, false}};
  while (!walk.empty()) {
    const auto [b, leaving] = walk.back();
    walk.pop_back();
    if (leaving) {
      open[b] = false;
      continue;
    }
    open[b] = true;
    walk.push_back({b, true});
    // Children in reverse post-order (pushed last first): a join's forward predecessors are numbered
    // before its phis.
    for (auto c = child_start[b + 1]; c-- > child_start[b];) walk.push_back({children[c], false});
    for (auto id : fn.blocks[b].insts) {
      Inst& i = fn.values[id];
      if (i.dead) continue;
      if (loads && numbered_access(i)) {
        replaced += reuse_load(fn, *alias, available, same, id, b, open);
        continue;
      }
      if (!numbered(i)) continue;
      Key key{i.op, i.kind, i.width, i.bits, {kNoValue, kNoValue, kNoValue, kNoValue}};
      for (std::size_t k = 0; k < i.args.size() && k < key.args.size(); ++k) key.args[k] = same[i.args[k]];
      if (commutative(i)) std::sort(key.args.begin(), key.args.begin() + 2);
      if (i.op == Op::Phi) {
        key.where = b;
        if (const ValueId only = sole_operand(key, id); only != kNoValue) {
          same[id] = only;
          ++replaced;
          continue;
        }
      }
      auto& at = available.slot(key);
      if (at.value != kNoValue && open[at.block]) {
        same[id] = at.value;
        ++replaced;
      } else {
        at = {key, id, b};
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
