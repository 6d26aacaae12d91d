// Lowering to SSA in two steps. (1) Flattening: every BPF-to-BPF call site gets its own copy
// ("instance") of the callee's blocks, so the whole program becomes one CFG; a call jumps to the
// copy's entry and its exits jump back to the block after the call. (2) SSA construction over
// that CFG in reverse post-order: a block with one predecessor inherits its environment, a join of
// translated predecessors gets a phi only for the variables whose values differ there, a loop head
// a phi per variable (Aycock and Horspool), and trivial phis are removed.
//
// Variables are r0..r9 plus, per inlined depth, the caller's r6..r9 kept across the call (BPF
// calls preserve them; the callee sees the caller's values, as in the interpreter). r10 of the
// frame at depth d is FramePtr(d). r1..r5 keep their values across helper calls, as the interpreter
// keeps them (a verified program never reads them there).
#include "jit/opt/lower.hpp"

#include <algorithm>

#include "jit/emit_driver.hpp"
#include "jit/opt/array_lookup.hpp"
#include "jit/opt/passes.hpp"
#include "jit/opt/ssa_join.hpp"
#include "vm/program.hpp"

namespace bpfvm::jit::opt {

using isa::Form;
using isa::Kind;

namespace {

struct Instance {
  std::uint32_t depth = 0;
  std::int32_t cont = -1;              // flat block the callee's exits continue at (depth > 0)
  std::vector<std::int32_t> block_at;  // pc -> flat block, -1 if none yet
};

// PacketLoad: LD_ABS/LD_IND, succs {its hidden exit, next}; HiddenExit: a block of no instructions
// that returns 0 from the current function (the kernel's `r0 = 0; exit` outside the packet).
// TailCall: a call of bpf_tail_call, succs {its tail exit, next}; TailExit: no instructions, the
// target's r0 returns from the current function (to the inlined subprogram's caller, as the target's
// exit does in the interpreter). A callx: CallxTest blocks compare the value with each subprogram
// whose address the program takes (succs {its CallxEnter, the next test}; the first is the block
// ending at the callx), CallxEnter enters that subprogram's copy as a local call does, and the last
// test falls to CallxHelper: the value as a helper id (succs {its tail exit, next}).
enum class Term : std::uint8_t {
  Fall, Jump, Cond, Exit, Return, Call, PacketLoad, HiddenExit, TailCall, TailExit, CallxTest, CallxEnter, CallxHelper
};

struct FlatBlock {
  std::uint32_t instance = 0;
  std::uint32_t start = 0, end = 0;  // pcs [start, end): the last one is the terminator unless Fall
  Term term = Term::Fall;
  IdList succs;                      // Cond: taken, fallthrough
  std::uint32_t site = 0;            // TailCall, TailExit, Callx*: the pc of the call or callx
  std::uint32_t root = 0;            // CallxTest: the subprogram compared with
};

class Flattener {
 public:
  Flattener(const CompileRequest& req, std::uint32_t root_pc) : req_(req), p_(*req.program), root_pc_(root_pc) {}

  Result<void> run() {
    leaders_.assign(p_.size() + 1, false);
    leaders_[0] = true;
    for (std::size_t pc = 0; pc < p_.size(); ++pc) {
      if (p_.ops[pc] == isa::kNoOp) continue;
      const auto& op = p_.op(pc);
      const auto next = pc + (isa::is_wide(op) ? 2 : 1);
      switch (op.form) {
        case Form::Jump: case Form::Ja: case Form::Ja32: case Form::CallLocal:
          leaders_[static_cast<std::size_t>(vm::branch_target(p_.insns[pc], op, pc))] = true;
          leaders_[next] = true;
          break;
        case Form::Exit: case Form::PacketLoad: case Form::CallReg:
          leaders_[next] = true;
          break;
        case Form::Call: case Form::CallKfunc:
          if (calls_tail_call(req_, static_cast<std::uint32_t>(pc))) leaders_[next] = true;
          break;
        case Form::Alu: case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::Store:
        case Form::StoreReg: case Form::Atomic: case Form::WideImm:
          break;
      }
    }
    leaders_[root_pc_] = true;
    callx_roots_ = callback_roots(p_);
    instances_.push_back(Instance{0, -1, std::vector<std::int32_t>(p_.size(), -1)});
    block_for(0, root_pc_);
    while (!work_.empty()) {
      const auto b = work_.back();
      work_.pop_back();
      auto r = scan(b);
      if (!r) return r;
    }
    return {};
  }

