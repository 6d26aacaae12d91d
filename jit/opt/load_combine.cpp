// Load combining: an OR/shift tree whose leaves are zero-extending loads of adjacent bytes becomes
// one wider load. clang's BPF backend splits an unaligned `__builtin_memcpy(&w, p, 8)` into eight
// byte loads joined by `lsh 8/16/../56` and `or`, and a packet field read `p[0] << 8 | p[1]` into
// two; x86-64 and arm64 load unaligned normal memory in one instruction.
//
// A root is a live `or` (32 or 64 bits). Its tree goes through or, shift left by a constant below
// the width, 32-bit zero-extension and copies; every other value is a leaf, which must be an
// unchecked zero-extending Load of 1, 2 or 4 bytes. Leaves' addresses are reduced to one root value
// plus a constant (add/sub-constant chains, as address folding does) with the same index and scale
// when indexed. They must tile [L, L + W) without gaps or overlaps, W in {2, 4, 8}, and each leaf
// must sit where the order puts it: little-endian, shifted by 8 * (its offset - L), gives
// `Load W bytes at L`; big-endian, the byte at L + k shifted by 8 * (W - 1 - k), gives `Bswap W
// (Load W bytes at L)`. Big-endian leaves are byte loads or 2/4-byte loads under a byte swap of
// their width (`ntohs(*(u16 *)p) << 16 | ntohs(*(u16 *)(p + 2))`: the swap's bits are the leaf's). Every bit a leaf contributes must survive each node on its way
// up (a 32-bit node keeps 32 bits), so the tree's value is exactly the loaded bytes, zero-extended.
//
// Where: the root becomes the load (big-endian: the load goes right before it and the root becomes
// the swap), so the bytes are read at the root's position rather than the leaves'. Hence every leaf
// must be in the root's block with no Store, Atomic, Call, TailCall or Frames between the first leaf
// and the root (Charges may lie between: a load that cannot fault has no effect a budget error would
// show). The leaves stay; DCE removes those nothing else reads.
//
// Not combined: checked loads (a checked build's access faults at its own pc, with its own width,
// exactly as the checked interpreter's; a wide load would fault at another pc or for bytes the first
// narrow loads did not need), sign-extending loads, and loads whose address root is r1 on entry (the
// kernel ABI's context pointer: its fields are rewritten accesses to host structures, never combined).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "jit/opt/memory_alias.hpp"
#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

