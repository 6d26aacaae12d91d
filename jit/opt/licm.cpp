// Loop-invariant code motion: a pure operation inside a loop (ALU, extension, byte swap) whose
// operands are all defined outside it moves to the end of the loop's preheader, so it runs once
// per entry into the loop instead of once per iteration; a wide constant (beyond a sign-extended
// 32-bit immediate: x86-64's movabs, up to four MOVZ/MOVK on arm64) an operation in the loop reads
// is loaded there once into a register (Op::ConstInReg). Loops are the allocator's: a back edge
// p -> h has h at or before p in block order (loop_depth.cpp), and the loop is h plus the blocks
// reaching p without passing h. Only loops with a single entry (h) and one predecessor outside
// them are touched; that predecessor is the preheader. It may have a second successor (a guard
// skipping the loop): the moved operations are pure and cannot fault, so running them there is
// safe. A load (with PassSet::licm_loads) moves too when no store, atomic or call in the loop may
// alias it (memory_alias.hpp), it is in the loop's head with only pure operations before it there,
// and it reads what the head would read on every path from the preheader: the preheader's one
// successor is the head (the loop runs at least once), or the address is a constant inside a frame
// (always mapped). Checked loads stay where they are. A moved value occupies a register through the whole loop, so hoisting
// stops where an estimate of the loop's register pressure would exceed what a backend has.
#include <algorithm>
#include <optional>

#include "jit/opt/memory_alias.hpp"
#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

namespace {

// Registers a loop may keep busy (x86-64 allocates 13; a little headroom for the body's
// temporaries), and those surviving a helper call (x86-64's callee-saved rbx, rbp, r12-r15).
constexpr std::uint32_t kLoopRegisterBudget = 11;
constexpr std::uint32_t kLoopRegisterBudgetWithCall = 5;
// Registers the loop's own short-lived values need at its busiest point (a guess: swar's body holds
// four; with 2, two of its four loaded constants were spilled and the loop ran slower).
constexpr std::uint32_t kBodyTemporaries = 4;

/// Constants no instruction takes as an immediate on either backend.
bool wide(const Inst& c) { return c.op == Op::Const && c.imm != static_cast<std::int32_t>(c.imm); }

/// Operations whose constant operands a backend would otherwise materialize on every execution
/// (not calls: their arguments are moved into argument registers anyway).
bool reads_constants(const Inst& i) {
  return i.op == Op::Alu || i.op == Op::Branch || i.op == Op::Select || i.op == Op::Store;
}

bool movable(const Inst& i) {
  switch (i.op) {
    case Op::Alu: case Op::MovSx: case Op::Unary: case Op::Zext32: case Op::Select: case Op::Rotate: return true;
    default: return false;
  }
}

/// Values that occupy a location (constants and frame pointers do not).
bool has_location(const Function& fn, ValueId v) {
  const Op op = fn.values[v].op;
  return op != Op::Const && op != Op::FramePtr;
}

class LoopHoister {
 public:
  LoopHoister(Function& fn, bool loads, const VerifierFacts& facts)
      : fn_(fn), in_loop_(fn.blocks.size(), kNone), uses_(fn.values.size(), 0), uses_inside_(fn.values.size(), 0) {
    if (loads) alias_.emplace(fn, facts);
    for (const auto& i : fn.values)
      if (!i.dead)
        for (auto a : i.args) ++uses_[a];
  }

  std::uint32_t run() {
    std::uint32_t moved = 0;
    // Inner loops first (a nested head comes after its outer loop's): what an inner loop moves to its
    // preheader, inside the outer loop, may move on to the outer preheader; a constant is loaded
    // before the innermost loop reading it, whose pressure estimate is the one that matters.
    for (auto h = static_cast<BlockId>(fn_.blocks.size()); h-- > 0;) moved += hoist_from_loop(h);
    return moved;
  }

 private:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  bool inside(BlockId b, BlockId h) const { return in_loop_[b] == h; }