  std::size_t flat_insns() const { return flat_insns_; }

  std::vector<FlatBlock> blocks;
  std::vector<Instance> instances_;
  std::uint32_t max_depth = 0;

 private:
  std::uint32_t block_for(std::uint32_t inst, std::uint32_t pc) {
    auto& at = instances_[inst].block_at[pc];
    if (at < 0) {
      at = static_cast<std::int32_t>(blocks.size());
      blocks.push_back(FlatBlock{inst, pc, pc, Term::Fall, {}});
      work_.push_back(static_cast<std::uint32_t>(at));
    }
    return static_cast<std::uint32_t>(at);
  }

  /// A block of no instructions at `site` (the flattener's own: never scanned).
  std::uint32_t synthetic(std::uint32_t inst, std::uint32_t site, Term term, IdList succs) {
    blocks.push_back(FlatBlock{inst, site, site, term, std::move(succs), site});
    return static_cast<std::uint32_t>(blocks.size() - 1);
  }
  /// Where a taken tail call goes: the current function's return with the target's r0.
  std::uint32_t tail_exit(std::uint32_t inst, std::uint32_t site) {
    IdList succs;
    if (instances_[inst].depth > 0) succs.push_back(static_cast<std::uint32_t>(instances_[inst].cont));
    return synthetic(inst, site, Term::TailExit, std::move(succs));
  }
  /// A new copy of the subprogram at `target` called from instance `inst`, continuing at `cont`.
  Result<std::uint32_t> inline_call(std::uint32_t inst, std::uint32_t pc, std::uint32_t target, std::uint32_t cont) {
    const auto depth = instances_[inst].depth + 1;
    if (depth >= static_cast<std::uint32_t>(isa::kMaxCallFrames))
      return unsupported(pc, "calls nested deeper than the call-depth limit").error();
    if (instances_.size() >= kMaxInstances) return unsupported(pc, "too many call sites to inline").error();
    instances_.push_back(Instance{depth, static_cast<std::int32_t>(cont), std::vector<std::int32_t>(p_.size(), -1)});
    max_depth = std::max(max_depth, depth);
    return block_for(static_cast<std::uint32_t>(instances_.size() - 1), target);
  }

  Result<void> unsupported(std::uint32_t pc, const std::string& what) const {
    return make_error(Errc::Unsupported, "optimizing JIT: " + what + " (the baseline tier runs it)", pc);
  }

