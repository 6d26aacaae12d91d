// Loop unrolling: a small innermost loop whose trip count the IR determines (a counter phi starting
// at a constant, stepped by a constant add, tested against a constant on every iteration) is copied
// k times (k = 4 or 2, dividing the trip count), so that the counter's test runs in the last copy
// only: it cannot leave the loop in the others. Every other exit test (a data-dependent `break`)
// stays in every copy, so each iteration does exactly what the interpreter's does. The copies' address
// arithmetic is folded by the passes after this one (address folding, load combining, CSE).
//
// The loop, in block order: a head h with two predecessors, one outside (the preheader) and the
// latch l (a back edge l -> h, l at or after h); the blocks h..l form the loop, each entered only from
// the blocks before it in the range (no inner loop), each ending in a jump or a branch whose targets
// are in the range, h from l, or exits after l. Checked accesses, budget charges, calls, atomics and
// frame switches keep a loop as it is (fast builds unroll, as load combining combines only there).
// A value of the loop read after it is read through an exit that has only loop predecessors and
// dominates the reader: that exit gets a phi of the copies' values; a reader no such exit dominates
// keeps the loop as it is.
#include <algorithm>
#include <optional>

#include "jit/opt/dominators.hpp"
#include "jit/opt/passes.hpp"
#include "vm/alu_semantics.hpp"

namespace bpfvm::jit::opt {

namespace {

using isa::Kind;

// A loop's instructions (no phis, no constants) times the factor stay within this; with 4 copies
// of at most 16 instructions every unrolled body of bench/ fits in a few cache lines.
constexpr std::uint32_t kMaxUnrolledBody = 64;
constexpr std::uint32_t kFactors[] = {4, 2};
// Instructions the copies may add to one function (compile time stays linear in the program).
constexpr std::uint32_t kMaxGrowth = 1024;
// Loops per function checked for reads after them (and unrolled).
constexpr std::uint32_t kMaxLoopsTried = 64;
// Trip counts are found by running the counter: at most this many steps per function.
constexpr std::uint32_t kMaxSimulatedSteps = 1u << 16;
// The counter's test reads the phi through at most this many constant adds.
constexpr std::size_t kMaxTestedAdds = 3;
constexpr BlockId kNoBlock = UINT32_MAX;

/// Instructions a copied loop may hold: not calls (helpers, tail calls), budget charges, checked
/// accesses or frame switches (counted and checked builds keep their loops), not atomics.
bool copyable(const Inst& i) {
  switch (i.op) {
    case Op::Call: case Op::TailCall: case Op::TailResult: case Op::Charge: case Op::Frames: case Op::Atomic:
    case Op::Ret:
      return false;
    case Op::Load: case Op::Store: return !i.checked;
    default: return true;
  }
}

/// Values every copy reads as they are: they have no location and no block-local meaning.
bool shared(const Inst& i) { return i.op == Op::Const || i.op == Op::FramePtr || i.op == Op::Arg; }

struct Loop {
  BlockId head = 0, latch = 0;
  std::size_t back = 0;          // the latch's index in the head's preds (the phis' back-edge argument)
  std::vector<BlockId> exits;    // blocks after the latch that the loop branches to
  std::uint32_t body = 0;        // instructions a copy holds
  BlockId counted = kNoBlock;    // the block whose branch tests the counter
  std::uint32_t factor = 0;
  std::uint32_t peel = 0;        // trip count mod factor: iterations copied before the loop
};

/// A use of a loop's value after the loop: args[arg] of `user`, to be read through `exit`'s phi.
struct OuterUse {
  ValueId user, value;
  std::size_t arg;
  BlockId exit;
};

class Unroller {
 public:
  explicit Unroller(Function& fn)
      : fn_(fn), n0_(static_cast<BlockId>(fn.blocks.size())), after_(n0_), before_(n0_) {}