  /// Marks the loop headed by h; false when h heads none.
  bool mark_loop(BlockId h, std::vector<BlockId>& body) {
    std::vector<BlockId> work;
    for (auto p : fn_.blocks[h].preds)
      if (p >= h) work.push_back(p);
    if (work.empty()) return false;
    in_loop_[h] = h;
    body.push_back(h);
    while (!work.empty()) {
      const BlockId b = work.back();
      work.pop_back();
      if (in_loop_[b] == h) continue;
      in_loop_[b] = h;
      body.push_back(b);
      for (auto q : fn_.blocks[b].preds) work.push_back(q);
    }
    std::sort(body.begin(), body.end());  // block order: definitions before their uses, but phis
    return true;
  }

  std::uint32_t hoist_from_loop(BlockId h) {
    std::vector<BlockId> body;
    if (!mark_loop(h, body)) return 0;
    // One entry: only h has predecessors outside the loop, and exactly one, placed before h; no
    // block of the loop before h. Then every path into the loop passes the preheader and h.
    BlockId preheader = kNone;
    if (body.front() != h) return 0;
    for (auto b : body)
      for (auto p : fn_.blocks[b].preds) {
        if (inside(p, h)) continue;
        if (b != h || preheader != kNone || p > h) return 0;
        preheader = p;
      }
    if (preheader == kNone) return 0;

    // Pressure estimate: values defined outside and read inside, the head's phis (loop-carried),
    // and a helper call in the loop leaves only the registers that survive it.
    std::uint32_t pressure = kBodyTemporaries;
    bool calls = false;
    std::vector<ValueId> live_in;
    for (auto b : body)
      for (auto id : fn_.blocks[b].insts) {
        const Inst& i = fn_.values[id];
        if (i.dead) continue;
        calls = calls || i.op == Op::Call || i.op == Op::TailCall;
        if (i.op == Op::Phi && b == h) {
          ++pressure;
          continue;  // its arguments arrive at the ends of predecessors
        }
        for (auto a : i.args) {
          if (uses_inside_[a]++ == 0 && !inside(fn_.values[a].block, h) && has_location(fn_, a)) live_in.push_back(a);
        }
      }
    pressure += static_cast<std::uint32_t>(live_in.size());
    const std::uint32_t budget = calls ? kLoopRegisterBudgetWithCall : kLoopRegisterBudget;

    std::vector<ValueId> effects;  // what may write memory in the loop
    if (alias_)
      for (auto b : body)
        for (auto id : fn_.blocks[b].insts)
          if (!fn_.values[id].dead && !is_pure(fn_.values[id]) && fn_.values[id].op != Op::Load) effects.push_back(id);
    bool head_pure = true;  // only pure operations so far in h
    std::uint32_t moved = 0;
    for (auto b : body) {
      for (auto id : fn_.blocks[b].insts) {
        Inst& i = fn_.values[id];
        if (i.dead) continue;
        const bool load = b == h && head_pure && i.op == Op::Load && hoistable_load(id, preheader, effects);
        if (b == h && i.block == h && !is_pure(i)) head_pure = false;
        if (!movable(i) && !load) continue;
        // Constants and frame pointers have no location: invariant wherever they were defined.
        if (!std::all_of(i.args.begin(), i.args.end(),
                         [&](ValueId a) { return !has_location(fn_, a) || !inside(fn_.values[a].block, h); }))
          continue;
        // The moved value stays live through the loop; an operand read nowhere else after the move
        // (no other use inside, none outside but this) no longer is.
        std::uint32_t freed = 0;
        for (auto a : i.args)
          if (has_location(fn_, a) && uses_inside_[a] == 1 && uses_[a] == 1) ++freed;
        if (pressure + 1 - freed > budget && freed == 0) continue;
        pressure = pressure + 1 - freed;
        for (auto a : i.args) --uses_inside_[a];
        i.block = preheader;
        auto& pre = fn_.blocks[preheader].insts;
        pre.insert(pre.end() - 1, id);
        ++moved;
      }
    }
    moved += load_wide_constants(body, preheader, budget, pressure);
    for (auto b : body) {
      auto& insts = fn_.blocks[b].insts;
      std::erase_if(insts, [&](ValueId id) { return fn_.values[id].block != b; });
      for (auto id : insts)
        for (auto a : fn_.values[id].args) uses_inside_[a] = 0;
    }
    for (auto id : fn_.blocks[preheader].insts)
      for (auto a : fn_.values[id].args) uses_inside_[a] = 0;
    // Blocks of this loop stay marked with h; an outer loop re-marks them with its own head.
    return moved;
  }