namespace {

constexpr std::size_t kMaxLeaves = 8;
constexpr std::size_t kMaxNodes = 32;

struct Leaf {
  ValueId id;      // the load
  unsigned shift;  // bits, relative to the root's value
  bool swapped;    // read through a byte swap of the load's whole width (its bytes in big-endian order)
};

struct Tree {
  std::vector<Leaf> leaves;
  std::vector<ValueId> nodes;  // the inner nodes, root included
  bool ok = true;
};

ValueId resolve(const Function& fn, ValueId v) {
  while (fn.values[v].op == Op::Copy) v = fn.values[v].args[0];
  return v;
}

bool const_below(const Function& fn, ValueId v, unsigned limit, unsigned& value) {
  v = resolve(fn, v);
  if (!fn.is_const(v)) return false;
  const auto c = static_cast<std::uint64_t>(fn.values[v].imm);
  if (c == 0 || c >= limit) return false;
  value = static_cast<unsigned>(c);
  return true;
}

bool is_leaf_load(const Function& fn, ValueId v) {
  const Inst& i = fn.values[v];
  return i.op == Op::Load && !i.sx && !i.checked && (i.bits == 1 || i.bits == 2 || i.bits == 4);
}

/// The load v swaps whole, when v is a 16- or 32-bit byte swap (ToBe on these little-endian hosts, or
/// Bswap; both zero-extend) of a leaf load of 2 or 4 bytes: `ntohs(*(u16 *)p)`. Else kNoValue.
ValueId swapped_load(const Function& fn, ValueId v) {
  const Inst& i = fn.values[v];
  if (i.op != Op::Unary || (i.kind != isa::Kind::ToBe && i.kind != isa::Kind::Bswap) || (i.bits != 16 && i.bits != 32))
    return kNoValue;
  const ValueId load = resolve(fn, i.args[0]);
  return is_leaf_load(fn, load) && 8u * fn.values[load].bits == i.bits ? load : kNoValue;
}

/// Collects v's tree at `shift` bits above the root's bit 0; every bit a leaf brings must stay below
/// `limit` (root-relative), the lowest end of a 32- or 64-bit node's width on the way up.
void collect(const Function& fn, ValueId v, unsigned shift, unsigned limit, Tree& tree) {
  if (!tree.ok) return;
  v = resolve(fn, v);
  const Inst& i = fn.values[v];
  const bool inner = !tree.nodes.empty();  // the root itself is always a node
  unsigned count = 0;
  if (i.op == Op::Alu && i.kind == isa::Kind::Or && (i.width == 32 || i.width == 64)) {
    if (tree.nodes.size() >= kMaxNodes) return void(tree.ok = false);
    tree.nodes.push_back(v);
    limit = std::min(limit, shift + i.width);
    collect(fn, i.args[0], shift, limit, tree);
    collect(fn, i.args[1], shift, limit, tree);
  } else if (inner && i.op == Op::Alu && i.kind == isa::Kind::Lsh && (i.width == 32 || i.width == 64) &&
             const_below(fn, i.args[1], i.width, count)) {
    if (tree.nodes.size() >= kMaxNodes) return void(tree.ok = false);
    tree.nodes.push_back(v);
    collect(fn, i.args[0], shift + count, std::min(limit, shift + i.width), tree);
  } else if (inner && i.op == Op::Zext32) {
    if (tree.nodes.size() >= kMaxNodes) return void(tree.ok = false);
    tree.nodes.push_back(v);
    collect(fn, i.args[0], shift, std::min(limit, shift + 32), tree);
  } else if (is_leaf_load(fn, v) && shift + 8u * i.bits <= limit && tree.leaves.size() < kMaxLeaves) {
    tree.leaves.push_back(Leaf{v, shift, false});
  } else if (const ValueId load = swapped_load(fn, v);
             load != kNoValue && shift + i.bits <= limit && tree.leaves.size() < kMaxLeaves) {
    tree.leaves.push_back(Leaf{load, shift, true});
  } else {
    tree.ok = false;
  }
}

struct Address {
  ValueId root = kNoValue;
  std::int64_t off = 0;
  ValueId index = kNoValue;
  std::uint8_t scale = 0;
};

Address address_of(const Function& fn, const Inst& load) {
  Address a;
  a.off = load.off;
  ValueId v = resolve(fn, load.args[0]), base = 0;
  std::int64_t delta = 0;
  while (split_constant(fn, v, base, delta)) {
    a.off += delta;
    if (a.off > kMaxFoldedDisp || a.off < -kMaxFoldedDisp) return Address{};
    v = resolve(fn, base);
  }
  a.root = v;
  if (const ValueId index = index_of(load); index != kNoValue) a.index = resolve(fn, index), a.scale = load.scale;
  return a;
}

bool is_memory_effect(Op op) {
  return op == Op::Store || op == Op::Atomic || op == Op::Call || op == Op::TailCall || op == Op::Frames;
}

class Combiner {
 public:
  explicit Combiner(Function& fn)
      : fn_(fn), position_(fn.values.size(), 0), writes_before_(fn.values.size(), 0), consumed_(fn.values.size()) {}