  Result<void> scan(std::uint32_t b) {
    const std::uint32_t inst = blocks[b].instance;
    std::uint32_t pc = blocks[b].start;
    for (;;) {
      if ((flat_insns_ += 1) > kMaxFlatInsns) return unsupported(pc, "program too large after inlining");
      const auto& op = p_.op(pc);
      const auto& insn = p_.insns[pc];
      const std::uint32_t next = pc + (isa::is_wide(op) ? 2 : 1);
      auto target = [&] { return static_cast<std::uint32_t>(vm::branch_target(insn, op, pc)); };
      auto finish = [&](Term t, IdList succs) {
        blocks[b].end = next;
        blocks[b].term = t;
        blocks[b].succs = std::move(succs);
        return Result<void>{};
      };
      switch (op.form) {
        case Form::CallReg: {
          // The value is one of the subprograms an lddw_func names (their addresses are FuncAddr
          // values), each inlined behind a compare, or else a helper id.
          const auto cont = block_for(inst, next);
          blocks[b].end = next;
          blocks[b].site = pc;
          std::uint32_t test = b;  // compares with the next subprogram, or is the helper block
          for (const auto root : callx_roots_) {
            auto callee = inline_call(inst, pc, root, cont);
            if (!callee) return std::move(callee).error();
            const auto enter = synthetic(inst, pc, Term::CallxEnter, {*callee});
            const auto rest = synthetic(inst, pc, Term::CallxTest, {});
            blocks[test].term = Term::CallxTest;
            blocks[test].root = root;
            blocks[test].succs = {enter, rest};
            test = rest;
          }
          const auto exit = tail_exit(inst, pc);
          blocks[test].term = Term::CallxHelper;
          blocks[test].succs = {exit, cont};
          return {};
        }
        case Form::PacketLoad: {
          if (req_.helpers.empty() || req_.helpers[pc] == nullptr) return unsupported(pc, "unresolved packet-load entry");
          // Outside the packet the current function returns 0: a block of its own that exits (depth 0)
          // or returns to the caller's continuation.
          const auto hidden = static_cast<std::uint32_t>(blocks.size());
          const auto depth = instances_[inst].depth;
          blocks.push_back(FlatBlock{inst, pc, pc, Term::HiddenExit, {}});
          if (depth > 0) blocks[hidden].succs = {static_cast<std::uint32_t>(instances_[inst].cont)};
          return finish(Term::PacketLoad, {hidden, block_for(inst, next)});
        }
        case Form::WideImm:
          break;
        case Form::Call: case Form::CallKfunc:
          if (req_.helpers.empty() || req_.helpers[pc] == nullptr) return unsupported(pc, "unresolved helper");
          // A taken tail call leaves the function for the target's trampoline (the backends' stub): only
          // the outermost function can be left that way, and a checked build's frames are its own stack.
          if (calls_tail_call(req_, pc)) {
            blocks[b].site = pc;
            const auto exit = tail_exit(inst, pc);
            return finish(Term::TailCall, {exit, block_for(inst, next)});
          }
          break;
        case Form::Alu: case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::Store:
        case Form::StoreReg: case Form::Atomic:
          break;
        case Form::Jump: {
          const auto taken = block_for(inst, target());
          const auto fall = block_for(inst, next);
          return finish(Term::Cond, {taken, fall});
        }
        case Form::Ja: case Form::Ja32: return finish(Term::Jump, {block_for(inst, target())});
        case Form::Exit:
          if (instances_[inst].depth == 0) return finish(Term::Exit, {});
          return finish(Term::Return, {static_cast<std::uint32_t>(instances_[inst].cont)});
        case Form::CallLocal: {
          auto callee = inline_call(inst, pc, target(), block_for(inst, next));
          if (!callee) return std::move(callee).error();
          return finish(Term::Call, {*callee});
        }
      }
      if (leaders_[next]) {
        blocks[b].end = next;
        blocks[b].term = Term::Fall;
        blocks[b].succs = {block_for(inst, next)};
        return {};
      }
      pc = next;
    }
  }

  const CompileRequest& req_;
  const vm::Program& p_;
  std::vector<std::uint32_t> callx_roots_;  // subprograms whose address the program takes
  std::vector<bool> leaders_;
  std::vector<std::uint32_t> work_;
  std::size_t flat_insns_ = 0;
  std::uint32_t root_pc_ = 0;
};

constexpr unsigned kRegVars = 10;  // r0..r9

unsigned saved_var(std::uint32_t depth, unsigned reg) { return kRegVars + (depth - 1) * 4 + (reg - 6); }

class SsaBuilder {
 public:
  SsaBuilder(const CompileRequest& req, Flattener& flat, std::uint32_t root_pc)
      : req_(req), p_(*req.program), flat_(flat), root_pc_(root_pc) {
    // Counted and checked builds pay their budget per segment, as the baseline does (Op::Charge).
    if (req.variant != Variant::Fast) segment_len_ = budget_segments(p_);
  }

  Result<Function> run() {
    order_blocks();
    nvars_ = kRegVars + 4 * flat_.max_depth;
    fn_.max_depth = flat_.max_depth;
    fn_.root_pc = root_pc_;
    // Block 0 is a synthetic entry (the first program block may be a loop head and need phis).
    fn_.blocks.resize(rpo_.size() + 1);
    // About two values per instruction (its result and a constant operand): few reallocations.
    fn_.values.reserve(2 * flat_.flat_insns() + 4 * rpo_.size() + 16);
    fn_.blocks[0].succs.push_back(1);
    fn_.blocks[1].preds.push_back(0);
    for (std::size_t i = 0; i < rpo_.size(); ++i)
      for (auto s : flat_.blocks[rpo_[i]].succs) {
        fn_.blocks[i + 1].succs.push_back(index_[s]);
        fn_.blocks[index_[s]].preds.push_back(static_cast<BlockId>(i + 1));
      }
    exit_env_.assign(rpo_.size() + 1, nvars_);
    tail_flag_.assign(rpo_.size() + 1, kNoValue);
    build_entry();
    for (std::size_t i = 0; i < rpo_.size(); ++i) translate(static_cast<BlockId>(i + 1));
    fill_phis();
    remove_trivial_phis(fn_);
    return std::move(fn_);
  }