  std::uint32_t run() {
    std::uint32_t unrolled = 0, growth = 0, tried = 0;
    for (BlockId h = 1; h < n0_; ++h) {
      auto loop = find_loop(h);
      if (!loop || !find_counter(*loop)) continue;
      const auto added = loop->body * (loop->factor - 1 + loop->peel);
      if (growth + added > kMaxGrowth) continue;
      // Each try scans the function's values once: a bounded number of them keeps compile time linear.
      if (++tried > kMaxLoopsTried) break;
      std::vector<OuterUse> uses;
      if (!outer_uses(*loop, uses)) continue;
      unroll(*loop, uses);
      growth += added;
      ++unrolled;
    }
    if (unrolled != 0) renumber();
    return unrolled;
  }

 private:
  bool in_range(BlockId b, const Loop& loop) const { return b >= loop.head && b <= loop.latch; }
  bool in_loop(ValueId v, const Loop& loop) const {
    const Inst& i = fn_.values[v];
    return !shared(i) && in_range(i.block, loop);
  }

  std::optional<Loop> find_loop(BlockId h) const {
    const Block& hb = fn_.blocks[h];
    if (hb.preds.size() != 2) return std::nullopt;
    Loop loop;
    loop.head = h;
    // The latch: the predecessor at or after h in the original block order.
    const bool first = hb.preds[0] >= h && hb.preds[0] < n0_, second = hb.preds[1] >= h && hb.preds[1] < n0_;
    if (first == second) return std::nullopt;
    loop.back = first ? 0 : 1;
    loop.latch = hb.preds[loop.back];
    if (in_range(hb.preds[1 - loop.back], loop)) return std::nullopt;
    for (BlockId b = h; b <= loop.latch; ++b) {
      const Block& blk = fn_.blocks[b];
      if (blk.insts.empty()) return std::nullopt;
      const Inst& term = fn_.values[blk.insts.back()];
      if (term.dead || (term.op != Op::Jmp && term.op != Op::Branch)) return std::nullopt;
      if (term.op == Op::Branch && blk.succs[0] == blk.succs[1]) return std::nullopt;
      if (b != h)
        for (auto p : blk.preds)
          if (!in_range(p, loop) || p >= b) return std::nullopt;
      for (auto s : blk.succs) {
        if (s == h) {
          if (b != loop.latch) return std::nullopt;
        } else if (in_range(s, loop)) {
          if (s <= b) return std::nullopt;
        } else {
          if (s <= loop.latch || s >= n0_) return std::nullopt;
          if (std::find(loop.exits.begin(), loop.exits.end(), s) == loop.exits.end()) loop.exits.push_back(s);
        }
      }
      for (auto id : blk.insts) {
        const Inst& i = fn_.values[id];
        if (i.dead) continue;
        if (!copyable(i)) return std::nullopt;
        if (!shared(i) && !(b == h && i.op == Op::Phi)) ++loop.body;
      }
      if (loop.body * kFactors[1] > kMaxUnrolledBody) return std::nullopt;  // (a bounded scan, too)
    }
    return loop;
  }

  /// The counter: a head phi starting at a constant and stepped by a constant add, compared with a
  /// constant by a branch that runs on every iteration (its block dominates the latch). Sets the
  /// factor to the largest one dividing the trip count; when none does, to the largest one not above
  /// it, with the remainder peeled; false when the loop runs once or the body is too large.
  bool find_counter(Loop& loop) {
    for (BlockId c = loop.latch;;) {
      if (try_counter(loop, c)) return true;
      // Up through single predecessors: each such block runs whenever its successor does.
      const auto& preds = fn_.blocks[c].preds;
      if (c == loop.head || preds.size() != 1 || !in_range(preds[0], loop)) return false;
      c = preds[0];
    }
  }

