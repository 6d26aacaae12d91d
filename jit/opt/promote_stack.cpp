// Stack-slot promotion (mem2reg): stack slots that are only ever loaded and stored whole, at one
// constant offset from their frame's r10, become SSA values and their loads and stores go away.
//
// Which slots qualify is decided on the SSA form itself, conservatively: an address is a frame's
// FramePtr plus or minus constants; any other use of such an address (stored to memory, passed to a
// helper, through a phi, compared, combined with a non-constant) lets the frame escape, and nothing
// of an escaped frame is promoted, unless the verifier said which stack bytes every other access may
// touch (VerifierFacts::stack_ranges, per pc): then a slot of an escaped frame is promoted when no
// access but its own whole constant-offset loads and stores may reach it, and one access the verifier
// does not bound (a helper given a stack pointer) keeps every escaped frame in memory. An escaped
// pointer may also reach other frames unless the verifier proved it stays inside its own
// (VerifierFacts::pointers_stay_in_frame): without that fact, one escape turns promotion off for the
// whole function.
//
// Renaming follows the lowering's SSA construction: blocks in reverse post-order, a phi per slot at
// every block that does not have exactly one earlier predecessor, trivial phis removed afterwards.
#include <algorithm>
#include <cstdlib>

#include "jit/opt/passes.hpp"
#include "jit/opt/ssa_join.hpp"

namespace bpfvm::jit::opt {

namespace {

constexpr std::int64_t kFrameBytes = static_cast<std::int64_t>(isa::kStackBytes);

struct Address {
  bool valid = false;
  std::uint32_t depth = 0;
  std::int64_t off = 0;  // from the frame's r10
};

struct Access {
  ValueId inst;
  std::uint32_t depth;
  std::int64_t off;
  std::uint8_t bytes;
};

struct Slot {
  std::uint32_t depth;
  std::int64_t off;
  std::uint8_t bytes;
  bool ok = true;
};

class Promoter {
 public:
  Promoter(Function& fn, const VerifierFacts& facts) : fn_(fn), facts_(facts) {}

  std::uint32_t run() {
    if (!find_accesses()) return 0;
    if (!choose_slots()) return 0;
    rename();
    remove_trivial_phis(fn_);
    return promoted_;
  }

 private:
  static std::uint8_t access_bytes(const Inst& i) { return i.bits; }

  /// Addresses of every value, the frames that escape, and every constant-address access.
  bool find_accesses() {
    addr_.assign(fn_.values.size(), Address{});
    stack_address_.assign(fn_.values.size(), false);
    escaped_.assign(fn_.max_depth + 1, false);
    bool any_escape = false;
    auto escape = [&](ValueId v) {
      if (addr_[v].valid) {
        escaped_[addr_[v].depth] = true;
        any_escape = true;
      }
    };
    for (const auto& blk : fn_.blocks)
      for (auto id : blk.insts) {
        const Inst& i = fn_.values[id];
        if (i.dead) continue;
        // An access into a frame deeper than the code's own (a callee's, after it returned) is no
        // slot access: the frame is not live there (the checked interpreter faults), so it stays memory.
        const bool memory_op = i.op == Op::Load || i.op == Op::Store || i.op == Op::Atomic;
        if (memory_op && addr_[i.args[0]].valid && addr_[i.args[0]].depth > i.depth) {
          for (auto a : i.args) escape(a);
          others_.push_back(id);
          continue;
        }
        switch (i.op) {
          case Op::FramePtr:
            addr_[id] = Address{true, static_cast<std::uint32_t>(i.imm), 0};
            stack_address_[id] = true;
            continue;
          case Op::Alu: {
            const bool add = i.kind == isa::Kind::Add, sub = i.kind == isa::Kind::Sub;
            if (i.width == 64 && (add || sub) && (stack_address_[i.args[0]] || (add && stack_address_[i.args[1]])))
              stack_address_[id] = true;
            if (i.width == 64 && (add || sub)) {
              const ValueId a = i.args[0], b = i.args[1];
              const Address* base = nullptr;
              std::int64_t delta = 0;
              if (addr_[a].valid && fn_.is_const(b)) {
                base = &addr_[a];
                delta = add ? fn_.values[b].imm : -fn_.values[b].imm;
              } else if (add && addr_[b].valid && fn_.is_const(a)) {
                base = &addr_[b];
                delta = fn_.values[a].imm;
              }
              // Bounded so the sum cannot overflow; farther addresses are outside every frame anyway.
              if (base != nullptr && std::llabs(delta) < (1 << 20) && std::llabs(base->off) < (1 << 20)) {
                addr_[id] = Address{true, base->depth, base->off + delta};
                continue;
              }
            }
            break;
          }
          case Op::Load:
            if (index_of(i) != kNoValue) break;  // indexed (address folding ran first): a variable offset
            if (addr_[i.args[0]].valid) record(id, addr_[i.args[0]], i.off, access_bytes(i));
            else others_.push_back(id);
            continue;
          case Op::Store:
            if (index_of(i) != kNoValue) break;
            if (addr_[i.args[0]].valid) record(id, addr_[i.args[0]], i.off, access_bytes(i));
            else others_.push_back(id);
            if (addr_[i.args[0]].valid && stack_address_[i.args[1]]) holds_address_.push_back(id);  // a spilled stack address
            escape(i.args[1]);
            continue;
          case Op::Atomic:
            if (addr_[i.args[0]].valid) record(id, addr_[i.args[0]], i.off, access_bytes(i));
            else others_.push_back(id);
            for (std::size_t k = 1; k < i.args.size(); ++k) escape(i.args[k]);
            continue;
          case Op::Call: case Op::TailCall:
            others_.push_back(id);
            break;
          default:
            break;
        }
        if (memory_op) others_.push_back(id);  // indexed
        for (auto a : i.args) escape(a);
      }
    if (any_escape && !facts_.pointers_stay_in_frame) return false;
    return true;
  }

