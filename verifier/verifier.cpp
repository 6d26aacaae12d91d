// verify(): path-sensitive exploration with state pruning at prune points, as the kernel does.
// Paths are explored depth first; a path ends at exit, at a violation, or when its state is
// included in a fully explored state stored at the same insn.
#include <algorithm>
#include <chrono>
#include <memory>
#include <span>

#include "verifier/cfg.hpp"
#include "verifier/diagnostics.hpp"
#include "verifier/precision.hpp"
#include "verifier/precision_backtrack.hpp"
#include "verifier/transfer.hpp"
#include "vm/kfunc_call.hpp"

namespace bpfvm::verifier {

using isa::Form;

namespace {

constexpr std::size_t kMaxCheckpointsPerInsn = 64;
// A path that recorded this many insns since its last checkpoint stores one at the next prune point
// whatever the store heuristics say (listed when the pc's list has room, else without a state), so that
// backtracking walks at most this much history before a checkpoint's marks can stop it. The heuristics
// count jumps and insns since any path stored: a loop whose every iteration forks a short path that
// stores kept its own history growing (a 25-insn loop: 170,000 entries walked per insn, minutes).
constexpr std::size_t kMaxHistoryPerCheckpoint = 256;
// A fully explored state that missed more than 3 * (hits + 1) comparisons is forgotten (the kernel's n).
constexpr std::uint32_t kEvictMisses = 3;

// The deepest stack byte function `fn` used on any explored path (the kernel's subprog stack_depth).
void note_stack_use(Env& env, std::uint32_t fn, std::uint32_t bytes) {
  if (env.fn_stack_bytes.size() != env.program.size()) env.fn_stack_bytes.assign(env.program.size(), 0);
  if (fn < env.fn_stack_bytes.size() && bytes > env.fn_stack_bytes[fn]) env.fn_stack_bytes[fn] = bytes;
}

// A stored state and the bookkeeping that tells whether everything after it has been explored.
struct Checkpoint {
  std::unique_ptr<State> state;  // null once forgotten: the bookkeeping below outlives it
  int parent;            // enclosing checkpoint on the same path, -1 at the root
  std::uint32_t branches;  // paths and checkpoints below this one still being explored
  std::uint32_t pc;
  std::uint32_t hits = 0;    // visits this state pruned
  std::uint32_t misses = 0;  // visits it was compared with and did not prune
  std::vector<HistoryEntry> history;  // insns from the parent checkpoint's pc up to this pc
  PreciseMarks marks{};               // registers and slots some path explored from here needed precise
  bool all_marked = false;            // every register is precise here (and in every ancestor)
  // Inside an iterator loop that converged below it: some path below was cut where it repeated an
  // earlier iteration still being explored, so the marks here lack what the rest of that iteration
  // needs. Compared with every live register and slot, as if all were precise.
  bool loop_body = false;
  bool listed = true;                 // in at_pc_[pc]: paths may still be compared with it
  std::uint8_t depth = 0;             // frames of the state (kept when the state is freed)
  std::size_t state_bytes = 0;        // what the state added to Explorer::live_bytes_
};

struct Path {
  State state;
  std::uint32_t pc;
  int parent;
  std::uint32_t from = 0;  // the branch insn that queued this path (for the log)
  std::vector<HistoryEntry> history;  // insns run since the parent checkpoint
  std::size_t queued_bytes = 0;       // what it added to Explorer::live_bytes_ while queued
};

// A loop head where a state of an earlier iteration is still being explored stores a new state only
// after 20 jumps or 100 insns processed (on any path) since the last one, as the kernel's
// is_state_visited does: each iteration's state is new and rarely prunes, and a 1M-insn loop would
// otherwise keep a state per iteration (a loop that repeats a state is still caught, a few iterations
// later). The kernel throttles at any insn with such a state; bpfvm only at loop heads, where
// iterations repeat: elsewhere a state stored on every visit prunes more, for the kernel's pruning
// relies on liveness marks bpfvm does not have.
constexpr std::uint32_t kLoopStoreJumps = 20, kLoopStoreInsns = 100;
// Elsewhere, as in the kernel, a new state is stored once 2 jumps and 8 insns were processed since
// the last one (a state per prune point would cost memory and comparisons for little pruning).
constexpr std::uint32_t kStoreMinJumps = 2, kStoreMinInsns = 8;

// Forms after which a frame's stack depth may have grown: writes, and loads of uninitialised bytes
// (StackSlots::touch).
bool deepens_stack(Form form) {
  switch (form) {
    case Form::Store: case Form::StoreReg: case Form::Atomic: case Form::Call: case Form::CallKfunc: case Form::CallLocal:
    case Form::CallReg: case Form::Load: case Form::LoadSx:
      return true;
    case Form::Alu: case Form::AluUnary: case Form::WideImm:
    case Form::Jump: case Form::Ja: case Form::Ja32: case Form::Exit: case Form::PacketLoad:
      return false;
  }
  return true;
}

// Bytes a state holds (the memory bound's estimate, not an exact count): a frame n states share counts
// 1/n in each, as n was when the state was accounted (callers keep what they added, to subtract it).
std::size_t state_bytes(const State& s) {
  std::size_t n = sizeof(State) + s.refs.capacity() * sizeof(std::uint32_t) +
                  s.packet_ranges.capacity() * sizeof(s.packet_ranges[0]);
  for (std::size_t i = 0; i < s.frames.size(); ++i) {
    std::size_t frame = sizeof(Frame);
    s.frames[i].stack.for_each_spill([&](const RegValue&) { frame += sizeof(std::pair<int, RegValue>); });
    n += frame / s.frames.sharers(i);
  }
  return n;
}
std::size_t history_bytes(const std::vector<HistoryEntry>& h) { return h.capacity() * sizeof(HistoryEntry); }

class Explorer {
 public:
  // `root`: the global function this explorer verifies on its own (null: the main program); `stats`
  // carries on from the functions verified before (one processed-insn budget for all).
  Explorer(const vm::Program& p, const VerifierOptions& o, const Cfg& cfg, const GlobalFunc* root,
           const VerifierStats& stats)
      : env_{p, o, cfg}, at_pc_(p.size()), reached_(p.size(), false), iter_next_(p.size(), false), stats_(stats) {
    env_.root = root;
    if (root) env_.next_id = 8;  // ids 1-5 name the global function's pointer arguments
    // The kernel's is_iter_next_insn: calls of an iterator's next kfunc, where its loop converges.
    for (std::uint32_t pc = 0; pc < p.size() && o.helpers; ++pc) {
      if (p.ops[pc] == isa::kNoOp || p.op(pc).form != Form::CallKfunc) continue;
      if (auto k = vm::resolve_kfunc_call(p, pc, *o.helpers))
        iter_next_[pc] = (*k)->signature.args[0] == KfuncArg::IterNumNext;
    }
  }