  /// A load in the loop's head (only pure operations before it) that reads the same on every path
  /// from the preheader: nothing in the loop may write what it reads, and running it there cannot
  /// fault (the head always follows the preheader, or the address is a constant inside a frame).
  bool hoistable_load(ValueId id, BlockId preheader, const std::vector<ValueId>& effects) const {
    const Inst& i = fn_.values[id];
    if (!alias_ || i.checked) return false;
    const bool always_entered = fn_.blocks[preheader].succs.size() == 1;
    const Inst& base = fn_.values[i.args[0]];
    const bool in_frame = base.op == Op::FramePtr && index_of(i) == kNoValue && i.off >= -512 && i.off + i.bits <= 0;
    if (!always_entered && !in_frame) return false;
    return std::none_of(effects.begin(), effects.end(), [&](ValueId e) { return alias_->may_clobber(e, id); });
  }

  /// Wide constants read by operations left in the loop: one ConstInReg each in the preheader, while
  /// the pressure estimate allows.
  std::uint32_t load_wide_constants(const std::vector<BlockId>& body, BlockId preheader,
                                    std::uint32_t budget, std::uint32_t pressure) {
    std::vector<std::pair<std::int64_t, ValueId>> loaded;  // constant -> its ConstInReg
    std::uint32_t added = 0;
    for (auto b : body)
      for (std::size_t k = 0; k < fn_.blocks[b].insts.size(); ++k) {
        const ValueId id = fn_.blocks[b].insts[k];
        if (fn_.values[id].dead || fn_.values[id].block != b || !reads_constants(fn_.values[id])) continue;
        for (std::size_t n = 0; n < fn_.values[id].args.size(); ++n) {
          const ValueId a = fn_.values[id].args[n];
          if (!wide(fn_.values[a])) continue;
          const std::int64_t c = fn_.values[a].imm;
          auto at = std::find_if(loaded.begin(), loaded.end(), [&](const auto& e) { return e.first == c; });
          if (at == loaded.end()) {
            if (pressure + 1 > budget) continue;
            ++pressure;
            Inst load{.op = Op::ConstInReg, .imm = c, .pc = fn_.values[id].pc};
            const ValueId r = fn_.add(preheader, load);  // appended after the terminator: moved below
            auto& pre = fn_.blocks[preheader].insts;
            std::swap(pre[pre.size() - 1], pre[pre.size() - 2]);
            uses_.push_back(0);
            uses_inside_.push_back(0);
            loaded.push_back({c, r});
            at = loaded.end() - 1;
            ++added;
          }
          fn_.values[id].args[n] = at->second;
        }
      }
    return added;
  }

  Function& fn_;
  std::optional<MemoryAlias> alias_;  // with loads only
  std::vector<BlockId> in_loop_;
  std::vector<std::uint32_t> uses_, uses_inside_;
};

}  // namespace

std::uint32_t hoist_loop_invariants(Function& fn) { return LoopHoister(fn, false, VerifierFacts{}).run(); }

std::uint32_t hoist_loop_invariants(Function& fn, bool loads, const VerifierFacts& facts) {
  return LoopHoister(fn, loads, facts).run();
}

}  // namespace bpfvm::jit::opt