 private:
  void order_blocks() {
    // Iterative DFS post-order from flat block 0.
    const auto n = flat_.blocks.size();
    std::vector<std::uint8_t> state(n, 0);
    std::vector<std::pair<std::uint32_t, std::size_t>> stack{{0, 0}};
    state[0] = 1;
    std::vector<std::uint32_t> post;
    while (!stack.empty()) {
      auto& [b, i] = stack.back();
      if (i < flat_.blocks[b].succs.size()) {
        const auto s = flat_.blocks[b].succs[i++];
        if (state[s] == 0) {
          state[s] = 1;
          stack.push_back({s, 0});
        }
      } else {
        post.push_back(b);
        stack.pop_back();
      }
    }
    rpo_.assign(post.rbegin(), post.rend());
    index_.assign(n, 0);
    for (std::size_t i = 0; i < rpo_.size(); ++i) index_[rpo_[i]] = static_cast<BlockId>(i + 1);
  }

  void build_entry() {
    for (std::uint32_t d = 0; d <= flat_.max_depth; ++d)
      frame_ptrs_.push_back(fn_.add(0, Inst{.op = Op::FramePtr, .imm = d}));
    const ValueId zero = constant(0, 0);
    ValueId* env = exit_env_[0];
    std::fill_n(env, nvars_, zero);  // r0, r6..r9 start at 0 like the interpreter's
    for (unsigned i = 0; i < 5; ++i) env[1 + i] = fn_.add(0, Inst{.op = Op::Arg, .imm = i});
    if (checked()) fn_.add(0, Inst{.op = Op::Frames, .imm = 0});
    fn_.add(0, Inst{.op = Op::Jmp});
  }

  ValueId constant(BlockId b, std::int64_t v) { return fn_.add(b, Inst{.op = Op::Const, .imm = v}); }
  bool checked() const { return req_.variant == Variant::Checked; }
  /// Checked builds: the live frames become depths 0..depth (a local call or a return).
  void enter_frames(BlockId b, std::uint32_t depth, std::uint32_t pc) {
    if (checked()) fn_.add(b, Inst{.op = Op::Frames, .imm = depth, .pc = pc});
  }

  void mark_map_handle(ValueId v) {
    if (map_handle_.size() <= v) map_handle_.resize(v + 1);
    map_handle_[v] = true;
  }

  /// The array layout when the helper call at pc is bpf_map_lookup_elem on a plain array whose map
  /// handle (an lddw of a map, on any path to here: SSA) is in r1. Fast builds only, as the baseline.
  std::optional<vm::DirectArray> inlinable_array(std::uint32_t pc, ValueId r1) const {
    const vm::HelperEntry* helper = req_.helpers[pc];
    if (req_.variant == Variant::Checked || helper->direct_array == nullptr) return std::nullopt;
    if (r1 >= map_handle_.size() || !map_handle_[r1]) return std::nullopt;
    return helper->direct_array(static_cast<std::uint64_t>(fn_.values[r1].imm));
  }

  /// The map's own lookup entry when the helper call at pc is bpf_map_lookup_elem on a map that
  /// offers one (hash maps) and r1 is a map lddw's handle on every path; nullptr otherwise.
  vm::DirectLookupFn direct_lookup(std::uint32_t pc, ValueId r1) const {
    const vm::HelperEntry* helper = req_.helpers[pc];
    if (req_.variant == Variant::Checked || helper->direct_lookup == nullptr) return nullptr;
    if (r1 >= map_handle_.size() || !map_handle_[r1]) return nullptr;
    return helper->direct_lookup(static_cast<std::uint64_t>(fn_.values[r1].imm));
  }