  void record(ValueId inst, const Address& base, std::int64_t off, std::uint8_t bytes) {
    accesses_.push_back(Access{inst, base.depth, base.off + off, bytes});
  }

  /// Slots: every byte of a frame belongs to at most one (offset, width); an access that overlaps
  /// a slot partially, an atomic, or an address outside the frame disqualifies what it touches.
  bool choose_slots() {
    std::vector<std::vector<std::int32_t>> owner(fn_.max_depth + 1);
    slot_of_.assign(fn_.values.size(), -1);
    for (const auto& a : accesses_) {
      // Outside its frame: it may be another frame's byte (only the verifier rules that out).
      if (a.off < -kFrameBytes || a.off + a.bytes > 0) return false;
      if (escaped_[a.depth] && !ranges_known()) continue;
      auto& own = owner[a.depth];
      if (own.empty()) own.assign(kFrameBytes, -1);
      const auto first = static_cast<std::size_t>(a.off + kFrameBytes);
      std::int32_t s = own[first];
      if (s < 0 || slots_[s].off != a.off || slots_[s].bytes != a.bytes) {
        // A new slot; whatever it overlaps is no longer promotable, nor is it.
        const bool fresh = std::all_of(own.begin() + first, own.begin() + first + a.bytes, [](auto o) { return o < 0; });
        s = static_cast<std::int32_t>(slots_.size());
        slots_.push_back(Slot{a.depth, a.off, a.bytes, fresh});
        for (std::size_t k = first; k < first + a.bytes; ++k) {
          if (own[k] >= 0) slots_[own[k]].ok = false;
          own[k] = s;
        }
        if (!fresh) slots_[s].ok = false;
      }
      if (fn_.values[a.inst].op == Op::Atomic) slots_[s].ok = false;
      slot_of_[a.inst] = s;
    }
    // Stale owners: a slot displaced byte-wise above was marked not ok, so bytes need no rescan.
    if (ranges_known()) keep_slots_other_accesses_reach();
    // A slot of an escaped frame that holds a stack address stays in memory: promoted, every indexed
    // access through the filled pointer becomes frame-indexed, which costs the backends an add of the
    // frame's address per access (x86-64's [rsp + index] forms ran slower, address() in
    // x86_64/opt_emitter.cpp), where the filled pointer is one load its accesses share (matmul 111-113
    // ns with such slots promoted, 103-104 without, main's build 105-107).
    for (const ValueId id : holds_address_)
      if (const std::int32_t s = slot_of_[id]; s >= 0 && escaped_[slots_[s].depth]) slots_[s].ok = false;
    var_of_.assign(slots_.size(), -1);
    for (std::size_t s = 0; s < slots_.size(); ++s)
      if (slots_[s].ok) var_of_[s] = static_cast<std::int32_t>(nvars_++);
    promoted_ = nvars_;
    return nvars_ > 0;
  }