  Check run(State initial);
  const std::vector<std::uint32_t>& globals_called() const { return env_.globals_called; }
  const std::vector<std::uint32_t>& fn_stack_bytes() const { return env_.fn_stack_bytes; }
  const std::vector<std::uint8_t>& access_base() const { return env_.access_base; }
  const std::vector<vm::StackRange>& stack_ranges() const { return env_.stack_ranges; }
  bool reads_uninit_stack() const { return env_.reads_uninit_stack; }
  std::uint32_t tp_buffer_bytes() const { return env_.tp_buffer_bytes; }
  std::uint32_t ctx_bytes_reached() const { return env_.ctx_bytes_reached; }
  const std::vector<std::int64_t>& map_ptr_loads() const { return env_.map_ptr_loads; }
  /// Insns some explored path executed.
  const std::vector<bool>& reached() const { return reached_; }
  const VerifierStats& stats() const { return stats_; }
  const std::vector<WarningFact>& warnings() const { return env_.warnings; }
  const State* failing_state() const { return failing_ ? &*failing_ : nullptr; }
  std::string& log() { return log_; }

 private:
  // `marks`: the stored state's precision marks, or null to compare every live register and slot.
  RegsCompared compared(const State& s, std::size_t frame, std::uint32_t pc, const PreciseMarks* marks) const {
    // A caller frame resumes after its call insn; r0-r5 are rewritten by the call.
    const std::uint32_t at = frame + 1 == s.frames.size() ? pc : s.frames[frame + 1].callsite + 1;
    if (at >= env_.cfg.live_in.size()) return {};
    // A register is compared exactly when both the static pass and the explored paths need it.
    const RegMask precise = marks ? static_cast<RegMask>(env_.cfg.precise_in[at] & marks->regs[frame]) : RegMask{0xffff};
    // Spilled slots have no static pass: the explored paths' marks alone decide.
    const std::uint64_t precise_slots = marks ? marks->slots[frame] : ~std::uint64_t{0};
    return {env_.cfg.live_in[at], precise, precise_slots};
  }
  // Pruning against a fully explored state may ignore imprecise scalars; loop detection and
  // widening compare every live register.
  bool included(const State& cur, const State& old, std::uint32_t pc, const PreciseMarks* marks = nullptr) const {
    return cur.leq(old, [&](std::size_t f) { return compared(cur, f, pc, marks); });
  }
  // Marks `bt` (registers and slots precise at the path's current insn) in the path's stored states.
  void mark_precise(const Path& path, PreciseMarks bt, std::uint8_t depth);
  // Every register precise in checkpoint k and its ancestors (where backtracking cannot follow).
  void mark_all_precise(int k);
  bool is_ancestor(int cp, int of) const {
    for (int k = of; k >= 0; k = checkpoints_[static_cast<std::size_t>(k)].parent)
      if (k == cp) return true;
    return false;
  }
  void finish_path(int parent) {
    for (int k = parent; k >= 0;) {
      auto& c = checkpoints_[static_cast<std::size_t>(k)];
      if (--c.branches > 0) break;
      // Nothing below it is explored any more, so no backtracking walks its history again; a state
      // no list holds any more is never compared again either.
      live_bytes_ -= history_bytes(c.history);
      std::vector<HistoryEntry>().swap(c.history);
      if (!c.listed) forget_state(c);
      k = c.parent;
    }
  }
  // Frees a checkpoint's state, keeping its depth (mark_precise reads it while descendants live).
  void forget_state(Checkpoint& c) {
    if (!c.state) return;
    live_bytes_ -= c.state_bytes;
    c.state.reset();
  }
  // Queues a path (a branch not taken yet), accounting its memory.
  void queue(Path path) {
    path.queued_bytes = state_bytes(path.state) + history_bytes(path.history);
    live_bytes_ += path.queued_bytes;
    pending_.push_back(std::move(path));
  }
  // A host bound or the jump-sequence limit hit at pc, else nullopt.
  Check over_limits(std::uint32_t pc, const Path& path);
  // Forgets (for pruning) fully explored states at pc that rarely prune, as the kernel does, so a
  // loop's later iterations can store theirs. The checkpoint itself stays: paths name it as parent.
  void evict_useless(std::uint32_t pc) {
    auto& list = at_pc_[pc];
    std::erase_if(list, [&](int k) {
      auto& c = checkpoints_[static_cast<std::size_t>(k)];
      if (c.branches != 0 || c.misses <= kEvictMisses * c.hits + kEvictMisses) return false;
      // Explored and forgotten: no path compares with it or walks through it again (the kernel
      // frees such states); only its bookkeeping stays.
      c.listed = false;
      forget_state(c);
      return true;
    });
    if (list.size() < kMaxCheckpointsPerInsn) return;
    // Still full: a loop unrolled by exploration fills the list with the states of its first
    // iterations, all still being explored (ancestors of this path), which prune nothing. Forget
    // the oldest of them so the latest iterations can store theirs; it only served to detect an
    // infinite loop, and a loop that goes undetected runs into the processed-insn limit instead.
    const auto oldest_open = std::find_if(list.begin(), list.end(), [&](int k) {
      return checkpoints_[static_cast<std::size_t>(k)].branches > 0;
    });
    if (oldest_open != list.end()) {
      checkpoints_[static_cast<std::size_t>(*oldest_open)].listed = false;  // freed when its paths end
      list.erase(oldest_open);
    }
  }
  // Marks what insn pc needed, then appends it to the path's history.
  void record_insn(Path& path, std::uint32_t pc, std::uint8_t depth, bool callback, const PrecisionNeeds& needs,
                   bool decided_jump);
  // Returns true when the path may stop here; sets `violation` for a detected infinite loop.
  bool visit_prune_point(Path& path, Check& violation);
  // An iterator's next call whose loop converged: the state repeats (is included in) the state of
  // an earlier iteration still being explored on this path.
  // Returns that earlier state's checkpoint, or -1.
  int iter_loop_converged(const Path& path);
  // The non-NULL path of an iterator's next call goes round the loop again: its imprecise scalars
  // that changed since the previous iteration become unknown (the kernel's widen_imprecise_scalars).
  void widen_iteration(const Path& path, State& again);

