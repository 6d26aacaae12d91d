// May-alias analysis for the optimizing tier's memory accesses (memory_alias.hpp). An address is
// reduced to root + constant (+ index << scale once address folding made it indexed). Two accesses
// from one root with one index touch the same bytes only where their ranges overlap; two frames'
// constant addresses are compared exactly (frame d is 512 * d bytes below frame 0). Everything else
// may alias, except a frame whose address never escapes when the verifier proved that pointers stay
// in their frame: no other pointer, and no helper, can reach it.
#include "jit/opt/memory_alias.hpp"

#include <algorithm>

namespace bpfvm::jit::opt {

namespace {

constexpr std::int64_t kFrameBytes = 512;
// clobbered_between's search: at most this many blocks and instructions, else "may be clobbered".
constexpr std::size_t kMaxBlocks = 128;
constexpr std::size_t kMaxInsts = 4096;

bool overlap(std::int64_t a, std::int64_t a_bytes, std::int64_t b, std::int64_t b_bytes) {
  return a < b + b_bytes && b < a + a_bytes;
}

/// v's root and the constant added to it (add/sub-constant chains, at most 64 links).
ValueId root_of(const Function& fn, ValueId v, std::int64_t& off) {
  ValueId base = 0;
  std::int64_t delta = 0;
  for (int links = 0; links < 64 && split_constant(fn, v, base, delta); ++links) {
    off = static_cast<std::int64_t>(static_cast<std::uint64_t>(off) + static_cast<std::uint64_t>(delta));
    v = base;
  }
  return v;
}

bool is_access(Op op) { return op == Op::Load || op == Op::Store || op == Op::Atomic; }

}  // namespace

MemoryAlias::MemoryAlias(const Function& fn, const VerifierFacts& facts)
    : fn_(fn), in_frame_(facts.pointers_stay_in_frame), escaped_(fn.max_depth + 1, !facts.pointers_stay_in_frame) {
  if (!in_frame_) return;
  // A frame escapes through any use of an address into it but as the address of an access or the
  // base of another add/sub-constant link.
  for (ValueId id = 0; id < fn.values.size(); ++id) {
    const Inst& i = fn.values[id];
    if (i.dead) continue;
    ValueId link_base = kNoValue;
    std::int64_t delta = 0;
    if (!split_constant(fn, id, link_base, delta)) link_base = kNoValue;
    for (std::size_t k = 0; k < i.args.size(); ++k) {
      std::int64_t off = 0;
      const ValueId root = root_of(fn, i.args[k], off);
      if (!is_frame(root)) continue;
      if ((k == 0 && is_access(i.op)) || i.args[k] == link_base) continue;
      const auto depth = static_cast<std::size_t>(fn.values[root].imm);
      if (depth < escaped_.size()) escaped_[depth] = true;
      else escaped_.resize(depth + 1, true);
    }
  }
}

MemoryAlias::Address MemoryAlias::address(const Inst& access) const {
  Address a;
  a.off = access.off;
  a.root = root_of(fn_, access.args[0], a.off);
  a.index = index_of(access);
  a.scale = a.index == kNoValue ? 0 : access.scale;
  return a;
}

int MemoryAlias::private_frame(ValueId root) const {
  if (!in_frame_ || !is_frame(root)) return -1;
  const auto depth = static_cast<std::size_t>(fn_.values[root].imm);
  return depth < escaped_.size() && !escaped_[depth] ? static_cast<int>(depth) : -1;
}

bool MemoryAlias::may_clobber(ValueId effect, ValueId access) const {
  const Inst& e = fn_.values[effect];
  const Inst& x = fn_.values[access];
  switch (e.op) {
    case Op::Store: case Op::Atomic: break;
    case Op::Call: case Op::TailCall: return private_frame(address(x).root) < 0;
    case Op::Frames: return true;
    default: return false;
  }
  const Address a = address(e), b = address(x);
  if (a.root == b.root && a.index == b.index && a.scale == b.scale) return overlap(a.off, e.bits, b.off, x.bits);
  if (is_frame(a.root) && is_frame(b.root)) {
    const std::int64_t da = fn_.values[a.root].imm, db = fn_.values[b.root].imm;
    if (a.index == kNoValue && b.index == kNoValue)
      return overlap(a.off - kFrameBytes * da, e.bits, b.off - kFrameBytes * db, x.bits);
    return !in_frame_ || da == db;
  }
  if (private_frame(a.root) >= 0 || private_frame(b.root) >= 0) return false;  // the other is no frame
  return true;
}

bool MemoryAlias::clobbered_between(ValueId from, ValueId to) const {
  const BlockId from_block = fn_.values[from].block, to_block = fn_.values[to].block;
  std::vector<bool> seen(fn_.blocks.size(), false);
  std::vector<BlockId> work;
  std::size_t blocks = 0, insts = 0;
  // Scans `b` backwards from just before position `end`; true when a clobber is found. Stops at `from`.
  auto scan = [&](BlockId b, std::size_t end, bool& reached_from) {
    const auto& list = fn_.blocks[b].insts;
    for (std::size_t k = end; k-- > 0;) {
      const ValueId v = list[k];
      if (v == from) {
        reached_from = true;
        return false;
      }
      ++insts;
      if (!fn_.values[v].dead && may_clobber(v, to)) return true;
    }
    return false;
  };
  auto push_preds = [&](BlockId b) {
    for (auto p : fn_.blocks[b].preds)
      if (!seen[p]) {
        seen[p] = true;
        work.push_back(p);
      }
  };
  {
    const auto& list = fn_.blocks[to_block].insts;
    const auto at = static_cast<std::size_t>(std::find(list.begin(), list.end(), to) - list.begin());
    bool reached = false;
    if (scan(to_block, at, reached)) return true;
    if (reached) return false;
    push_preds(to_block);
  }
  while (!work.empty()) {
    const BlockId b = work.back();
    work.pop_back();
    if (++blocks > kMaxBlocks || insts > kMaxInsts) return true;
    bool reached = false;
    if (scan(b, fn_.blocks[b].insts.size(), reached)) return true;
    if (b == from_block) {
      if (!reached) return true;  // `from` dominates `to`: its block holds it
      continue;
    }
    push_preds(b);
  }
  return false;
}

}  // namespace bpfvm::jit::opt