  void translate(BlockId b) {
    const FlatBlock& fb = flat_.blocks[rpo_[b - 1]];
    const auto depth = flat_.instances_[fb.instance].depth;
    // The block's row of exit_env_ is its environment, updated in place: it leaves the block as is.
    ValueId* env = exit_env_[b];
    // Its instructions, about two values per BPF instruction: one allocation instead of growing.
    fn_.blocks[b].insts.reserve(2 * (fb.end - fb.start) + 2);
    const auto& preds = fn_.blocks[b].preds;
    const bool all_preds_done = std::all_of(preds.begin(), preds.end(), [&](BlockId p) { return p < b; });
    if (preds.size() == 1 && all_preds_done) {
      std::copy_n(exit_env_[preds[0]], nvars_, env);
    } else if (all_preds_done) {
      const auto joined = join_predecessors(preds, exit_env_, nvars_, [&](std::vector<ValueId> args) {
        return fn_.add(b, Inst{.op = Op::Phi, .args = std::move(args)});
      });
      std::copy(joined.begin(), joined.end(), env);
    } else {
      // A loop head: a phi per variable, its arguments filled once the back edges' blocks are done.
      for (unsigned v = 0; v < nvars_; ++v) env[v] = fn_.add(b, Inst{.op = Op::Phi});
      phi_blocks_.push_back(b);
    }
    auto reg = [&](unsigned r) { return r == isa::kFramePointer ? frame_ptrs_[depth] : env[r]; };
    std::uint32_t pc = fb.start, last_pc = fb.start;
    while (pc < fb.end) {
      last_pc = pc;
      const auto& op = p_.op(pc);
      const auto& insn = p_.insns[pc];
      const std::uint32_t next = pc + (isa::is_wide(op) ? 2 : 1);
      const bool w64 = op.width == 64;
      if (!segment_len_.empty() && segment_len_[pc] != 0)
        fn_.add(b, Inst{.op = Op::Charge, .imm = segment_len_[pc], .pc = pc});
      const std::size_t first_value = fn_.values.size();
      auto src_operand = [&] {
        return op.operand == isa::Operand::Reg ? reg(insn.src) : constant(b, insn.imm);
      };
      switch (op.form) {
        case Form::Alu:
          if (op.kind == Kind::Mov) {
            if (op.operand == isa::Operand::Reg)
              env[insn.dst] = w64 ? reg(insn.src) : fn_.add(b, Inst{.op = Op::Zext32, .args = {reg(insn.src)}});
            else
              env[insn.dst] = constant(b, w64 ? std::int64_t{insn.imm} : std::int64_t{std::uint32_t(insn.imm)});
          } else if (op.kind == Kind::MovSx) {
            env[insn.dst] = fn_.add(b, Inst{.op = Op::MovSx, .width = op.width,
                                            .bits = static_cast<std::uint8_t>(insn.off), .args = {reg(insn.src)}});
          } else {
            env[insn.dst] = fn_.add(b, Inst{.op = Op::Alu, .kind = op.kind, .width = op.width,
                                            .args = {reg(insn.dst), src_operand()}});
          }
          break;
        case Form::AluUnary:
          env[insn.dst] = fn_.add(b, Inst{.op = Op::Unary, .kind = op.kind, .width = op.width,
                                          .bits = op.width, .args = {reg(insn.dst)}});
          break;
        case Form::Load: case Form::LoadSx:
          env[insn.dst] = fn_.add(b, Inst{.op = Op::Load, .bits = static_cast<std::uint8_t>(op.width / 8),
                                          .sx = op.form == Form::LoadSx, .off = insn.off, .args = {reg(insn.src)}});
          break;
        case Form::Store: case Form::StoreReg: {
          const ValueId value = op.form == Form::Store ? constant(b, insn.imm) : reg(insn.src);
          fn_.add(b, Inst{.op = Op::Store, .bits = static_cast<std::uint8_t>(op.width / 8), .off = insn.off,
                          .args = {reg(insn.dst), value}});
          break;
        }
        case Form::WideImm:
          if (static_cast<isa::LddwSrc>(insn.src) == isa::LddwSrc::Func) {
            env[insn.dst] = fn_.add(b, Inst{.op = Op::FuncAddr, .imm = static_cast<std::int64_t>(func_target(insn, pc))});
            break;
          }
          env[insn.dst] = constant(b, static_cast<std::int64_t>(req_.lddw_values[pc]));
          if (const auto src = static_cast<isa::LddwSrc>(insn.src); src == isa::LddwSrc::MapFd || src == isa::LddwSrc::MapIdx)
            mark_map_handle(env[insn.dst]);
          break;
        case Form::Atomic: {
          const bool fetch = (insn.imm & isa::enc::kFetch) != 0;
          Inst atomic{.op = Op::Atomic, .kind = op.kind, .width = op.width, .bits = static_cast<std::uint8_t>(op.width / 8),
                      .fetch = fetch, .off = insn.off, .pc = pc, .args = {reg(insn.dst), reg(insn.src)}};
          if (op.kind == Kind::CmpXchg) atomic.args.push_back(env[0]);
          const ValueId old = fn_.add(b, std::move(atomic));
          if (op.kind == Kind::CmpXchg) env[0] = old;  // r0 = the old value
          else if (fetch || op.kind == Kind::Xchg) env[insn.src] = old;
          break;
        }
        case Form::Call: case Form::CallKfunc:
          if (const auto array = inlinable_array(pc, env[1])) {
            env[0] = lower_array_lookup(fn_, b, *array, env[2]);
            break;
          }
          if (const vm::DirectLookupFn direct = direct_lookup(pc, env[1])) {
            // A call of the map's entry on (r1, r2) (Inst::imm, ir.hpp): r3..r5 are not its arguments.
            env[0] = fn_.add(b, Inst{.op = Op::Call, .imm = static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(direct)),
                                     .pc = pc, .helper = req_.helpers[pc], .args = {env[1], env[2]}});
            break;
          }
          env[0] = fn_.add(b, Inst{.op = Op::Call, .pc = pc, .helper = req_.helpers[pc],
                                   .args = {env[1], env[2], env[3], env[4], env[5]}});
          break;
        case Form::Jump:
          fn_.add(b, Inst{.op = Op::Branch, .kind = op.kind, .width = op.width, .args = {reg(insn.dst), src_operand()}});
          break;
        case Form::Ja: case Form::Ja32:
          fn_.add(b, Inst{.op = Op::Jmp});
          break;
        case Form::Exit:
          if (depth == 0) {
            fn_.add(b, Inst{.op = Op::Ret, .args = {env[0]}});
          } else {
            for (unsigned r = 6; r <= 9; ++r) env[r] = env[saved_var(depth, r)];
            enter_frames(b, depth - 1, pc);
            fn_.add(b, Inst{.op = Op::Jmp});
          }
          break;
        case Form::CallLocal:
          for (unsigned r = 6; r <= 9; ++r) env[saved_var(depth + 1, r)] = env[r];
          enter_frames(b, depth + 1, pc);
          fn_.add(b, Inst{.op = Op::Jmp});
          break;
        case Form::PacketLoad: {
          // As the interpreter: the registry's packet-load entry called like a helper on (r6, offset,
          // bytes); r1..r5 keep their values; a negative result means outside the packet.
          ValueId offset = constant(b, insn.imm);  // 64 bits like the kernel's r2
          if (op.kind == Kind::LdInd)
            offset = fn_.add(b, Inst{.op = Op::Alu, .kind = Kind::Add, .width = 64, .args = {reg(insn.src), offset}});
          const ValueId loaded = fn_.add(b, Inst{.op = Op::Call, .pc = pc, .helper = req_.helpers[pc],
                                                 .args = {env[isa::kPacketLoadCtxReg], offset, constant(b, op.width / 8),
                                                          constant(b, 0), constant(b, 0)}});
          env[0] = loaded;
          fn_.add(b, Inst{.op = Op::Branch, .kind = Kind::Jslt, .width = 64, .args = {loaded, constant(b, 0)}});
          break;
        }
        case Form::CallReg:
          break;  // the block's terminator (Term::CallxTest / CallxHelper, below)
      }
      // Every value knows its source instruction (listings, helper-fault messages); a checked
      // build checks every access until drop_proven_checks.
      for (std::size_t v = first_value; v < fn_.values.size(); ++v) {
        auto& value = fn_.values[v];
        value.pc = pc;
        if (value.op == Op::Load || value.op == Op::Store || value.op == Op::Atomic) {
          value.checked = checked();
          value.depth = static_cast<std::uint8_t>(depth);
        }
      }
      pc = next;
    }
    const std::uint32_t site = fb.site;
    switch (fb.term) {
      case Term::Fall:
        fn_.add(b, Inst{.op = Op::Jmp, .pc = last_pc});
        break;
      case Term::HiddenExit:
        env[0] = constant(b, 0);
        return_from(b, depth, fb.start);
        break;
      case Term::TailCall:  // the Call is env[0]
        tail_call_check(b, depth, site, fb.succs[0]);
        break;
      case Term::TailExit:
        env[0] = fn_.add(b, Inst{.op = Op::TailResult, .pc = site, .args = {tail_flag_[b]}});
        return_from(b, depth, site);
        break;
      case Term::CallxTest: {
        const ValueId addr = fn_.add(b, Inst{.op = Op::FuncAddr, .imm = fb.root, .pc = site});
        fn_.add(b, Inst{.op = Op::Branch, .kind = Kind::Jeq, .width = 64, .pc = site,
                        .args = {reg(p_.insns[site].dst), addr}});
        break;
      }
      case Term::CallxEnter:  // as Form::CallLocal
        for (unsigned r = 6; r <= 9; ++r) env[saved_var(depth + 1, r)] = env[r];
        enter_frames(b, depth + 1, site);
        fn_.add(b, Inst{.op = Op::Jmp, .pc = site});
        break;
      case Term::CallxHelper:
        // As the interpreter's callx of a helper id, which may name bpf_tail_call.
        env[0] = fn_.add(b, Inst{.op = Op::Call, .pc = site,
                                 .args = {env[1], env[2], env[3], env[4], env[5], reg(p_.insns[site].dst)}});
        tail_call_check(b, depth, site, fb.succs[0]);
        break;
      case Term::Jump: case Term::Cond: case Term::Exit: case Term::Return: case Term::Call: case Term::PacketLoad:
        break;  // the terminator was the block's last instruction
    }
  }