  Env env_;
  std::vector<Checkpoint> checkpoints_;
  std::vector<std::vector<int>> at_pc_;
  std::vector<Path> pending_;
  std::vector<bool> reached_;
  std::vector<bool> iter_next_;  // calls of an iterator's next kfunc (always prune points)
  int stored_at_visit_ = -1;     // the checkpoint the last visit_prune_point stored, or -1
  LinkedMarksTable linked_marks_;  // what histories' jump entries name
  std::size_t live_bytes_ = 0;  // stored states, their histories and queued paths (estimate)
  std::uint32_t jumps_since_store_ = 0;  // processed since the last stored state, over all paths
  std::uint32_t insns_since_store_ = 0;  // (the kernel's jmps_processed / insn_processed)
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  VerifierStats stats_;
  std::optional<State> failing_;
  std::string log_;
};

// Scalars that changed between an earlier callback entry and this one jump to their extreme
// bounds, so bpf_loop callbacks that accumulate into their context converge (widening). Links
// between scalars (ids) are forgotten there too (sound: a link only narrows): a spill links a slot
// to a register on one call and not on another, and entries differing only in links never cover each other.
void widen_scalars(State& cur, const State& old) {
  if (cur.frames.size() != old.frames.size()) return;
  auto unlink = [](RegValue& v) {
    v.id = 0;
    v.aux = 0;
  };
  for (std::size_t f = 0; f < cur.frames.size(); ++f) {
    auto& cf = cur.frames[f];
    const auto& of = old.frames[f];
    for (std::size_t r = 0; r < cf.regs.size(); ++r)
      if (cf.regs[r].is_scalar() && of.regs[r].is_scalar()) {
        cf.regs[r].value = of.regs[r].value.widen(cf.regs[r].value);
        unlink(cf.regs[r]);
      }
    for (int off = -StackSlots::kBytes; off < 0; off += 8) {
      RegValue* c = cf.stack.spilled(off);
      const RegValue* o = of.stack.spilled(off);
      if (c && o && c->is_scalar() && o->is_scalar()) {
        c->value = o->value.widen(c->value);
        unlink(*c);
      }
    }
  }
}

// Whether two states with the same frames are in the same call of every callback frame (the kernel's
// infinite-loop test compares callback_unroll_depth): a callback's next call may repeat the last one's
// state, as the helper, not the program, decides how often it runs.
bool same_callback_iterations(const State& a, const State& b) {
  if (a.frames.size() != b.frames.size()) return false;
  for (std::size_t f = 0; f < a.frames.size(); ++f)
    if (a.frames[f].callback_iteration != b.frames[f].callback_iteration) return false;
  return true;
}

// Whether two states' iterators went round their loops as often (the kernel's iter_active_depths_differ):
// a state repeated in another iteration of an iterator's loop is no infinite loop, the iterator ends it.
bool same_iter_depths(const State& a, const State& b) {
  for (std::size_t f = 0; f < a.frames.size() && f < b.frames.size(); ++f) {
    const auto& x = a.frames[f].stack.iters();
    const auto& y = b.frames[f].stack.iters();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (x[i].depth != y[i].depth) return false;
  }
  return true;
}

// The active iterator an iterator kfunc call at pc steps (r1 points to it), or null.
const StackSlots::Iter* stepped_iter(const State& s) {
  const RegValue& r1 = s.reg(1);
  if (r1.type != RegType::Stack || !r1.value.is_const() || r1.frame >= s.frames.size()) return nullptr;
  const StackSlots::Iter* it = s.frames[r1.frame].stack.iter_at(static_cast<int>(static_cast<std::int64_t>(r1.value.const_value())));
  return it && it->state == StackSlots::IterState::Active ? it : nullptr;
}

int Explorer::iter_loop_converged(const Path& path) {
  const State& cur = path.state;
  if (stepped_iter(cur) == nullptr) return -1;
  for (int k : at_pc_[path.pc]) {
    const auto& c = checkpoints_[static_cast<std::size_t>(k)];
    if (c.branches == 0 || !c.state || !is_ancestor(k, path.parent)) continue;
    // Every live register and slot compared (the kernel's RANGE_WITHIN): the earlier iteration's
    // marks are not final while its loop is still being explored.
    if (included(cur, *c.state, path.pc)) return k;
  }
  return -1;
}

void Explorer::widen_iteration(const Path& path, State& again) {
  // The previous iteration's state at this call: the nearest stored one on the path before the one
  // this visit stored.
  int k = path.parent;
  if (k >= 0 && k == stored_at_visit_) k = checkpoints_[static_cast<std::size_t>(k)].parent;
  for (; k >= 0; k = checkpoints_[static_cast<std::size_t>(k)].parent) {
    const auto& c = checkpoints_[static_cast<std::size_t>(k)];
    if (c.pc == path.pc && c.state && c.state->frames.size() == again.frames.size()) break;
  }
  if (k < 0) return;
  const auto& c = checkpoints_[static_cast<std::size_t>(k)];
  const State& prev = *c.state;
  for (std::size_t f = 0; f < again.frames.size(); ++f) {
    if (prev.frames[f].entry_pc != again.frames[f].entry_pc || prev.frames[f].callsite != again.frames[f].callsite) return;
  }
  for (std::size_t f = 0; f < again.frames.size(); ++f) {
    const RegsCompared precise = compared(prev, f, path.pc, &c.marks);
    const Frame& pf = prev.frames[f];
    const Frame& af = std::as_const(again).frames[f];
    for (std::size_t r = 0; r < af.regs.size(); ++r) {
      const RegValue& a = af.regs[r];
      const RegValue& p = pf.regs[r];
      if (!a.is_scalar() || !p.is_scalar() || (precise.precise & (1u << r)) || a.value == p.value) continue;
      again.frames[f].regs[r] = RegValue::unknown();
    }
    for (int off = -StackSlots::kBytes; off < 0; off += 8) {
      const RegValue* a = af.stack.spilled(off);
      const RegValue* p = pf.stack.spilled(off);
      if (!a || !p || !a->is_scalar() || !p->is_scalar() || a->value == p->value) continue;
      if ((precise.precise_slots >> StackSlots::slot_of(off)) & 1u) continue;
      again.frames[f].stack.spilled(off)->value = ScalarDomain::top();
    }
  }
}

bool Explorer::visit_prune_point(Path& path, Check& violation) {
  const auto pc = path.pc;
  // Read through a const reference: a non-const access would copy frames the state shares.
  const State& cur = path.state;
  const bool callback_entry = cur.top().callback && pc == cur.top().entry_pc;
  if (callback_entry) {
    // Widen against the nearest earlier entry of the same callback on this path.
    for (int k = path.parent; k >= 0; k = checkpoints_[static_cast<std::size_t>(k)].parent) {
      const auto& c = checkpoints_[static_cast<std::size_t>(k)];
      if (c.pc != pc || !c.state || c.state->frames.size() != cur.frames.size()) continue;
      if (!included(cur, *c.state, pc)) widen_scalars(path.state, *c.state);
      break;
    }
  }
  stored_at_visit_ = -1;
  const bool iter_next = iter_next_[pc];
  if (const int earlier = iter_next ? iter_loop_converged(path) : -1; earlier >= 0) {
    // is_state_visited's iterator rule: this iteration adds nothing the earlier one does not explore.
    // What the rest of it needs reaches the earlier state and its ancestors from its own paths; the
    // states in between never learn it, so they are compared whole from now on.
    for (int k = path.parent; k >= 0 && k != earlier; k = checkpoints_[static_cast<std::size_t>(k)].parent)
      checkpoints_[static_cast<std::size_t>(k)].loop_body = true;
    ++checkpoints_[static_cast<std::size_t>(earlier)].hits;
    return true;
  }
  const bool throttled = !iter_next && env_.cfg.loop_head[pc] && !callback_entry && path.parent >= 0 &&
                         jumps_since_store_ < kLoopStoreJumps && insns_since_store_ < kLoopStoreInsns;
  const bool long_history = path.history.size() >= kMaxHistoryPerCheckpoint;
  bool store = callback_entry || iter_next || path.parent < 0 || long_history ||
               (jumps_since_store_ >= kStoreMinJumps && insns_since_store_ >= kStoreMinInsns);
  // A fully explored state that keeps missing leaves the list at once (the kernel's miss/hit rule in
  // is_state_visited): comparing with it costs more than the rare path it would prune. Misses count
  // only when this visit would store a state, as in the kernel, so a loop's iterations between two
  // stored states do not evict the state of an earlier iteration.
  const bool count_misses = store;
  bool evicted = false;
  auto drop_evicted = [&] {
    if (evicted) std::erase_if(at_pc_[pc], [&](int k) { return !checkpoints_[static_cast<std::size_t>(k)].listed; });
  };
  for (int k : at_pc_[pc]) {
    auto& c = checkpoints_[static_cast<std::size_t>(k)];
    if (c.branches == 0) {
      if (included(cur, *c.state, pc, c.loop_body ? nullptr : &c.marks)) {
        ++c.hits;
        // This path relies on what the explored paths relied on: the kernel's propagate_precision.
        if (c.all_marked || c.loop_body) mark_all_precise(path.parent);
        else mark_precise(path, c.marks, static_cast<std::uint8_t>(cur.frames.size()));
        drop_evicted();
        return true;
      }
      if (count_misses && ++c.misses > kEvictMisses * c.hits + kEvictMisses) {
        c.listed = false;
        forget_state(c);
        evicted = true;
      }
      continue;
    }
    // Still being explored: only an ancestor on this very path can match.
    if (throttled && !long_history) store = false;
    if (!included(cur, *c.state, pc) || !is_ancestor(k, path.parent)) continue;
    // bpf_loop bounds the iterations itself, so a callback entry that repeats is covered. The
    // ancestor's marks are not complete yet, so everything on this path counts as precise.
    if (callback_entry) {
      mark_all_precise(path.parent);
      drop_evicted();
      return true;
    }
    if (!iter_next && included(*c.state, cur, pc) && same_callback_iterations(*c.state, cur) &&
        same_iter_depths(*c.state, cur)) {
      violation = bpfvm::verifier::violation(pc, ViolationKind::InfiniteLoop);
      return true;
    }
  }
  drop_evicted();
  if (!store) return false;
  if (at_pc_[pc].size() >= kMaxCheckpointsPerInsn) evict_useless(pc);
  const bool listed = at_pc_[pc].size() < kMaxCheckpointsPerInsn;
  if (!listed && !long_history) return false;
  checkpoints_.push_back(Checkpoint{listed ? std::make_unique<State>(cur) : nullptr, path.parent, 1, pc});
  auto& stored = checkpoints_.back();
  stored.depth = static_cast<std::uint8_t>(cur.frames.size());
  stored.history = std::move(path.history);
  path.history.clear();
  stored.listed = listed;
  stored.state_bytes = listed ? state_bytes(*stored.state) : 0;
  live_bytes_ += stored.state_bytes + history_bytes(stored.history);
  const int id = static_cast<int>(checkpoints_.size() - 1);
  path.parent = id;
  if (!listed) return false;  // a checkpoint for the history only: no state to compare with
  at_pc_[pc].push_back(id);
  stored_at_visit_ = id;
  jumps_since_store_ = 0;
  insns_since_store_ = 0;
  ++stats_.states_stored;
  return false;
}

void Explorer::mark_all_precise(int k) {
  while (k >= 0) {
    auto& c = checkpoints_[static_cast<std::size_t>(k)];
    if (c.all_marked) return;
    c.marks.mark_all();
    c.all_marked = true;
    k = c.parent;
  }
}

void Explorer::mark_precise(const Path& path, PreciseMarks bt, std::uint8_t depth) {
  const std::vector<HistoryEntry>* history = &path.history;
  for (int k = path.parent; k >= 0;) {
    if (bt.empty()) return;
    if (!backtrack(env_.program, *history, linked_marks_, depth, bt, stats_.backtrack_insns_walked)) {
      mark_all_precise(k);
      return;
    }
    auto& c = checkpoints_[static_cast<std::size_t>(k)];
    // Bits already marked here were propagated further up when they were marked.
    const bool added = c.marks.add(bt);
    if (!added || c.all_marked) return;
    history = &c.history;
    depth = c.depth;
    k = c.parent;
  }
}

void Explorer::record_insn(Path& path, std::uint32_t pc, std::uint8_t depth, bool callback,
                           const PrecisionNeeds& needs, bool decided_jump) {
  PreciseMarks demand{};
  demand.regs[depth - 1u] = static_cast<RegMask>(needs.always | (decided_jump ? needs.if_decided : 0));
  if (callback && !demand.empty())
    mark_all_precise(path.parent);
  else
    mark_precise(path, demand, depth);
  path.history.push_back(HistoryEntry{pc, depth, callback, needs.stack, linked_marks_.intern(needs.linked)});
  stats_.longest_history = std::max<std::uint64_t>(stats_.longest_history, path.history.size());
}

Check Explorer::over_limits(std::uint32_t pc, const Path& path) {
  const auto& opts = env_.options;
  ViolationDetail d;
  if (pending_.size() > opts.max_jump_sequence) {
    d.limit = opts.max_jump_sequence;
    return violation(pc, ViolationKind::JumpSequence, d);
  }
  const std::size_t bytes = live_bytes_ + history_bytes(path.history) + sizeof(State) + linked_marks_.bytes();
  stats_.peak_memory_bytes = std::max<std::uint64_t>(stats_.peak_memory_bytes, bytes);
  if (opts.max_states && stats_.states_stored > opts.max_states) {
    d.limit = static_cast<std::int64_t>(opts.max_states);
    d.note = "the number of stored states (ProgramOptions::max_verifier_states; bpfvm --max-verifier-states)";
  } else if (opts.max_memory_bytes && bytes > opts.max_memory_bytes) {
    d.limit = static_cast<std::int64_t>(opts.max_memory_bytes);
    d.note = "the memory of stored and queued states, in bytes (ProgramOptions::max_verifier_memory_bytes; bpfvm --max-verifier-memory)";
  } else if (opts.max_time_us && (stats_.insns_processed & 1023) == 0 &&
             std::chrono::steady_clock::now() - start_ > std::chrono::microseconds(opts.max_time_us)) {
    d.limit = static_cast<std::int64_t>(opts.max_time_us);
    d.note = "the verification time, in microseconds (ProgramOptions::max_verifier_time_us; bpfvm --max-verifier-time-ms, in ms)";
  } else {
    return std::nullopt;
  }
  return violation(pc, ViolationKind::HostBound, d);
}

Check Explorer::run(State initial) {
  const auto& program = env_.program;
  const auto& opts = env_.options;
  const std::uint32_t entry = initial.frames[0].entry_pc;
  queue(Path{std::move(initial), entry, -1});
  while (!pending_.empty()) {
    Path path = std::move(pending_.back());
    pending_.pop_back();
    live_bytes_ -= path.queued_bytes;
    bool first = true;
    for (;;) {
      const std::uint32_t pc = path.pc;
      if (++stats_.insns_processed > opts.max_processed_insns) {
        ViolationDetail d;
        d.limit = static_cast<std::int64_t>(opts.max_processed_insns);
        return violation(pc, ViolationKind::TooComplex, d);
      }
      if (first && pc != entry && opts.log_level > 0) log_ += log_branch(path.from, pc, path.state);
      if (env_.cfg.prune_point[pc] || iter_next_[pc]) {
        Check loop;
        if (visit_prune_point(path, loop)) {
          if (loop) {
            failing_ = path.state;
            return loop;
          }
          ++stats_.states_pruned;
          if (opts.log_level > 0) log_ += log_pruned(pc);
          finish_path(path.parent);
          break;
        }
      }
      if (opts.log_level > 0) {
        log_ += log_insn(program, pc, opts.log_level > 1 ? &path.state : nullptr);
      }
      first = false;
      reached_[pc] = true;
      const auto& op = program.op(pc);
      // What this insn relies on is marked in the path's stored states once it has run.
      const bool tracked = path.parent >= 0;
      const PrecisionNeeds needs = tracked ? precision_needs(env_, path.state, pc) : PrecisionNeeds{};
      const auto depth = static_cast<std::uint8_t>(path.state.frames.size());
      const bool callback = tracked && in_callback(path.state);
      Successors next;
      next.next_pc = pc + (isa::is_wide(op) ? 2 : 1);
      note_stack_range(env_, path.state, pc);
      Check c;
      switch (op.form) {
        case Form::Alu: case Form::AluUnary:
          c = transfer_alu(env_, path.state, pc);
          break;
        case Form::Load: case Form::LoadSx: case Form::Store: case Form::StoreReg: case Form::Atomic:
        case Form::WideImm:
          c = transfer_memory(env_, path.state, pc);
          break;
        case Form::Jump: case Form::Ja: case Form::Ja32:
          c = transfer_jump(env_, path.state, pc, next);
          break;
        case Form::Call: case Form::CallKfunc: case Form::CallLocal: case Form::CallReg:
          c = transfer_call(env_, path.state, pc, next);
          break;
        case Form::Exit:
          c = transfer_exit(env_, path.state, pc, next);
          break;
        case Form::PacketLoad:
          c = transfer_packet_load(env_, path.state, pc, next);
          break;
      }
      if (c) {
        failing_ = path.state;
        return c;
      }
      if (tracked) record_insn(path, pc, depth, callback, needs, op.form == Form::Jump && next.forks.empty());
      ++insns_since_store_;
      switch (op.form) {  // the kernel counts every BPF_JMP/JMP32-class insn
        case Form::Jump: case Form::Ja: case Form::Ja32: case Form::Call: case Form::CallKfunc: case Form::CallLocal: case Form::CallReg:
        case Form::Exit:
          ++jumps_since_store_;
          break;
        default: break;
      }
      if (iter_next_[pc])
        for (auto& f : next.forks) widen_iteration(path, f.state);
      for (auto& f : next.forks) {
        if (path.parent >= 0) ++checkpoints_[static_cast<std::size_t>(path.parent)].branches;
        queue(Path{std::move(f.state), f.pc, path.parent, pc, path.history});
      }
      if (auto limit = over_limits(pc, path)) {
        failing_ = path.state;
        return limit;
      }
      stats_.peak_states = std::max<std::uint64_t>(stats_.peak_states, pending_.size());
      // Only stores, atomics, calls (helpers writing memory, new frames) and loads of uninitialised
      // bytes deepen a frame's stack.
      if (deepens_stack(op.form))
        for (const auto& f : path.state.frames) {
          const auto used = static_cast<std::uint32_t>(f.stack.depth_bytes());
          stats_.stack_depth_bytes = std::max<std::uint32_t>(stats_.stack_depth_bytes, used);
          note_stack_use(env_, f.entry_pc, used);
        }
      if (next.ends) {
        finish_path(path.parent);
        break;
      }
      path.pc = next.next_pc;
    }
  }
  return std::nullopt;
}

State initial_state(const VerifierOptions& opts) {
  State s;
  s.frames.emplace_back();
  auto& regs = s.frames[0].regs;
  regs[isa::kFramePointer] = RegValue::pointer(RegType::Stack);
  const auto& type = opts.program_type;
  switch (type.entry) {
    case EntryKind::Ctx:
      regs[1] = RegValue::pointer(RegType::Ctx);
      break;
    case EntryKind::PlainMemory:
      regs[1] = RegValue::pointer(RegType::Mem, type.ctx_size_bytes);
      regs[2] = RegValue::scalar(ScalarDomain::constant(type.ctx_size_bytes));
      break;
  }
  return s;
}

// A global function's entry state (the kernel's btf_prepare_func_args + do_check_common for a
// subprog): arguments from its prototype, a maybe-NULL memory pointer for each pointer argument.
State global_initial_state(const GlobalFunc& g) {
  State s;
  s.frames.emplace_back();
  s.frames[0].entry_pc = g.pc;
  auto& regs = s.frames[0].regs;
  regs[isa::kFramePointer] = RegValue::pointer(RegType::Stack);
  for (std::size_t i = 0; i < g.params.size() && i < 5; ++i) {
    auto& r = regs[i + 1];
    switch (g.params[i].kind) {
      case GlobalArgKind::Scalar: r = RegValue::unknown(); break;
      case GlobalArgKind::Ctx: r = RegValue::pointer(RegType::Ctx); break;
      case GlobalArgKind::Mem:
        r = RegValue::pointer(RegType::Mem, g.params[i].size_bytes);
        r.maybe_null = true;
        r.id = static_cast<std::uint32_t>(i) + 1;  // below Explorer's first id
        break;
    }
  }
  return s;
}

// Frames on the deepest chain of BPF-to-BPF calls starting at function `fn` (itself included), over
// the static call graph; kMaxCallFrames + 1 once the limit is passed or the chain is recursive.
// `height` memoises per function start (0 = not yet, -1 = on the current chain); `above` is the
// number of frames on the chain above fn, so the recursion stops within kMaxCallFrames + 1 levels
// however long a hostile program's chain is. `call` receives the call insn in fn that leads to the
// deepest chain.
int call_chain_frames(const vm::Program& p, const Cfg& cfg, std::uint32_t fn, std::vector<int>& height,
                      int above, std::uint32_t* call = nullptr) {
  constexpr int kTooDeep = isa::kMaxCallFrames + 1;
  if (above + 1 >= kTooDeep) return kTooDeep;  // the chain through fn is too deep already
  if (height[fn] == -1) return kTooDeep;  // recursion
  if (height[fn] > 0) return height[fn];
  height[fn] = -1;
  const auto next = std::upper_bound(cfg.subprog_starts.begin(), cfg.subprog_starts.end(), fn);
  const auto end = next == cfg.subprog_starts.end() ? static_cast<std::uint32_t>(p.size()) : *next;
  int deepest = 1;
  for (std::uint32_t pc = fn; pc < end && deepest < kTooDeep; ++pc) {
    if (p.ops[pc] == isa::kNoOp || p.op(pc).form != Form::CallLocal) continue;
    const auto target = static_cast<std::uint32_t>(vm::branch_target(p.insns[pc], p.op(pc), pc));
    const int frames = std::min(kTooDeep, 1 + call_chain_frames(p, cfg, target, height, above + 1));
    if (frames > deepest) {
      deepest = frames;
      if (call) *call = pc;
    }
  }
  height[fn] = deepest;
  return deepest;
}

// The kernel's check_max_stack_depth frame count: exploration does not follow calls to global
// functions, so a chain or a recursion through them is bounded statically, as the kernel does.
Check check_call_depth(const vm::Program& p, const Cfg& cfg) {
  std::vector<int> height(p.size(), 0);
  std::uint32_t call = 0;
  if (call_chain_frames(p, cfg, 0, height, 0, &call) <= isa::kMaxCallFrames) return std::nullopt;
  ViolationDetail d;
  d.limit = isa::kMaxCallFrames;
  return violation(call, ViolationKind::CallDepth, d);
}

// The kernel's check_abnormal_return (a program loaded without BTF func info) and check_btf_func
// (with it): a subprogram other than the main one may use LD_ABS/LD_IND or bpf_tail_call only when
// func info says it returns a scalar (an int or enum), since either can end the program through that
// subprogram's exit. Checked before exploration, as the kernel does while reading func info.
Check check_abnormal_exits(const vm::Program& p, const Cfg& cfg, const VerifierOptions& o) {
  if (o.func_info == VerifierOptions::FuncInfo::Unknown) return std::nullopt;
  constexpr std::uint32_t kTailCallHelper = 12;  // BPF_FUNC_tail_call
  for (std::uint32_t pc = 0; pc < p.size(); ++pc) {
    if (p.ops[pc] == isa::kNoOp) continue;  // the second slot of an lddw
    const std::uint32_t fn = cfg.subprog_of(pc);
    const auto form = p.op(pc).form;
    const bool ld_abs = form == Form::PacketLoad;
    const bool tail_call = form == Form::Call && p.insns[pc].imm == static_cast<std::int32_t>(kTailCallHelper);
    if (fn == 0 || (!ld_abs && !tail_call)) continue;
    const bool btf = o.func_info == VerifierOptions::FuncInfo::Btf;
    if (btf && std::find(o.scalar_return_funcs.begin(), o.scalar_return_funcs.end(), fn) != o.scalar_return_funcs.end()) continue;
    ViolationDetail d;
    d.other_pc = fn;
    d.note = ld_abs ? (btf ? "LD_ABS is only allowed in functions that return 'int'" : "LD_ABS is not allowed in subprogs without BTF")
                    : (btf ? "tail_call is only allowed in functions that return 'int'" : "tail_call is not allowed in subprogs without BTF");
    return violation(pc, ViolationKind::AbnormalSubprogExit, d);
  }
  return std::nullopt;
}

// The kernel's check_max_stack_depth size rule: along every chain of calls (BPF-to-BPF calls and
// callbacks named by lddw_func) the frames' stack sizes, each rounded up to 16 bytes as for the JIT,
// add up to at most 512. `stack` holds each function's deepest explored stack byte; `total` memoises
// the deepest chain's bytes from each function (-1 = on the current chain: recursion adds nothing more).
std::int64_t chain_stack_bytes(const vm::Program& p, const Cfg& cfg, std::span<const std::uint32_t> stack,
                               std::uint32_t fn, std::vector<std::int64_t>& total, int above,
                               std::uint32_t* call = nullptr) {
  if (above > isa::kMaxCallFrames || total[fn] == -1) return 0;
  if (total[fn] > 0) return total[fn];
  total[fn] = -1;
  const std::int64_t own = fn < stack.size() ? (std::int64_t{stack[fn]} + 15) / 16 * 16 : 0;
  const auto next = std::upper_bound(cfg.subprog_starts.begin(), cfg.subprog_starts.end(), fn);
  const auto end = next == cfg.subprog_starts.end() ? static_cast<std::uint32_t>(p.size()) : *next;
  std::int64_t deepest = 0;
  for (std::uint32_t pc = fn; pc < end; ++pc) {
    if (p.ops[pc] == isa::kNoOp) continue;
    const auto& op = p.op(pc);
    std::int64_t target = -1;
    if (op.form == Form::CallLocal) target = vm::branch_target(p.insns[pc], op, pc);
    if (op.form == Form::WideImm && static_cast<isa::LddwSrc>(p.insns[pc].src) == isa::LddwSrc::Func)
      target = std::int64_t{pc} + 1 + p.insns[pc].imm;
    if (target < 0 || target >= static_cast<std::int64_t>(p.size())) continue;
    const std::int64_t below = chain_stack_bytes(p, cfg, stack, static_cast<std::uint32_t>(target), total, above + 1);
    if (below > deepest) {
      deepest = below;
      if (call) *call = pc;
    }
  }
  total[fn] = std::max<std::int64_t>(own + deepest, 1);
  return own + deepest;
}

Check check_combined_stack(const vm::Program& p, const Cfg& cfg, std::span<const std::uint32_t> stack) {
  std::vector<std::int64_t> total(p.size(), 0);
  std::uint32_t call = 0;
  const std::int64_t bytes = chain_stack_bytes(p, cfg, stack, 0, total, 0, &call);
  if (bytes <= StackSlots::kBytes) return std::nullopt;
  ViolationDetail d;
  d.size = bytes;
  d.limit = StackSlots::kBytes;
  d.note = "combined stack size of the calls is too large";
  return violation(call, ViolationKind::CallDepth, d);
}

// A cycle in the static BPF-to-BPF call graph (the kernel's check_max_stack_depth walks it and
// refuses a recursion as a call stack too deep, whether or not a path would take it): the call insn
// that closes the cycle and its target. Iterative depth-first search (a hostile program may chain
// thousands of functions); `state` per function start: 0 unseen, 1 on the chain, 2 done.
Check check_recursion(const vm::Program& p, const Cfg& cfg) {
  std::vector<std::uint8_t> state(p.size(), 0);
  struct Visit {
    std::uint32_t fn, pc, end;
  };
  auto enter = [&](std::uint32_t fn) {
    state[fn] = 1;
    const auto next = std::upper_bound(cfg.subprog_starts.begin(), cfg.subprog_starts.end(), fn);
    return Visit{fn, fn, next == cfg.subprog_starts.end() ? static_cast<std::uint32_t>(p.size()) : *next};
  };
  std::vector<Visit> chain{enter(0)};
  while (!chain.empty()) {
    Visit& v = chain.back();
    if (v.pc == v.end) {
      state[v.fn] = 2;
      chain.pop_back();
      continue;
    }
    const std::uint32_t pc = v.pc++;
    if (p.ops[pc] == isa::kNoOp || p.op(pc).form != Form::CallLocal) continue;
    const auto target = static_cast<std::uint32_t>(vm::branch_target(p.insns[pc], p.op(pc), pc));
    if (state[target] == 1) {
      ViolationDetail d;
      d.other_pc = target;
      return violation(pc, ViolationKind::RecursiveCall, d);
    }
    if (state[target] == 0) chain.push_back(enter(target));
  }
  return std::nullopt;
}

// The kernel's sanitize_dead_code, for the constructs engines cannot even prepare: a call of a
// helper id the registry lacks, which no explored path reaches (libbpf poisons a CO-RE relocation it
// cannot resolve as `call 0xbad2310`, behind a guard the target BTF makes constant), and a write to
// r10 (vm::writes_frame_pointer; the kernel refuses only one it explores, "frame pointer is read
// only"). Every explored path would have been refused at such an insn, so it is dead; it becomes
// `exit` (both slots of an lddw).
vm::Program without_dead_unpreparable(const vm::Program& program, const VerifierOptions& options,
                                       const std::vector<bool>& reached) {
  vm::Program out = program;
  for (std::size_t pc = 0; pc < out.size(); ++pc) {
    if (reached[pc] || out.ops[pc] == isa::kNoOp) continue;
    const Form form = out.op(pc).form;
    constexpr isa::OpId kExit = isa::find_op("exit", isa::Operand::None);
    auto to_exit = [&](std::size_t at) {
      out.insns[at] = vm::Insn{};
      out.insns[at].code = isa::kOps[kExit].code;
      out.ops[at] = kExit;
    };
    if (vm::writes_frame_pointer(out.op(pc), out.insns[pc])) {
      if (isa::is_wide(out.op(pc))) to_exit(pc + 1);
      to_exit(pc);
      continue;
    }
    if (form != Form::Call && form != Form::CallKfunc) continue;
    if (form == Form::Call && options.helpers && options.helpers->find(static_cast<std::uint32_t>(out.insns[pc].imm))) continue;
    // A kfunc no engine could call (unknown, unsupported, a poisoned weak one) is dead code as well.
    if (form == Form::CallKfunc && options.helpers && vm::resolve_kfunc_call(out, pc, *options.helpers)) continue;
    to_exit(pc);
  }
  return out;
}

// An accepted program's warnings (deduplicated); writes the final log.
std::vector<Warning> acceptance_warnings(const VerifierOptions& options, std::span<const WarningFact> facts,
                                         std::string log, const VerifierStats& stats) {
  std::vector<Warning> warnings;
  for (const auto& w : facts) {
    const std::string m = warning_message(w);
    const bool seen = std::any_of(warnings.begin(), warnings.end(), [&](const Warning& x) { return x.pc == w.pc && x.message == m; });
    if (!seen) warnings.push_back(Warning{w.pc, m});
  }
  if (options.log_level > 0 && options.log) {
    for (const auto& w : warnings) log += "warning: insn " + std::to_string(w.pc) + ": " + w.message + "\n";
    *options.log = std::move(log) + log_summary(stats, true);
  }
  return warnings;
}

}  // namespace

// The kernel's bpf_cgroup_storage_assign (resolve_pseudo_ldimm64, before any other check): a program may
// reference one CGROUP_STORAGE and one PERCPU_CGROUP_STORAGE map at most, on any path or none.
Check check_cgroup_storages(const vm::Program& p, const VerifierOptions& o) {
  constexpr std::uint32_t kCgroupStorage = 19, kPercpuCgroupStorage = 21;  // enum bpf_map_type
  std::optional<std::uint32_t> first[2];
  for (std::uint32_t pc = 0; pc < p.size(); ++pc) {
    if (p.ops[pc] == isa::kNoOp || p.op(pc).form != Form::WideImm) continue;
    const auto src = static_cast<isa::LddwSrc>(p.insns[pc].src);
    if (src != isa::LddwSrc::MapFd && src != isa::LddwSrc::MapIdx && src != isa::LddwSrc::MapValue &&
        src != isa::LddwSrc::MapIdxValue)
      continue;
    const auto index = static_cast<std::uint32_t>(p.insns[pc].imm);
    const auto map = map_info_of(o, index);
    if (!map || (map->type != kCgroupStorage && map->type != kPercpuCgroupStorage)) continue;
    auto& seen = first[map->type == kPercpuCgroupStorage];
    if (seen && *seen != index) {
      ViolationDetail d;
      d.limit = index;
      d.note = "only one cgroup storage of each type is allowed";
      return violation(pc, ViolationKind::MapForProgram, d);
    }
    seen = index;
  }
  return std::nullopt;
}

Result<VerifiedProgram> verify(const vm::Program& program, const VerifierOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed_us = [&] {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  };
  auto reject = [&](const Violation& v, const State* state, const VerifierStats& stats, std::string log,
                    const GlobalFunc* root = nullptr) {
    std::string text = violation_message(program, options, v, state);
    if (root)
      text += " (in global function " + root->name +
              ", verified once for any arguments its BTF prototype allows: pointer arguments may be NULL)";
    Error e = make_error(Errc::Rejected, std::move(text), v.pc);
    if (options.log_level > 0 && options.log) {
      VerifierStats st = stats;
      st.time_us = elapsed_us();
      *options.log = std::move(log) + "insn " + std::to_string(v.pc) + ": " + e.reason + "\n" + log_summary(st, false);
    }
    return e;
  };
  if (program.size() == 0 || program.ops.size() != program.insns.size())
    return make_error(Errc::InvalidArgument, "program is empty or not decoded");

  if (auto c = check_cgroup_storages(program, options)) return reject(*c, nullptr, {}, {});
  Cfg cfg;
  if (auto c = build_cfg(program, !options.unprivileged, cfg)) return reject(*c, nullptr, {}, {});
  cfg.precise_in = precise_registers(program, cfg);
  if (auto c = check_recursion(program, cfg)) return reject(*c, nullptr, {}, {});
  if (auto c = check_call_depth(program, cfg)) return reject(*c, nullptr, {}, {});
  if (auto c = check_abnormal_exits(program, cfg, options)) return reject(*c, nullptr, {}, {});

  // The main program first, then every global function some verified path called, each once, on its
  // own (the kernel's do_check_main, then do_check_subprogs for subprogs marked `called`).
  std::vector<const GlobalFunc*> queue{nullptr};  // null: the main program
  std::vector<WarningFact> warnings;
  std::string log;
  VerifierStats stats;
  std::vector<std::uint32_t> fn_stack(program.size(), 0);
  std::vector<std::uint8_t> access_base(program.size(), kAccessUnseen);
  std::vector<vm::StackRange> stack_ranges(program.size());  // None until some path touches the stack
  bool reads_uninit_stack = false;
  std::vector<std::int64_t> map_ptr_loads;  // per insn: the constant a map pointer load reads (Env::map_ptr_loads)
  std::vector<bool> reached(program.size(), false);
  for (std::size_t i = 0; i < queue.size(); ++i) {
    const GlobalFunc* root = queue[i];
    if (root && options.log_level > 0)
      log += "global function " + root->name + " at insn " + std::to_string(root->pc) +
             ": verified on its own, for any arguments its prototype allows\n";
    Explorer explorer(program, options, cfg, root, stats);
    const Check c = explorer.run(root ? global_initial_state(*root) : initial_state(options));
    stats = explorer.stats();
    log += explorer.log();
    if (c) {
      stats.time_us = elapsed_us();
      return reject(*c, explorer.failing_state(), stats, std::move(log), root);
    }
    warnings.insert(warnings.end(), explorer.warnings().begin(), explorer.warnings().end());
    const auto& used = explorer.fn_stack_bytes();
    for (std::size_t fn = 0; fn < used.size() && fn < fn_stack.size(); ++fn) fn_stack[fn] = std::max(fn_stack[fn], used[fn]);
    reads_uninit_stack = reads_uninit_stack || explorer.reads_uninit_stack();
    stats.tp_buffer_bytes = std::max(stats.tp_buffer_bytes, explorer.tp_buffer_bytes());
    stats.ctx_bytes_reached = std::max(stats.ctx_bytes_reached, explorer.ctx_bytes_reached());
    const auto& map_loads = explorer.map_ptr_loads();
    for (std::size_t pc = 0; pc < map_loads.size(); ++pc) {
      if (map_loads[pc] == kMapLoadUnseen) continue;
      if (map_ptr_loads.empty()) map_ptr_loads.assign(program.size(), kMapLoadUnseen);
      if (map_ptr_loads[pc] != kMapLoadUnseen && map_ptr_loads[pc] != map_loads[pc]) {
        ViolationDetail d;
        d.reg = program.insns[pc].src;
        d.note = "a load through a map pointer that another path reaches with another map or pointer";
        stats.time_us = elapsed_us();
        return reject(violation(static_cast<std::uint32_t>(pc), ViolationKind::Unsupported, d), nullptr, stats,
                      std::move(log), root);
      }
      map_ptr_loads[pc] = map_loads[pc];
    }
    const auto& bases = explorer.access_base();
    for (std::size_t pc = 0; pc < bases.size() && pc < access_base.size(); ++pc) {
      if ((access_base[pc] | bases[pc]) == (kAccessCtx | kAccessOther)) {
        ViolationDetail d;
        const Form f = program.op(static_cast<std::uint32_t>(pc)).form;
        d.reg = f == Form::Load || f == Form::LoadSx ? program.insns[pc].src : program.insns[pc].dst;
        stats.time_us = elapsed_us();
        return reject(violation(static_cast<std::uint32_t>(pc), ViolationKind::MixedPointerBase, d), nullptr, stats,
                      std::move(log), root);
      }
      access_base[pc] |= bases[pc];
    }
    for (std::size_t pc = 0; pc < reached.size(); ++pc) reached[pc] = reached[pc] || explorer.reached()[pc];
    // A global function is verified for any arguments of its prototype: its pointer arguments are not
    // stack pointers to it, though a caller may pass them, so its accesses are not bounded here.
    const auto& ranges = explorer.stack_ranges();
    for (std::size_t pc = 0; pc < stack_ranges.size(); ++pc) {
      if (root != nullptr && explorer.reached()[pc]) stack_ranges[pc] = vm::StackRange::unknown();
      else if (pc < ranges.size()) stack_ranges[pc].join(ranges[pc]);
    }
    for (std::uint32_t pc : explorer.globals_called())
      if (const GlobalFunc* g = options.global_func(pc); std::find(queue.begin(), queue.end(), g) == queue.end())
        queue.push_back(g);
  }
  if (auto c = check_combined_stack(program, cfg, fn_stack)) {
    stats.time_us = elapsed_us();
    return reject(*c, nullptr, stats, std::move(log));
  }
  stats.time_us = elapsed_us();
  std::vector<std::uint8_t> ctx_accesses(program.size(), 0);
  for (std::size_t pc = 0; pc < program.size(); ++pc) ctx_accesses[pc] = access_base[pc] == kAccessCtx ? 1 : 0;
  vm::Program verified = without_dead_unpreparable(program, options, reached);
  // The kernel's engines read struct bpf_map; bpfvm's read the constant the verifier proved.
  constexpr isa::OpId kMov32Imm = isa::find_op("mov32", isa::Operand::Imm);
  for (std::size_t pc = 0; pc < map_ptr_loads.size(); ++pc) {
    if (map_ptr_loads[pc] < 0) continue;
    const std::uint8_t dst = verified.insns[pc].dst;
    verified.insns[pc] = vm::Insn{};
    verified.insns[pc].code = isa::kOps[kMov32Imm].code;
    verified.insns[pc].dst = dst;
    verified.insns[pc].imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(map_ptr_loads[pc]));
    verified.ops[pc] = kMov32Imm;
  }
  return VerifiedProgram(std::move(verified), stats,
                         acceptance_warnings(options, warnings, std::move(log), stats), std::move(ctx_accesses),
                         std::move(stack_ranges), reads_uninit_stack);
}

}  // namespace bpfvm::verifier