  bool ranges_known() const { return facts_.pointers_stay_in_frame && !facts_.stack_ranges.empty(); }

  /// Slots any access but their own constant-offset ones may touch (the verifier's per-pc ranges)
  /// stay in memory; in an escaped frame, all of them when some access's range is not known.
  void keep_slots_other_accesses_reach() {
    const auto& ranges = facts_.stack_ranges;
    std::vector<std::vector<bool>> touched(fn_.max_depth + 1, std::vector<bool>(kFrameBytes, false));
    bool unbounded = false;
    for (const ValueId id : others_) {
      const Inst& i = fn_.values[id];
      if (i.pc >= ranges.size()) {
        unbounded = true;
        break;
      }
      const vm::StackRange& r = ranges[i.pc];
      if (r.kind == vm::StackRange::Kind::None) continue;
      // A call's range is always Unknown (a helper may keep a stack pointer); a range outside
      // [-512, 0) the verifier refuses.
      if (r.kind == vm::StackRange::Kind::Unknown || i.op == Op::Call || i.op == Op::TailCall || r.lo < -kFrameBytes ||
          r.hi > 0 || r.lo >= r.hi) {
        unbounded = true;
        break;
      }
      if (r.frames_up > i.depth) continue;  // a frame of this function's caller (a callback's)
      auto& bytes = touched[i.depth - r.frames_up];
      std::fill(bytes.begin() + (r.lo + kFrameBytes), bytes.begin() + (r.hi + kFrameBytes), true);
    }
    for (auto& slot : slots_) {
      if (!slot.ok) continue;
      const auto& bytes = touched[slot.depth];
      const auto first = bytes.begin() + (slot.off + kFrameBytes);
      if ((unbounded && escaped_[slot.depth]) || std::any_of(first, first + slot.bytes, [](bool t) { return t; }))
        slot.ok = false;
    }
  }

  /// A live load or store of a promoted slot (rename rewrites it).
  bool promoted_access(ValueId id) const {
    return id < slot_of_.size() && slot_of_[id] >= 0 && var_of_[slot_of_[id]] >= 0 && !fn_.values[id].dead;
  }

  ValueId add_value(BlockId b, Inst inst) {
    inst.block = b;
    fn_.values.push_back(std::move(inst));
    return static_cast<ValueId>(fn_.values.size() - 1);
  }

  /// The slot's value after storing v: the stored bytes, zero-extended (what a plain load reads).
  ValueId narrowed(BlockId b, ValueId v, std::uint8_t bytes, std::vector<ValueId>& out) {
    if (bytes == 8) return v;
    if (fn_.is_const(v)) {
      const auto mask = (std::uint64_t{1} << (8 * bytes)) - 1;
      const auto c = add_value(b, Inst{.op = Op::Const, .imm = static_cast<std::int64_t>(static_cast<std::uint64_t>(fn_.values[v].imm) & mask)});
      out.push_back(c);
      return c;
    }
    if (bytes == 4) {
      const auto z = add_value(b, Inst{.op = Op::Zext32, .args = {v}});
      out.push_back(z);
      return z;
    }
    const auto mask = add_value(b, Inst{.op = Op::Const, .imm = bytes == 2 ? 0xffff : 0xff});
    const auto r = add_value(b, Inst{.op = Op::Alu, .kind = isa::Kind::And, .width = 64, .args = {v, mask}});
    out.push_back(mask);
    out.push_back(r);
    return r;
  }