  /// r0 as the current function's result: the program's Ret, or an inlined callee's return.
  void return_from(BlockId b, std::uint32_t depth, std::uint32_t pc) {
    ValueId* env = exit_env_[b];
    if (depth == 0) {
      fn_.add(b, Inst{.op = Op::Ret, .pc = pc, .args = {env[0]}});
      return;
    }
    for (unsigned r = 6; r <= 9; ++r) env[r] = env[saved_var(depth, r)];
    enter_frames(b, depth - 1, pc);
    fn_.add(b, Inst{.op = Op::Jmp, .pc = pc});
  }

  /// After a call that may have been bpf_tail_call: to the block's tail exit when a target ran.
  void tail_call_check(BlockId b, std::uint32_t depth, std::uint32_t pc, std::uint32_t exit) {
    const ValueId ran = fn_.add(b, Inst{.op = Op::TailCall, .imm = depth, .pc = pc});
    fn_.add(b, Inst{.op = Op::Branch, .kind = Kind::Jne, .width = 64, .pc = pc, .args = {ran, constant(b, 0)}});
    tail_flag_[index_[exit]] = ran;  // its only predecessor: translated first
  }

  void fill_phis() {
    for (auto b : phi_blocks_) {
      const auto& blk = fn_.blocks[b];
      for (unsigned v = 0; v < nvars_; ++v) {
        auto& phi = fn_.values[blk.insts[v]];
        for (auto pred : blk.preds) phi.args.push_back(exit_env_[pred][v]);
      }
    }
  }