  bool try_counter(Loop& loop, BlockId c) {
    const Block& blk = fn_.blocks[c];
    const Inst& br = fn_.values[blk.insts.back()];
    if (br.op != Op::Branch) return false;
    const bool stays0 = blk.succs[0] == loop.head || in_range(blk.succs[0], loop);
    const bool stays1 = blk.succs[1] == loop.head || in_range(blk.succs[1], loop);
    if (stays0 == stays1) return false;
    const bool const0 = fn_.is_const(br.args[0]), const1 = fn_.is_const(br.args[1]);
    if (const0 == const1) return false;
    const ValueId tested = const1 ? br.args[0] : br.args[1];
    const auto bound = static_cast<std::uint64_t>(fn_.values[const1 ? br.args[1] : br.args[0]].imm);
    // tested is the phi plus constants (its next value, clang's `i - 42` of a counter from 42):
    // the adds from the phi up to it, innermost last.
    std::vector<const Inst*> adds;
    ValueId phi = tested;
    while (fn_.values[phi].op == Op::Alu && adds.size() < kMaxTestedAdds) {
      const Inst& a = fn_.values[phi];
      if (a.kind != Kind::Add || !fn_.is_const(a.args[1])) return false;
      adds.push_back(&a);
      phi = a.args[0];
    }
    const Inst& p = fn_.values[phi];
    if (p.op != Op::Phi || p.block != loop.head || p.dead) return false;
    const ValueId next = p.args[loop.back], init = p.args[1 - loop.back];
    const Inst& step = fn_.values[next];
    if (step.op != Op::Alu || step.kind != Kind::Add || step.args[0] != phi || !fn_.is_const(step.args[1]) ||
        !fn_.is_const(init))
      return false;
    auto add = [&](const Inst& a, std::uint64_t x) {
      const auto c = static_cast<std::uint64_t>(fn_.values[a.args[1]].imm);
      return a.width == 64 ? vm::alu::add64(x, c) : vm::alu::add32(static_cast<std::uint32_t>(x), static_cast<std::uint32_t>(c));
    };
    std::uint64_t x = static_cast<std::uint64_t>(fn_.values[init].imm);
    for (std::uint32_t trip = 0; steps_left_ > 0; ++trip, --steps_left_) {
      std::uint64_t value = x;
      for (auto a = adds.rbegin(); a != adds.rend(); ++a) value = add(**a, value);
      const auto holds = const1 ? vm::alu::condition(br.kind, br.width == 64, value, bound)
                                : vm::alu::condition(br.kind, br.width == 64, bound, value);
      if (!holds) return false;
      if (*holds != stays0) {
        // The test leaves the loop at its (trip + 1)-th run.
        const std::uint32_t trips = trip + 1;
        for (auto k : kFactors)
          if (trips % k == 0 && loop.body * k <= kMaxUnrolledBody) {
            loop.factor = k;
            loop.counted = c;
            return true;
          }
        for (auto k : kFactors)
          if (trips >= k && loop.body * k <= kMaxUnrolledBody) {
            loop.factor = k;
            loop.peel = trips % k;
            loop.counted = c;
            return true;
          }
        return false;
      }
      x = add(step, x);
    }
    return false;
  }

  /// The loop's values read after it (other than by an exit's phi on a loop edge), each with the exit
  /// (one whose predecessors are all in the loop) that dominates the reader; false when one has none.
  bool outer_uses(const Loop& loop, std::vector<OuterUse>& uses) {
    auto dedicated = [&](BlockId x) {
      if (std::find(loop.exits.begin(), loop.exits.end(), x) == loop.exits.end()) return false;
      const auto& preds = fn_.blocks[x].preds;
      return std::all_of(preds.begin(), preds.end(), [&](BlockId p) { return in_range(p, loop); });
    };
    for (ValueId u = 0; u < fn_.values.size(); ++u) {
      const Inst& i = fn_.values[u];
      if (i.dead || in_range(i.block, loop)) continue;
      for (std::size_t k = 0; k < i.args.size(); ++k) {
        if (!in_loop(i.args[k], loop)) continue;
        BlockId from = i.block;
        if (i.op == Op::Phi) {
          from = fn_.blocks[i.block].preds[k];
          if (in_range(from, loop)) continue;  // an exit's phi on a loop edge: each copy's value
        }
        if (idom_.empty()) idom_ = immediate_dominators(fn_, reverse_post_order(fn_));
        while (!dedicated(from)) {
          if (in_range(from, loop) || from == 0 || idom_[from] == UINT32_MAX) return false;
          from = idom_[from];
        }
        uses.push_back({u, i.args[k], k, from});
      }
    }
    return true;
  }