  void rename() {
    const auto nblocks = fn_.blocks.size();
    ExitEnvs exit_env;
    exit_env.assign(nblocks, nvars_);
    std::vector<std::pair<BlockId, std::vector<ValueId>>> phis;
    const ValueId zero = add_value(0, Inst{.op = Op::Const, .imm = 0});
    for (BlockId b = 0; b < nblocks; ++b) {
      ValueId* env = exit_env[b];  // the block's row, updated in place
      std::vector<ValueId> out;
      const auto& preds = fn_.blocks[b].preds;
      const bool all_preds_done = std::all_of(preds.begin(), preds.end(), [&](BlockId p) { return p < b; });
      if (b == 0) {
        // Unwritten stack reads as zero: what the zero-stack runs give; any value is right otherwise.
        std::fill_n(env, nvars_, zero);
        out.push_back(zero);
      } else if (preds.size() == 1 && all_preds_done) {
        std::copy_n(exit_env[preds[0]], nvars_, env);
      } else if (all_preds_done) {
        const auto joined = join_predecessors(preds, exit_env, nvars_, [&](std::vector<ValueId> args) {
          const ValueId phi = add_value(b, Inst{.op = Op::Phi, .args = std::move(args)});
          out.push_back(phi);
          return phi;
        });
        std::copy(joined.begin(), joined.end(), env);
      } else {
        for (std::uint32_t v = 0; v < nvars_; ++v) {
          env[v] = add_value(b, Inst{.op = Op::Phi});
          out.push_back(env[v]);
        }
        phis.emplace_back(b, std::vector<ValueId>(env, env + nvars_));
      }
      // No new phi and no promoted access: the block's list stays as it is (most blocks; no copy).
      const auto& insts = fn_.blocks[b].insts;
      if (out.empty() && std::none_of(insts.begin(), insts.end(), [&](ValueId id) { return promoted_access(id); }))
        continue;
      const auto old = std::move(fn_.blocks[b].insts);
      // Existing phis stay first, before the new ones.
      std::vector<ValueId> lead;
      lead.reserve(out.size() + 3 * old.size());  // each access adds at most two values (narrowed): one allocation
      std::size_t k = 0;
      for (; k < old.size() && fn_.values[old[k]].op == Op::Phi; ++k) lead.push_back(old[k]);
      lead.insert(lead.end(), out.begin(), out.end());
      out = std::move(lead);
      for (; k < old.size(); ++k) {
        const ValueId id = old[k];
        const std::int32_t s = slot_of_[id] >= 0 ? var_of_[slot_of_[id]] : -1;
        if (s < 0 || fn_.values[id].dead) {
          out.push_back(id);
          continue;
        }
        Inst& i = fn_.values[id];
        if (i.op == Op::Store) {
          const ValueId v = i.args[1];
          const auto bytes = i.bits;
          i.dead = true;
          out.push_back(id);
          env[s] = narrowed(b, v, bytes, out);
        } else {  // Load
          const ValueId v = env[s];
          if (i.sx && i.bits < 8) {
            i.op = Op::MovSx;
            i.width = 64;
            i.bits = static_cast<std::uint8_t>(8 * i.bits);
            i.sx = false;
            i.off = 0;
            i.args = {v};
          } else {
            i.op = Op::Copy;
            i.args = {v};
          }
          out.push_back(id);
        }
      }
      fn_.blocks[b].insts = std::move(out);
    }
    for (const auto& [b, env] : phis)
      for (std::size_t v = 0; v < env.size(); ++v)
        for (auto p : fn_.blocks[b].preds) fn_.values[env[v]].args.push_back(exit_env[p][v]);
  }

  Function& fn_;
  const VerifierFacts& facts_;
  std::vector<Address> addr_;
  std::vector<bool> stack_address_;  // per value: a FramePtr plus or minus anything (through add/sub chains)
  std::vector<bool> escaped_;
  std::vector<Access> accesses_;
  std::vector<ValueId> holds_address_;  // constant-offset stores of a stack address
  std::vector<ValueId> others_;  // every other load, store, atomic and call
  std::vector<Slot> slots_;
  std::vector<std::int32_t> slot_of_;  // per value: the slot its load/store accesses, or -1
  std::vector<std::int32_t> var_of_;   // per slot: its variable, or -1 (not promoted)
  std::uint32_t nvars_ = 0;
  std::uint32_t promoted_ = 0;
};

}  // namespace

std::uint32_t promote_stack_slots(Function& fn, const VerifierFacts& facts) {
  return Promoter(fn, facts).run();
}

}  // namespace bpfvm::jit::opt