  const CompileRequest& req_;
  const vm::Program& p_;
  Flattener& flat_;
  std::uint32_t root_pc_;
  Function fn_;
  unsigned nvars_ = 0;
  std::vector<std::uint32_t> rpo_;
  std::vector<BlockId> index_;
  std::vector<ValueId> frame_ptrs_;
  ExitEnvs exit_env_;
  std::vector<BlockId> phi_blocks_;
  std::vector<ValueId> tail_flag_;  // per TailExit block: the TailCall that leads there
  std::vector<bool> map_handle_;  // per value: a constant an lddw of a map produced
  std::vector<std::uint32_t> segment_len_;  // counted/checked builds: budget_segments
};

}  // namespace

Result<Function> lower_to_ssa(const CompileRequest& req, std::uint32_t root_pc) {
  Flattener flat(req, root_pc);
  auto flattened = flat.run();
  if (!flattened) return std::move(flattened).error();
  return SsaBuilder(req, flat, root_pc).run();
}

std::vector<std::uint32_t> callback_roots(const vm::Program& program) {
  std::vector<std::uint32_t> roots;
  for (std::size_t pc = 0; pc < program.size(); ++pc)
    if (program.ops[pc] != isa::kNoOp && program.op(pc).form == Form::WideImm &&
        static_cast<isa::LddwSrc>(program.insns[pc].src) == isa::LddwSrc::Func)
      roots.push_back(static_cast<std::uint32_t>(func_target(program.insns[pc], pc)));
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  return roots;
}

}  // namespace bpfvm::jit::opt