  /// Copies 1..k-1 follow the loop's own blocks (copy 0) inside the loop; copies k..k+peel-1 run
  /// before it, in a chain from the preheader to the head (iterations 0..peel-1).
  void unroll(const Loop& loop, const std::vector<OuterUse>& uses) {
    const BlockId h = loop.head, l = loop.latch, span = l - h + 1;
    const std::uint32_t k = loop.factor, copies = k + loop.peel;
    const std::size_t pre = 1 - loop.back;  // the preheader's index in the head's preds
    // The loop's values in block order; copy c's value of v is map[c * n + pos[v]].
    std::vector<ValueId> values;
    for (BlockId b = h; b <= l; ++b)
      for (auto id : fn_.blocks[b].insts)
        if (!fn_.values[id].dead && !shared(fn_.values[id])) values.push_back(id);
    const std::size_t n = values.size();
    pos_.resize(fn_.values.size());
    for (std::size_t j = 0; j < n; ++j) pos_[values[j]] = static_cast<std::uint32_t>(j);
    std::vector<ValueId> map(copies * n);
    std::copy(values.begin(), values.end(), map.begin());
    auto mapped = [&](std::uint32_t copy, ValueId v) { return in_loop(v, loop) ? map[copy * n + pos_[v]] : v; };
    auto head_phi = [&](ValueId v) { return fn_.values[v].op == Op::Phi && fn_.values[v].block == h; };

    const auto first_copy = static_cast<BlockId>(fn_.blocks.size());
    auto block_of = [&](std::uint32_t copy, BlockId b) { return copy == 0 ? b : first_copy + (copy - 1) * span + (b - h); };
    auto next_head = [&](std::uint32_t copy) {
      return copy + 1 < k || (copy >= k && copy + 1 < copies) ? block_of(copy + 1, h) : h;
    };
    const BlockId preheader = fn_.blocks[h].preds[pre];
    fn_.blocks.resize(first_copy + (copies - 1) * span);
    const auto first_value = fn_.values.size();
    for (std::uint32_t c = 1; c < copies; ++c) {
      // Ids first (a phi of a join inside the loop may read a value placed after it), the head's
      // phis the previous copy's back-edge values (the first peeled copy's: the preheader's).
      auto id = static_cast<ValueId>(fn_.values.size());
      for (std::size_t j = 0; j < n; ++j)
        map[c * n + j] = head_phi(values[j]) ? kNoValue : id++;
      for (std::size_t j = 0; j < n; ++j)
        if (head_phi(values[j]))
          map[c * n + j] = c == k ? fn_.values[values[j]].args[pre] : mapped(c - 1, fn_.values[values[j]].args[loop.back]);
      for (auto v : values) {
        if (head_phi(v)) continue;
        Inst copy = fn_.values[v];
        for (auto& a : copy.args) a = mapped(c, a);
        if (c >= k) fold_peeled(copy);
        fn_.add(block_of(c, copy.block), std::move(copy));
      }
      for (BlockId b = h; b <= l; ++b) {
        const Block& orig = fn_.blocks[b];
        IdList preds, succs;
        if (b == h) preds = {c == k ? preheader : block_of(c - 1, l)};
        else
          for (auto p : orig.preds) preds.push_back(block_of(c, p));
        for (auto s : orig.succs) succs.push_back(s == h ? next_head(c) : in_range(s, loop) ? block_of(c, s) : s);
        fn_.blocks[block_of(c, b)].preds = std::move(preds);
        fn_.blocks[block_of(c, b)].succs = std::move(succs);
      }
    }
    reassociate_steps(static_cast<ValueId>(first_value));
    // The head: entered from the last copy's latch, its phis taking that copy's values, and from the
    // last peeled copy's latch (if any), its phis taking that copy's.
    std::vector<ValueId> backs, inits;
    for (auto id : fn_.blocks[h].insts)
      if (head_phi(id) && !fn_.values[id].dead) {
        backs.push_back(mapped(k - 1, fn_.values[id].args[loop.back]));
        if (copies > k) inits.push_back(mapped(copies - 1, fn_.values[id].args[loop.back]));
      }
    std::size_t at = 0;
    for (auto id : fn_.blocks[h].insts)
      if (head_phi(id) && !fn_.values[id].dead) {
        if (copies > k) fn_.values[id].args[pre] = inits[at];
        fn_.values[id].args[loop.back] = backs[at++];
      }
    fn_.blocks[h].preds[loop.back] = block_of(k - 1, l);
    for (auto& s : fn_.blocks[l].succs)
      if (s == h) s = next_head(0);
    if (copies > k) {
      fn_.blocks[h].preds[pre] = block_of(copies - 1, l);
      for (auto& s : fn_.blocks[preheader].succs)
        if (s == h) s = block_of(k, h);
    }
    // The counter's test leaves only from the last copy: a jump in the others (peeled ones too: they
    // run the first peel < k <= trip count iterations).
    for (std::uint32_t c = 0; c < copies; ++c) {
      if (c == k - 1) continue;
      Block& blk = fn_.blocks[block_of(c, loop.counted)];
      Inst& br = fn_.values[blk.insts.back()];
      const BlockId stay = blk.succs[0] >= first_copy || blk.succs[0] == h || in_range(blk.succs[0], loop)
                               ? blk.succs[0] : blk.succs[1];
      br.op = Op::Jmp;
      br.args.clear();
      blk.succs = {stay};
    }
    for (auto x : loop.exits) rewire_exit(loop, x, k, copies, uses, [&](std::uint32_t c, BlockId b) { return block_of(c, b); }, mapped);
    const BlockId first_peeled = first_copy + (k - 1) * span;
    for (BlockId b = first_copy; b < first_peeled; ++b) after_[l].push_back(b);
    for (BlockId b = first_peeled; b < fn_.blocks.size(); ++b) before_[h].push_back(b);
    idom_.clear();
  }