  std::uint32_t run() {
    std::uint32_t combined = 0;
    for (BlockId b = 0; b < fn_.blocks.size(); ++b) {
      number_block(b);
      std::vector<std::pair<std::size_t, ValueId>> inserts;  // (position in the block, new load)
      const auto& insts = fn_.blocks[b].insts;
      for (std::size_t k = insts.size(); k-- > 0;) {
        const ValueId id = insts[k];
        const Inst& i = fn_.values[id];
        if (i.dead || i.op != Op::Alu || i.kind != isa::Kind::Or) continue;
        if (consumed_[id]) continue;
        if (combine(b, id, inserts)) ++combined;
      }
      if (!inserts.empty()) {
        auto& list = fn_.blocks[b].insts;
        std::sort(inserts.begin(), inserts.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
        for (const auto& [at, load] : inserts) list.insert(list.begin() + static_cast<std::ptrdiff_t>(at), load);
      }
    }
    return combined;
  }

 private:
  void number_block(BlockId b) {
    std::uint32_t writes = 0, at = 0;
    for (const ValueId id : fn_.blocks[b].insts) {
      position_[id] = at++;
      writes_before_[id] = writes;
      if (!fn_.values[id].dead && is_memory_effect(fn_.values[id].op)) ++writes;
    }
  }

  bool combine(BlockId b, ValueId root, std::vector<std::pair<std::size_t, ValueId>>& inserts) {
    Tree tree;
    collect(fn_, root, 0, 64, tree);
    if (!tree.ok || tree.leaves.size() < 2) return false;
    const Inst& first = fn_.values[tree.leaves[0].id];
    const Address at = address_of(fn_, first);
    if (at.root == kNoValue) return false;
    if (fn_.values[at.root].op == Op::Arg && fn_.values[at.root].imm == 0) return false;  // the context

    struct Piece {
      std::int64_t off;
      unsigned bytes, shift;
      bool swapped;
    };
    std::vector<Piece> pieces;
    std::uint32_t earliest = position_[root];
    for (const Leaf& leaf : tree.leaves) {
      const Inst& load = fn_.values[leaf.id];
      if (load.block != b) return false;
      const Address a = address_of(fn_, load);
      if (a.root != at.root || a.index != at.index || a.scale != at.scale) return false;
      pieces.push_back(Piece{a.off, load.bits, leaf.shift, leaf.swapped});
      earliest = std::min(earliest, position_[leaf.id]);
    }
    std::sort(pieces.begin(), pieces.end(), [](const Piece& x, const Piece& y) { return x.off < y.off; });
    const std::int64_t low = pieces.front().off;
    std::int64_t end = low;
    for (const Piece& p : pieces) {
      if (p.off != end) return false;  // a gap or an overlap
      end += p.bytes;
    }
    const auto width = static_cast<unsigned>(end - low);
    if (width != 2 && width != 4 && width != 8) return false;
    bool little = true, big = true;
    for (const Piece& p : pieces) {
      const auto byte = static_cast<unsigned>(p.off - low);
      little = little && !p.swapped && p.shift == 8 * byte;
      // The piece's first byte lands highest: bits 8 * (width - byte) - 8 down to its last byte's.
      big = big && (p.swapped || p.bytes == 1) && p.shift == 8 * (width - p.bytes - byte);
    }
    if (!little && !big) return false;
    // The bytes are read at the root: nothing between the first leaf and it may write memory.
    const ValueId earliest_id = fn_.blocks[b].insts[earliest];
    if (writes_before_[root] != writes_before_[earliest_id]) return false;

    Inst load{.op = Op::Load, .bits = static_cast<std::uint8_t>(width), .depth = first.depth,
              .off = static_cast<std::int32_t>(low), .scale = at.scale, .pc = fn_.values[root].pc};
    load.args = {at.root};
    if (at.index != kNoValue) load.args.push_back(at.index);
    load.block = b;
    if (little) {
      Inst& r = fn_.values[root];
      const std::uint32_t pc = r.pc;
      r = load;
      r.pc = pc;
    } else {
      fn_.values.push_back(load);
      const auto id = static_cast<ValueId>(fn_.values.size() - 1);
      position_.push_back(0);
      writes_before_.push_back(0);
      consumed_.push_back(false);
      inserts.emplace_back(position_[root], id);
      Inst& r = fn_.values[root];
      r.op = Op::Unary;
      r.kind = isa::Kind::Bswap;
      r.width = r.bits = static_cast<std::uint8_t>(8 * width);
      r.args = {id};
    }
    for (const ValueId n : tree.nodes) consumed_[n] = true;
    return true;
  }

  Function& fn_;
  std::vector<std::uint32_t> position_;       // index in its block
  std::vector<std::uint32_t> writes_before_;  // memory effects earlier in its block
  std::vector<bool> consumed_;                // inner nodes of trees already combined
};

}  // namespace

std::uint32_t combine_narrow_loads(Function& fn) { return Combiner(fn).run(); }

}  // namespace bpfvm::jit::opt