  /// A peeled copy's operation on constants (the first iterations' counters and pointers from the
  /// preheader's constants) becomes its result: the constant folding pass ran before this one.
  void fold_peeled(Inst& i) const {
    std::optional<std::uint64_t> value;
    if (i.op == Op::Alu && fn_.is_const(i.args[0]) && fn_.is_const(i.args[1]))
      value = vm::alu::binary(i.kind, i.width == 64, static_cast<std::uint64_t>(fn_.values[i.args[0]].imm),
                              static_cast<std::uint64_t>(fn_.values[i.args[1]].imm));
    else if (i.op == Op::Zext32 && fn_.is_const(i.args[0]))
      value = static_cast<std::uint32_t>(fn_.values[i.args[0]].imm);
    if (!value) return;
    i.op = Op::Const;
    i.imm = static_cast<std::int64_t>(*value);
    i.args.clear();
  }

  /// Each copy's `x + c` of a `y + d` (same width) becomes `y + (c + d)`: the copies' counters and
  /// pointers step from the loop's phi at once instead of through each other (strlen's four `n + 1`
  /// in a chain become n + 1 .. n + 4, the first three folded into their loads' displacements).
  void reassociate_steps(ValueId first) {
    const auto end = static_cast<ValueId>(fn_.values.size());
    for (ValueId v = first; v < end; ++v) {
      const Inst& i = fn_.values[v];
      if (i.op != Op::Alu || i.kind != Kind::Add || !fn_.is_const(i.args[1])) continue;
      const Inst& prev = fn_.values[i.args[0]];
      if (prev.op != Op::Alu || prev.kind != Kind::Add || prev.width != i.width || !fn_.is_const(prev.args[1])) continue;
      const auto sum = vm::alu::add64(static_cast<std::uint64_t>(fn_.values[i.args[1]].imm),
                                      static_cast<std::uint64_t>(fn_.values[prev.args[1]].imm));
      const ValueId base = prev.args[0];
      Inst c;
      c.op = Op::Const;
      c.imm = static_cast<std::int64_t>(sum);
      c.block = fn_.values[v].block;
      fn_.values.push_back(std::move(c));
      const auto id = static_cast<ValueId>(fn_.values.size() - 1);
      auto& insts = fn_.blocks[fn_.values[v].block].insts;
      insts.insert(std::find(insts.begin(), insts.end(), v), id);
      fn_.values[v].args = {base, id};
    }
  }

  /// x's loop predecessors become every copy's (but the counter's test in all copies but k - 1),
  /// its phis read each copy's value, and it gets a phi of the copies' values per value read after it.
  template <typename BlockOf, typename Mapped>
  void rewire_exit(const Loop& loop, BlockId x, std::uint32_t k, std::uint32_t copies, const std::vector<OuterUse>& uses, BlockOf block_of,
                   Mapped mapped) {
    const Block orig = fn_.blocks[x];
    IdList preds;
    struct Edge {
      std::uint32_t copy;
      std::size_t index;  // in orig.preds
    };
    std::vector<Edge> edges;  // in the new preds' order; copy UINT32_MAX: kept as it was
    bool placed = false;
    for (std::size_t j = 0; j < orig.preds.size(); ++j) {
      const BlockId p = orig.preds[j];
      if (!in_range(p, loop)) {
        edges.push_back({UINT32_MAX, j});
        continue;
      }
      if (placed) continue;
      placed = true;
      for (std::uint32_t c = 0; c < copies; ++c)
        for (std::size_t i = 0; i < orig.preds.size(); ++i)
          if (in_range(orig.preds[i], loop) && !(orig.preds[i] == loop.counted && c != k - 1)) edges.push_back({c, i});
    }
    for (const auto& e : edges) preds.push_back(e.copy == UINT32_MAX ? orig.preds[e.index] : block_of(e.copy, orig.preds[e.index]));
    for (auto id : orig.insts) {
      Inst& phi = fn_.values[id];
      if (phi.dead || phi.op != Op::Phi) continue;  // a phi CSE or copy propagation made a dead copy stays in place
      const IdList args = phi.args;
      phi.args.clear();
      for (const auto& e : edges) phi.args.push_back(e.copy == UINT32_MAX ? args[e.index] : mapped(e.copy, args[e.index]));
    }
    fn_.blocks[x].preds = preds;
    // Phis for the loop's values read after x.
    std::vector<std::pair<ValueId, ValueId>> phis;  // value, its phi
    for (const auto& use : uses) {
      if (use.exit != x) continue;
      auto found = std::find_if(phis.begin(), phis.end(), [&](const auto& p) { return p.first == use.value; });
      if (found == phis.end()) {
        Inst phi;
        phi.op = Op::Phi;
        phi.width = 64;
        phi.block = x;
        for (const auto& e : edges) phi.args.push_back(mapped(e.copy, use.value));
        fn_.values.push_back(std::move(phi));
        const auto id = static_cast<ValueId>(fn_.values.size() - 1);
        auto& insts = fn_.blocks[x].insts;
        insts.insert(insts.begin(), id);
        found = phis.insert(phis.end(), {use.value, id});
      }
      fn_.values[use.user].args[use.arg] = found->second;
    }
  }

  /// Block order: each loop's copies right after its latch, its peeled copies right before its head
  /// (back edges stay the only backward edges).
  void renumber() {
    std::vector<BlockId> order, id(fn_.blocks.size());
    order.reserve(fn_.blocks.size());
    for (BlockId b = 0; b < n0_; ++b) {
      order.insert(order.end(), before_[b].begin(), before_[b].end());
      order.push_back(b);
      order.insert(order.end(), after_[b].begin(), after_[b].end());
    }
    for (BlockId k = 0; k < order.size(); ++k) id[order[k]] = k;
    std::vector<Block> blocks(fn_.blocks.size());
    for (BlockId b = 0; b < fn_.blocks.size(); ++b) {
      Block& blk = blocks[id[b]];
      blk = std::move(fn_.blocks[b]);
      for (auto& p : blk.preds) p = id[p];
      for (auto& s : blk.succs) s = id[s];
    }
    fn_.blocks = std::move(blocks);
    for (auto& v : fn_.values) v.block = id[v.block];
  }

  Function& fn_;
  const BlockId n0_;                        // blocks before the pass: the loops are found among them
  std::vector<std::vector<BlockId>> after_;  // per original block, the copies placed after it
  std::vector<std::vector<BlockId>> before_;  // per original loop head, its peeled copies
  std::vector<std::uint32_t> pos_;
  std::vector<BlockId> idom_;               // of the current CFG, computed when first needed
  std::uint32_t steps_left_ = kMaxSimulatedSteps;
};

}  // namespace

std::uint32_t unroll_loops(Function& fn) { return Unroller(fn).run(); }

}  // namespace bpfvm::jit::opt
