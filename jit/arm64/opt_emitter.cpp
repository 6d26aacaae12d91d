// Instruction selection for the optimizing tier on AArch64. Values live where the linear-scan
// allocator put them (24 registers: x0–x13 and x19–x28, or a spill slot); x14–x17 and x30 are
// scratch (x30, the link register, is saved by the prologue and only BL/BLR clobber it). Frame: one
// native function, entered like the baseline trampoline; after the prologue [sp] = JitState*,
// [sp+16+8k] = slot k, then (16-aligned) the eBPF stack frames of every inlined depth, deepest
// lowest, so a stack access is one [sp, #imm] and a frame address costs no register; sp stays
// 16-byte aligned (AAPCS64), so helper calls need no adjustment. Counted and checked builds keep
// JitState* in x28 (for Op::Frames and the checked accesses' inline test) and the budget left in x27
// (Op::Charge; JitState::budget_left around helper calls and at the exit), neither allocated.
#include "jit/arm64/opt_emitter.hpp"

#include <asmjit/arm.h>
#include <asmjit/arm/a64assembler.h>
#include <asmjit/arm/a64utils.h>

#include <algorithm>
#include <bit>
#include <optional>
#include <string>
#include <utility>

#include "jit/arm64/access_check.hpp"
#include "jit/arm64/instruction_forms.hpp"
#include "jit/native_assembly.hpp"
#include "jit/opt/bit_field.hpp"
#include "jit/opt/listing_notes.hpp"
#include "jit/opt/moves.hpp"
#include "jit/opt/regalloc.hpp"
#include "jit/runtime.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;
using isa::Kind;
using opt::Inst;
using opt::Loc;
using opt::Op;
using opt::ValueId;

namespace {

constexpr std::uint32_t kResult = 16;   // x16: results bound for a slot, first operands, cycle breaking
constexpr std::uint32_t kOperand = 17;  // x17: second operands, slot-to-slot moves
constexpr std::uint32_t kAddress = 15;  // x15: JitState*, atomic addresses, large offsets, quotients
constexpr std::uint32_t kExtra = 14;    // x14: the value an exclusive loop stores, cmpxchg's comparand
constexpr std::uint32_t kStatus = 30;   // w30: exclusive-store status
constexpr std::uint32_t kState = 28;    // counted and checked builds: JitState*
constexpr std::uint32_t kBudget = 27;   // counted and checked builds: instructions the run may still execute
constexpr std::int32_t kStateOff = 0, kSlotBase = 16;
constexpr std::int64_t kStackBytes = isa::kStackBytes;
// Callee-saved registers the prologue keeps (AAPCS64 6.1.1), in STP pairs after x29/x30.
constexpr std::uint32_t kCalleeSaved[][2] = {{19, 20}, {21, 22}, {23, 24}, {25, 26}, {27, 28}};
constexpr std::int32_t kSaveBytes = 96;
// [sp + kSlotBase + 8k] must stay a Load/store register (unsigned immediate) offset (imm12 * 8).
constexpr std::uint32_t kMaxSlots = 4000;

opt::RegisterFile register_file(bool counting) {
  opt::RegisterFile rf;
  // Caller-saved first: values that cross no call take them and leave the callee-saved ones free.
  for (std::uint8_t r = 0; r <= 13; ++r) rf.allocatable.push_back(r);
  for (std::uint8_t r = 19; r <= 28; ++r)
    if (!counting || (r != kState && r != kBudget)) rf.allocatable.push_back(r);
  rf.survives_calls.assign(31, false);
  for (std::uint32_t r = 19; r <= 28; ++r) rf.survives_calls[r] = true;
  return rf;
}

std::string reg_name(std::uint32_t id) { return "x" + std::to_string(id); }

a64::Gp gp(std::uint32_t id, bool w64) { return w64 ? a64::Gp(a64::GpX(id)) : a64::Gp(a64::GpW(id)); }
a64::Gp X(std::uint32_t id) { return a64::GpX(id); }
a64::Gp W(std::uint32_t id) { return a64::GpW(id); }

class OptEmitter {
 public:
  OptEmitter(opt::Function& fn, const CompileRequest& req, a64::Assembler& a, const opt::Allocation& al,
             const std::vector<FunctionEntry>& functions)
      : fn_(fn), a_(a), al_(al), functions_(functions), counting_(req.variant != Variant::Fast),
        checked_(req.variant == Variant::Checked), zero_stack_(req.zero_stack || counting_),
        program_code_(req.program_code) {
    if (req.listing) notes_.emplace(fn, al, *req.program, reg_name);
  }

  /// `dispatcher`: first at offset 0, a jump to JitState::entry (a build with callbacks).
  Result<void> emit(bool dispatcher) {
    labels_.resize(fn_.blocks.size());
    for (auto& l : labels_) l = a_.newLabel();
    ret_ = a_.newLabel();
    exit_ = a_.newLabel();
    fail_ = a_.newLabel();
    // The eBPF frames live in this function's own frame (JitState::frame_top's stack goes unused):
    // depth d's r10 is sp + frame_disp(d), fixed for the whole body.
    frames_base_ = (kSlotBase + 8 * al_.num_slots + 15) & ~15u;
    // A checked build publishes the frames as the run's stack (Op::Frames) even when no FramePtr is left.
    const bool uses_frames = std::any_of(fn_.values.begin(), fn_.values.end(), [](const Inst& i) {
      return !i.dead && (i.op == Op::FramePtr || i.op == Op::Frames);
    });
    const auto frames_bytes = uses_frames ? (fn_.max_depth + 1) * static_cast<std::uint32_t>(kStackBytes) : 0u;
    frame_bytes_ = frames_base_ + frames_bytes;

    if (notes_) {
      // The listing's first line names the tier; a callback's function says where it starts.
      if (fn_.root_pc == 0) a_.comment(notes_->header("arm64").c_str());
      else a_.comment(("function of the callback at pc " + std::to_string(fn_.root_pc)).c_str());
    }
    if (dispatcher) {
      // Offset 0, what run_native's trampoline address enters: on to the program's function or, for a
      // callback's nested run, the callback's (JitState::entry).
      if (notes_) a_.comment("dispatch to JitState::entry");
      a_.ldr(X(kResult), a64::ptr(a64::x0, static_cast<std::int32_t>(offsetof(JitState, entry))));
      a_.br(X(kResult));
    }
    if (notes_) a_.comment("entry prologue");
    a_.bind(function_entry(functions_, fn_.root_pc));
    a_.stp(a64::x29, a64::x30, a64::ptr_pre(a64::sp, -kSaveBytes));
    a_.mov(a64::x29, a64::sp);
    for (std::size_t i = 0; i < std::size(kCalleeSaved); ++i)
      a_.stp(X(kCalleeSaved[i][0]), X(kCalleeSaved[i][1]), a64::ptr(a64::sp, static_cast<std::int32_t>(16 + 16 * i)));
    adjust_sp(false);
    a_.str(a64::x0, a64::ptr(a64::sp, kStateOff));
    if (counting_) {
      // The check stub's faults unwind to this sp.
      a_.mov(X(kState), a64::x0);
      a_.mov(X(kResult), a64::sp);
      a_.str(X(kResult), a64::ptr(X(kState), offsetof(JitState, saved_rsp)));
      a_.ldr(X(kBudget), budget_left());
    }
    if (zero_stack_ && frames_bytes != 0) {
      // Unwritten stack reads as zero (JitOptions::zero_stack, and counted and checked runs as in
      // the interpreter): a loop of STP xzr, xzr over every frame (x16/x17 hold nothing yet).
      add_sp_imm(X(kResult), frames_base_);
      move_wide_imm(a_, X(kOperand), frames_bytes / 16);
      const Label clear = a_.newLabel();
      a_.bind(clear);
      a_.stp(a64::xzr, a64::xzr, a64::ptr_post(X(kResult), 16));
      a_.subs(X(kOperand), X(kOperand), Imm(1));
      a_.b_ne(clear);
    }

    plan_folds();
    auto plan = opt::emission_plan(fn_, al_);
    alias_ = std::move(plan.alias);
    for (const auto& placed : plan.blocks) {
      // Loop heads start on a 16-byte boundary, as on x86-64.
      if (placed.loop_head) a_.align(AlignMode::kCode, 16);
      for (auto f : placed.forwarded) a_.bind(labels_[f]);
      a_.bind(labels_[placed.id]);
      flags_of_ = nullptr;  // other edges enter here
      if (notes_) a_.comment(notes_->block(placed.id, placed.loop_head).c_str());
      next_ = placed.next;
      for (auto id : fn_.blocks[placed.id].insts) {
        if (fn_.values[id].dead) continue;
        if (notes_)
          for (const auto& line : notes_->value(id)) a_.comment(line.c_str());
        auto r = emit_inst(placed.id, id);
        if (!r) return r;
      }
    }

    if (notes_) a_.comment("stub: epilogue");
    a_.bind(ret_);
    load_state();
    a_.str(a64::x0, state(offsetof(JitState, r0)));
    a_.mov(a64::w0, a64::wzr);
    a_.bind(exit_);
    if (counting_) a_.str(X(kBudget), budget_left());  // x28 and x27 hold on every path here
    adjust_sp(true);
    for (std::size_t i = std::size(kCalleeSaved); i-- > 0;)
      a_.ldp(X(kCalleeSaved[i][0]), X(kCalleeSaved[i][1]), a64::ptr(a64::sp, static_cast<std::int32_t>(16 + 16 * i)));
    a_.ldp(a64::x29, a64::x30, a64::ptr_post(a64::sp, kSaveBytes));
    a_.ret(a64::x30);
    a_.bind(fail_);
    a_.mov(a64::w0, Imm(1));
    a_.b(exit_);
    emit_cold_paths();
    return {};
  }

 private:
  const Inst& val(ValueId v) const { return fn_.values[v]; }
  static a64::Mem slot_mem(std::int64_t slot) {
    return a64::ptr(a64::sp, static_cast<std::int32_t>(kSlotBase + 8 * slot));
  }
  static a64::Mem state(std::size_t offset) { return a64::ptr(X(kAddress), static_cast<std::int32_t>(offset)); }
  void load_state() { a_.ldr(X(kAddress), a64::ptr(a64::sp, kStateOff)); }
  static a64::Mem budget_left() { return a64::ptr(X(kState), offsetof(JitState, budget_left)); }

  /// sub/add sp, sp, #frame: the frame is below 32 KiB, so two Add/subtract (immediate) at most.
  void adjust_sp(bool release) {
    for (std::uint32_t part : {frame_bytes_ & ~0xfffu, frame_bytes_ & 0xfffu}) {
      if (part == 0) continue;
      if (release) a_.add(a64::sp, a64::sp, Imm(part));
      else a_.sub(a64::sp, a64::sp, Imm(part));
    }
  }

  Loc loc(ValueId v) const { return opt::location(fn_, al_, v); }

  /// sp + this = r10 of the inlined frame at `depth` (plus `disp`).
  std::int64_t frame_disp(std::int64_t depth, std::int64_t disp = 0) const {
    return frames_base_ + (static_cast<std::int64_t>(fn_.max_depth) + 1 - depth) * kStackBytes + disp;
  }
  /// dst = sp + value: Add (immediate) in at most two parts for 0 <= value < 2^24 (every verified
  /// access), else through x14 (ADD's shifted-register form cannot read sp).
  void add_sp_imm(const a64::Gp& dst, std::int64_t value) {
    if (value < 0 || value >= (std::int64_t{1} << 24)) {
      a_.mov(X(kExtra), a64::sp);
      add_imm(dst, X(kExtra), value);
      return;
    }
    const auto low = static_cast<std::uint64_t>(value) & 0xfffu, high = static_cast<std::uint64_t>(value) & 0xfff000u;
    if (high == 0) {
      a_.add(dst, a64::sp, Imm(low));
      return;
    }
    a_.add(dst, a64::sp, Imm(high));
    if (low != 0) a_.add(dst, dst, Imm(low));
  }
  /// ids' load or store of rt (not x14/x15/x17) at a Load/Store's address: one [sp, #imm] for a
  /// frame (load_store takes an offset it cannot encode through x15), else [reg, #imm]; indexed:
  /// [base, index{, LSL #scale}] (Load/store register (register offset)) when there is no
  /// displacement and the scale is 0 or the access size, else the sum in x15 first.
  void access(LoadStoreIds ids, const a64::Gp& rt, const Inst& i) {
    if (i.checked) {  // the address was tested into x15 (checked_address)
      a_.emit(ids.scaled, rt, a64::ptr(X(kAddress)));
      return;
    }
    const Loc l = loc(i.args[0]);
    const ValueId index = opt::index_of(i);
    if (index == opt::kNoValue) {
      if (l.kind == Loc::Kind::Frame) load_store(a_, ids, rt, a64::sp, frame_disp(l.v, i.off), i.bits, X(kAddress));
      else load_store(a_, ids, rt, use(i.args[0], kOperand), i.off, i.bits, X(kAddress));
      return;
    }
    std::int64_t disp = i.off;
    a64::Gp base = a64::sp;
    if (l.kind == Loc::Kind::Frame) {
      add_sp_imm(X(kAddress), frame_disp(l.v, disp));
      base = X(kAddress), disp = 0;
    } else {
      base = use(i.args[0], kOperand);
    }
    const a64::Gp idx = use(index, kExtra);
    if (disp == 0 && (i.scale == 0 || (1u << i.scale) == i.bits)) {
      a_.emit(ids.scaled, rt, i.scale == 0 ? a64::ptr(base, idx) : a64::ptr(base, idx, arm::lsl(i.scale)));
      return;
    }
    if (i.scale == 0) a_.add(X(kAddress), base, idx);
    else a_.add(X(kAddress), base, idx, arm::lsl(i.scale));
    load_store(a_, ids, rt, X(kAddress), disp, i.bits, X(kExtra));
  }
  /// x15 = the address of a Load/Store/Atomic (x14 and x17 may be used on the way).
  void address_into_x15(const Inst& i) {
    const Loc l = loc(i.args[0]);
    const ValueId index = opt::index_of(i);
    std::int64_t disp = i.off;
    a64::Gp base = X(kAddress);
    if (l.kind == Loc::Kind::Frame) {
      add_sp_imm(X(kAddress), frame_disp(l.v, disp));
      disp = 0;
    } else {
      base = use(i.args[0], kOperand);
    }
    if (index != opt::kNoValue) {
      const a64::Gp idx = use(index, kExtra);
      if (i.scale == 0) a_.add(X(kAddress), base, idx);
      else a_.add(X(kAddress), base, idx, arm::lsl(i.scale));
      base = X(kAddress);
    }
    if (disp != 0 || base.id() != kAddress) add_imm(X(kAddress), base, disp);
  }
  /// Checked builds: x15 = the access's address, tested inline (access_check.hpp: x16, x17 scratch)
  /// and else by the check stub, which keeps every allocatable caller-saved register.
  void checked_address(const Inst& i, bool write) {
    address_into_x15(i);
    if (!check_stub_.isValid()) check_stub_ = a_.newLabel();
    emit_access_check(a_, X(kAddress), X(kResult), X(kOperand), X(kState), i.bits, write, i.pc,
                      [&] { a_.bl(check_stub_); });  // x30 is scratch here: the prologue saved it
  }
  /// Counted/checked builds: budget segments that cannot be paid, and the checked accesses' slow path.
  void emit_cold_paths() {
    if (!budget_cold_.empty()) {
      if (notes_) a_.comment("stub: budget exhausted");
      const Label common = a_.newLabel();
      for (const auto& c : budget_cold_) {
        a_.bind(c.entry);
        move_wide_imm(a_, a64::w1, c.pc);
        move_wide_imm(a_, a64::w2, c.length);
        a_.b(common);
      }
      a_.bind(common);  // sp as in the body: 16-byte aligned for the call
      a_.str(X(kBudget), budget_left());  // jit_budget_exhausted reads it
      a_.mov(a64::x0, X(kState));
      move_wide_imm(a_, X(kResult), reinterpret_cast<std::uint64_t>(&jit_budget_exhausted));
      a_.blr(X(kResult));
      a_.b(fail_);
    }
    if (check_stub_.isValid()) {
      // x15 = address, x16 = access_info; x0–x13 (values live there), x15 and the return address kept.
      if (notes_) a_.comment("stub: checked access slow path");
      a_.bind(check_stub_);
      constexpr std::uint32_t kSaved[][2] = {{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {10, 11}, {12, 13}, {kAddress, 30}};
      constexpr auto kSavedBytes = static_cast<std::int32_t>(16 * std::size(kSaved));
      a_.stp(X(kSaved[0][0]), X(kSaved[0][1]), a64::ptr_pre(a64::sp, -kSavedBytes));
      for (std::size_t k = 1; k < std::size(kSaved); ++k)
        a_.stp(X(kSaved[k][0]), X(kSaved[k][1]), a64::ptr(a64::sp, static_cast<std::int32_t>(16 * k)));
      a_.mov(a64::x0, X(kState));
      a_.mov(a64::x1, X(kAddress));
      a_.mov(a64::x2, X(kResult));
      move_wide_imm(a_, X(kResult), reinterpret_cast<std::uint64_t>(&jit_check_access));
      a_.blr(X(kResult));
      const Label fault = a_.newLabel();
      a_.tst(a64::w0, Imm(0xff));  // AAPCS64: a bool return defines only bits 7:0
      a_.b_eq(fault);
      for (std::size_t k = std::size(kSaved); k-- > 1;)
        a_.ldp(X(kSaved[k][0]), X(kSaved[k][1]), a64::ptr(a64::sp, static_cast<std::int32_t>(16 * k)));
      a_.ldp(X(kSaved[0][0]), X(kSaved[0][1]), a64::ptr_post(a64::sp, kSavedBytes));
      a_.ret(a64::x30);
      a_.bind(fault);  // the fault is recorded: unwind to the body's sp
      a_.ldr(X(kResult), a64::ptr(X(kState), offsetof(JitState, saved_rsp)));
      a_.mov(a64::sp, X(kResult));
      a_.b(fail_);
    }
  }

  /// The constant as an operation of this width sees it (32 bits: its low half).
  static std::uint64_t at_width(std::int64_t value, bool w64) {
    return w64 ? static_cast<std::uint64_t>(value) : static_cast<std::uint32_t>(value);
  }

  /// v in a register: its own, or `scratch` loaded from its slot or immediate.
  a64::Gp use(ValueId v, std::uint32_t scratch, bool w64 = true) {
    const Loc l = loc(v);
    switch (l.kind) {
      case Loc::Kind::Reg: return gp(static_cast<std::uint32_t>(l.v), w64);
      case Loc::Kind::Slot: a_.ldr(X(scratch), slot_mem(l.v)); break;
      case Loc::Kind::Imm: move_wide_imm(a_, gp(scratch, w64), at_width(l.v, w64)); break;
      case Loc::Kind::Frame: add_sp_imm(X(scratch), frame_disp(l.v)); break;
    }
    return gp(scratch, w64);
  }
  /// Register the result of v is computed in: its own, or x16 (then stored by finish()).
  std::uint32_t target(ValueId v) const { return al_.reg[v] >= 0 ? static_cast<std::uint32_t>(al_.reg[v]) : kResult; }
  void finish(ValueId v) {
    if (al_.reg[v] < 0 && al_.slot[v] >= 0) a_.str(X(kResult), slot_mem(al_.slot[v]));
  }
  /// The result's location (if it has one) <- the register `from`.
  void result_from(ValueId v, std::uint32_t from) {
    if (al_.reg[v] >= 0 || al_.slot[v] >= 0) emit_move(loc(v), {Loc::Kind::Reg, from});
  }

  Result<void> unsupported(const Inst& i, const std::string& what) const {
    return make_error(Errc::Unsupported, "optimizing JIT (arm64): " + what + " (the baseline tier runs it)", i.pc);
  }

  void emit_move(const Loc& dst, const Loc& src) {
    if (dst.kind == Loc::Kind::Reg) {
      const auto d = static_cast<std::uint32_t>(dst.v);
      if (src.kind == Loc::Kind::Reg) a_.mov(X(d), X(static_cast<std::uint32_t>(src.v)));
      else if (src.kind == Loc::Kind::Slot) a_.ldr(X(d), slot_mem(src.v));
      else if (src.kind == Loc::Kind::Frame) add_sp_imm(X(d), frame_disp(src.v));
      else move_wide_imm(a_, X(d), static_cast<std::uint64_t>(src.v));
      return;
    }
    if (src.kind == Loc::Kind::Reg) {
      a_.str(X(static_cast<std::uint32_t>(src.v)), slot_mem(dst.v));
    } else if (src.kind == Loc::Kind::Imm && src.v == 0) {
      a_.str(a64::xzr, slot_mem(dst.v));
    } else {
      emit_move({Loc::Kind::Reg, kOperand}, src);
      a_.str(X(kOperand), slot_mem(dst.v));
    }
  }
  void parallel_move(std::vector<opt::Move> moves) {
    for (const auto& m : opt::sequentialize(std::move(moves), kResult)) emit_move(m.dst, m.src);
  }
  bool falls_into(opt::BlockId b) const { return static_cast<std::int64_t>(alias_[b]) == next_; }
  void jump_to(opt::BlockId b) {
    if (!falls_into(b)) a_.b(labels_[b]);
  }

  /// dst = src + value, through kExtra when Add/subtract (immediate) cannot encode it.
  void add_imm(const a64::Gp& dst, const a64::Gp& src, std::int64_t value) {
    const std::uint64_t mag = value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
    if (add_sub_imm_encodable(mag)) {
      if (value < 0) a_.sub(dst, src, Imm(mag)); else a_.add(dst, src, Imm(mag));
      return;
    }
    move_wide_imm(a_, X(kExtra), static_cast<std::uint64_t>(value));
    a_.add(dst, src, X(kExtra));
  }
  /// Shifted-register operands: an add/sub/and/orr/eor whose operand is a shift by a constant
  /// (1..width-1, the same width) that nothing else reads and that comes right before it (nothing
  /// but constants between, so no code runs between them and the shift's source is still where it
  /// was) reads the source as `Rm, LSL/LSR/ASR #n`; the shift emits nothing (fold_user_). So does a
  /// branch's compare (CMP/TST, shifted register) whose right operand is such a shift, unless the
  /// latch's back-edge moves go before the compare (they may overwrite the shift's source).
  /// Bit-field extracts first (opt/bit_field.hpp: `ubfx t, x, #s, #len` for an and and a shift), then
  /// shifted-register operands among what they left.
  void plan_folds() {
    std::vector<std::uint32_t> uses(fn_.values.size(), 0);
    for (const auto& v : fn_.values)
      if (!v.dead)
        for (auto a : v.args) ++uses[a];
    fields_ = opt::plan_bit_fields(fn_, uses, std::vector<bool>(fn_.values.size(), false));
    plan_shift_folds(uses);
  }
  void plan_shift_folds(const std::vector<std::uint32_t>& uses) {
    fold_user_.assign(fn_.values.size(), opt::kNoValue);
    auto foldable = [&](ValueId shift, const Inst& user) {
      const Inst& s = val(shift);
      if (fields_.part[shift] || fields_.field[shift].len != 0) return false;  // an extract's
      if (s.op != Op::Alu || uses[shift] != 1 || s.width != user.width || !fn_.is_const(s.args[1])) return false;
      if (s.kind != Kind::Lsh && s.kind != Kind::Rsh && s.kind != Kind::Arsh) return false;
      return (static_cast<std::uint64_t>(val(s.args[1]).imm) & (s.width - 1u)) != 0;
    };
    for (opt::BlockId b = 0; b < fn_.blocks.size(); ++b) {
      ValueId prev = opt::kNoValue;  // the last instruction that emits code (constants do not)
      for (auto id : fn_.blocks[b].insts) {
        const Inst& i = val(id);
        if (i.dead || i.op == Op::Const) continue;
        if (fields_.part[id] || fields_.field[id].len != 0) {  // emits an extract or nothing
          prev = id;
          continue;
        }
        if (prev != opt::kNoValue && i.op == Op::Branch && i.args[1] == prev && i.args[0] != prev &&
            !fn_.is_const(i.args[0]) && foldable(prev, i) && opt::hoisted_latch_edge(fn_, al_, b) < 0) {
          fold_user_[id] = prev;
          fold_user_[prev] = kFoldedAway;
        }
        const bool logical = i.kind == Kind::Or || i.kind == Kind::And || i.kind == Kind::Xor;
        if (prev != opt::kNoValue && i.op == Op::Alu && (i.kind == Kind::Add || i.kind == Kind::Sub || logical) &&
            !fn_.is_const(i.args[0]) && !fn_.is_const(i.args[1]) && i.args[0] != i.args[1]) {
          // Only the second operand has the shifted form: Sub's first one stays.
          const bool second = i.args[1] == prev, first = i.args[0] == prev && i.kind != Kind::Sub;
          if ((second || first) && foldable(prev, i)) {
            fold_user_[id] = prev;
            fold_user_[prev] = kFoldedAway;
          }
        }
        prev = id;
      }
    }
  }
  Result<void> emit_shifted_operand(ValueId id);
  /// The `LSL/LSR/ASR #n` operand of a shift plan_shift_folds folded into its user.
  arm::Shift shift_of(ValueId shift) const {
    const Inst& s = val(shift);
    const auto count = static_cast<std::uint32_t>(static_cast<std::uint64_t>(val(s.args[1]).imm) & (s.width - 1u));
    return s.kind == Kind::Lsh ? arm::lsl(count) : s.kind == Kind::Rsh ? arm::lsr(count) : arm::asr(count);
  }
  Result<void> emit_inst(opt::BlockId b, ValueId id);
  Result<void> emit_alu(ValueId id);
  Result<void> emit_unary(ValueId id);
  void emit_compare(const Inst& i, const a64::Gp& lhs);
  void emit_branch(opt::BlockId b, ValueId id, a64::CondCode cc);
  void emit_select(ValueId id, a64::CondCode cc);
  Result<void> emit_atomic(ValueId id);
  void emit_call(ValueId id);
  void emit_tail_call(ValueId id);
  void publish_frames(std::int64_t depth);

  opt::Function& fn_;
  a64::Assembler& a_;
  const opt::Allocation& al_;
  const std::vector<FunctionEntry>& functions_;  // entry labels of every function of the build
  std::optional<opt::ListingNotes> notes_;  // only for listings
  std::vector<Label> labels_;
  std::vector<opt::BlockId> alias_;  // per block: the block whose code it starts (itself unless it forwards)
  Label ret_, exit_, fail_;
  bool counting_;  // counted or checked build: JitState* in x28, the budget in x27
  bool checked_;   // checked build: Op::Frames publishes the frames as the run's stack
  bool zero_stack_;
  const ProgramCode* program_code_;  // this build's: the running one again after a tail call's target
  struct BudgetCold {
    Label entry;
    std::uint32_t pc, length;
  };
  std::vector<BudgetCold> budget_cold_;
  Label check_stub_;  // bound by emit_cold_paths once a checked access needs it
  std::uint32_t frame_bytes_ = 0;
  std::uint32_t frames_base_ = 0;  // [sp + frames_base_]: the deepest inlined frame's lowest byte
  std::int64_t next_ = -1;  // block emitted next (fallthrough target)
  const Inst* flags_of_ = nullptr;  // the Select whose comparison set the live flags, or none
  static constexpr ValueId kFoldedAway = opt::kNoValue - 1;
  std::vector<ValueId> fold_user_;  // per value: the shift an operation reads shifted, or kFoldedAway for that shift
  opt::BitFieldPlan fields_;        // ubfx (opt/bit_field.hpp)
};

// T = A op (S shift #n), the shift plan_shift_folds folded into the operation (Add/subtract and
// Logical, shifted register).
Result<void> OptEmitter::emit_shifted_operand(ValueId id) {
  const Inst& i = val(id);
  const bool w64 = i.width == 64;
  const ValueId shifted = fold_user_[id];
  const Inst& s = val(shifted);
  const ValueId other = i.args[0] == shifted ? i.args[1] : i.args[0];
  const arm::Shift shift = shift_of(shifted);
  const InstId op = i.kind == Kind::Add ? a64::Inst::kIdAdd : i.kind == Kind::Sub ? a64::Inst::kIdSub
                  : i.kind == Kind::Or ? a64::Inst::kIdOrr : i.kind == Kind::And ? a64::Inst::kIdAnd
                  : a64::Inst::kIdEor;
  const a64::Gp A = use(other, kResult, w64), S = use(s.args[0], kOperand, w64);
  a_.emit(op, gp(target(id), w64), A, S, Imm(shift));
  finish(id);
  return {};
}

Result<void> OptEmitter::emit_inst(opt::BlockId b, ValueId id) {
  const Inst& i = val(id);
  if (i.op != Op::Select && i.op != Op::Const) flags_of_ = nullptr;
  switch (i.op) {
    case Op::Const: case Op::Phi: case Op::Copy:
      return {};  // constants are immediates; phis are moves in the predecessors; copies are gone
    case Op::Arg: {
      const auto t = target(id);
      load_state();
      a_.ldr(X(t), state(offsetof(JitState, args) + 8 * static_cast<std::size_t>(i.imm)));
      finish(id);
      return {};
    }
    case Op::FramePtr:
      return {};  // no location: uses address the frame from sp
    case Op::FuncAddr: {
      // The callback's function in this code (ADR, ±1 MiB): what call_back_into_code finds in func_addresses.
      const auto t = target(id);
      a_.adr(X(t), function_entry(functions_, static_cast<std::uint32_t>(i.imm)));
      finish(id);
      return {};
    }
    case Op::ConstInReg:  // a wide constant loaded once before a loop (licm.cpp)
      if (al_.reg[id] >= 0 || al_.slot[id] >= 0) emit_move(loc(id), {Loc::Kind::Imm, i.imm});
      return {};
    case Op::Alu:
      if (fold_user_[id] == kFoldedAway) return {};  // its user reads it as a shifted register
      if (fields_.part[id]) return {};                 // its user extracts from its operand (plan_folds)
      if (const opt::BitField& f = fields_.field[id]; f.len != 0) {
        a_.ubfx(gp(target(id), i.width == 64), use(f.x, kResult, i.width == 64), Imm(f.start), Imm(f.len));
        finish(id);
        return {};
      }
      return emit_alu(id);
    case Op::MovSx: {
      // Bitfield: SBFM aliases SXTB/SXTH/SXTW; the 32-bit forms write W, zero-extending past bit 31.
      const auto t = target(id);
      const bool w64 = i.width == 64;
      const a64::Gp src = use(i.args[0], kResult, false);
      if (i.bits == 8) a_.sxtb(gp(t, w64), src);
      else if (i.bits == 16) a_.sxth(gp(t, w64), src);
      else if (w64) a_.sxtw(X(t), src);
      else a_.mov(W(t), src);
      finish(id);
      return {};
    }
    case Op::Unary: return emit_unary(id);
    case Op::Rotate: {
      // rotate_idiom.cpp's Rotate: ROR (immediate) is EXTR of the register with itself; RORV masks
      // the count by the width as Rotate does, and a left rotate by n is a right one by -n.
      const bool w64 = i.width == 64;
      const unsigned mask = w64 ? 63u : 31u;
      const a64::Gp T = gp(target(id), w64), A = use(i.args[0], kResult, w64);
      if (fn_.is_const(i.args[1])) {
        const unsigned c = static_cast<unsigned>(static_cast<std::uint64_t>(val(i.args[1]).imm) & mask);
        a_.ror(T, A, Imm(i.kind == Kind::Lsh ? (mask + 1 - c) & mask : c));
      } else {
        a64::Gp count = use(i.args[1], kOperand, w64);
        if (i.kind == Kind::Lsh) {
          a_.neg(gp(kAddress, w64), count);
          count = gp(kAddress, w64);
        }
        a_.rorv(T, A, count);
      }
      finish(id);
      return {};
    }
    case Op::Zext32: {
      const auto t = target(id);
      a_.mov(W(t), use(i.args[0], kResult, false));  // a W write zeroes bits 63:32
      finish(id);
      return {};
    }
    case Op::Load: {
      if (i.checked) checked_address(i, false);
      const auto t = target(id);
      // X for 64-bit and sign-extending loads, W (zero-extending) otherwise.
      access(load_ids(8u * i.bits, i.sx), gp(t, i.sx || i.bits == 8), i);
      finish(id);
      return {};
    }
    case Op::Store: {
      if (i.checked) checked_address(i, true);  // before the value: the test uses x16 and x17
      const bool w64 = i.bits == 8;
      const Loc v = loc(i.args[1]);
      // The low bytes are what a narrower store writes; zero needs no register.
      const a64::Gp value = v.kind == Loc::Kind::Imm && at_width(v.v, w64) == 0
                                ? (w64 ? a64::Gp(a64::xzr) : a64::Gp(a64::wzr))
                                : use(i.args[1], kResult, w64);
      access(store_ids(8u * i.bits), value, i);
      return {};
    }
    case Op::Call: emit_call(id); return {};
    case Op::Atomic: return emit_atomic(id);
    case Op::Jmp:
      parallel_move(opt::phi_moves(fn_, al_, b, fn_.blocks[b].succs[0]));
      jump_to(fn_.blocks[b].succs[0]);
      return {};
    case Op::Branch: {
      const auto cc = jump_condition(i.kind);
      if (!cc) return unsupported(i, "branch condition");
      emit_branch(b, id, *cc);
      return {};
    }
    case Op::Select: {
      const auto cc = jump_condition(i.kind);
      if (!cc) return unsupported(i, "select condition");
      emit_select(id, *cc);
      return {};
    }
    case Op::Ret:
      emit_move({Loc::Kind::Reg, 0}, loc(i.args[0]));
      a_.b(ret_);
      return {};
    case Op::Charge: {
      // As the baseline's charge_budget: SUBS borrows (C clear, LO) exactly when the segment cannot
      // be paid for in full (jit_budget_exhausted reads the rest).
      const Label cold = a_.newLabel();
      budget_cold_.push_back({cold, i.pc, static_cast<std::uint32_t>(i.imm)});
      if (add_sub_imm_encodable(static_cast<std::uint64_t>(i.imm))) {
        a_.subs(X(kBudget), X(kBudget), Imm(static_cast<std::uint64_t>(i.imm)));
      } else {
        move_wide_imm(a_, X(kOperand), static_cast<std::uint64_t>(i.imm));
        a_.subs(X(kBudget), X(kBudget), X(kOperand));
      }
      a_.b_lo(cold);
      return {};
    }
    case Op::Frames:
      publish_frames(i.imm);
      return {};
    case Op::TailCall:
      emit_tail_call(id);
      return {};
    case Op::TailResult: {
      const auto t = target(id);
      load_state();
      a_.ldr(X(t), state(offsetof(JitState, r0)));
      finish(id);
      return {};
    }
  }
  return unsupported(i, "instruction");
}

// 32-bit operations use W registers, whose writes zero bits 63:32 (RFC 9669 4.1's zero-extension).
Result<void> OptEmitter::emit_alu(ValueId id) {
  if (fold_user_[id] != opt::kNoValue) return emit_shifted_operand(id);
  const Inst& i = val(id);
  const bool w64 = i.width == 64;
  const auto t = target(id);
  const a64::Gp T = gp(t, w64);
  ValueId a = i.args[0], b = i.args[1];
  const bool commutative = i.kind == Kind::Add || i.kind == Kind::Mul || i.kind == Kind::Or ||
                           i.kind == Kind::And || i.kind == Kind::Xor;
  if (commutative && fn_.is_const(a) && !fn_.is_const(b)) std::swap(a, b);
  const bool b_const = fn_.is_const(b);
  const std::uint64_t value = b_const ? at_width(val(b).imm, w64) : 0;
  switch (i.kind) {
    case Kind::Add: case Kind::Sub: {
      // Add/subtract (immediate) with the value or its negation, else (shifted register).
      const bool add = i.kind == Kind::Add;
      if (const Loc l = loc(a); l.kind == Loc::Kind::Frame && b_const && w64) {  // a stack address
        add_sp_imm(T, frame_disp(l.v, static_cast<std::int64_t>(add ? value : 0 - value)));
        break;
      }
      const std::uint64_t negated = at_width(static_cast<std::int64_t>(0 - value), w64);
      const a64::Gp A = use(a, kResult, w64);
      if (b_const && add_sub_imm_encodable(value)) {
        if (add) a_.add(T, A, Imm(value)); else a_.sub(T, A, Imm(value));
      } else if (b_const && add_sub_imm_encodable(negated)) {
        if (add) a_.sub(T, A, Imm(negated)); else a_.add(T, A, Imm(negated));
      } else {
        const a64::Gp B = use(b, kOperand, w64);
        if (add) a_.add(T, A, B); else a_.sub(T, A, B);
      }
      break;
    }
    case Kind::Or: case Kind::And: case Kind::Xor: {
      // Logical (immediate) for a bitmask immediate, else Logical (shifted register).
      const InstId op = i.kind == Kind::Or ? a64::Inst::kIdOrr : i.kind == Kind::And ? a64::Inst::kIdAnd : a64::Inst::kIdEor;
      const a64::Gp A = use(a, kResult, w64);
      if (b_const && a64::Utils::isLogicalImm(value, w64 ? 64 : 32)) a_.emit(op, T, A, Imm(value));
      else a_.emit(op, T, A, use(b, kOperand, w64));
      break;
    }
    case Kind::Mul: {
      // x * (2^k + 1) << j: add t, x, x, lsl #k (then lsl #j); x * (2^k - 1): lsl x17, x, #k; sub t,
      // x17, x — one or two 1-cycle operations where MUL takes 3 or more after the constant's MOVZ/MOVK
      // (hashes' `h * 33`, `fold * 31`). Else MADD with the zero register: the low 32/64 bits of a
      // product are the same signed or unsigned.
      const a64::Gp A = use(a, kResult, w64);
      const unsigned width = w64 ? 64u : 32u;
      const auto power = [width](std::uint64_t m) {  // k where m = 2^k, 0 < k < width; else 0
        return m > 1 && (m & (m - 1)) == 0 && static_cast<unsigned>(std::countr_zero(m)) < width
                   ? static_cast<unsigned>(std::countr_zero(m)) : 0u;
      };
      const unsigned low = b_const && value ? static_cast<unsigned>(std::countr_zero(value)) : 0u;
      if (const unsigned k = b_const && value ? power((value >> low) - 1) : 0u) {
        a_.add(T, A, A, arm::lsl(k));
        if (low) a_.lsl(T, T, Imm(low));
      } else if (const unsigned k2 = b_const ? power(value + 1) : 0u; k2 > 1) {
        a_.lsl(gp(kOperand, w64), A, Imm(k2));
        a_.sub(T, gp(kOperand, w64), A);
      } else {
        a_.mul(T, A, use(b, kOperand, w64));
      }
      break;
    }
    case Kind::Div: case Kind::SDiv: case Kind::Mod: case Kind::SMod: {
      // UDIV/SDIV give x / 0 = 0 and INT_MIN / -1 = INT_MIN without trapping; modulo is
      // a - (a / b) * b by MSUB, which keeps a for b = 0 and gives 0 for INT_MIN % -1.
      const bool is_signed = i.kind == Kind::SDiv || i.kind == Kind::SMod;
      const InstId div = is_signed ? a64::Inst::kIdSdiv : a64::Inst::kIdUdiv;
      const a64::Gp A = use(a, kResult, w64), B = use(b, kOperand, w64);
      if (i.kind == Kind::Div || i.kind == Kind::SDiv) {
        a_.emit(div, T, A, B);
      } else {
        a_.emit(div, gp(kAddress, w64), A, B);
        a_.msub(T, gp(kAddress, w64), B, A);
      }
      break;
    }
    case Kind::Lsh: case Kind::Rsh: case Kind::Arsh: {
      // LSLV/LSRV/ASRV take the count modulo the width, as RFC 9669 4.1 masks it; immediates are
      // masked here and become the Bitfield aliases LSL/LSR/ASR #n.
      const a64::Gp A = use(a, kResult, w64);
      if (b_const) {
        const unsigned count = static_cast<unsigned>(value) & (w64 ? 63u : 31u);
        if (count == 0) {
          if (!w64 || A.id() != t) a_.mov(T, A);  // a 32-bit shift by 0 still zero-extends
        } else {
          const InstId op = i.kind == Kind::Lsh ? a64::Inst::kIdLsl : i.kind == Kind::Rsh ? a64::Inst::kIdLsr : a64::Inst::kIdAsr;
          a_.emit(op, T, A, Imm(count));
        }
      } else {
        const InstId op = i.kind == Kind::Lsh ? a64::Inst::kIdLslv : i.kind == Kind::Rsh ? a64::Inst::kIdLsrv : a64::Inst::kIdAsrv;
        a_.emit(op, T, A, use(b, kOperand, w64));
      }
      break;
    }
    default:
      return unsupported(i, "ALU operation");
  }
  finish(id);
  return {};
}

Result<void> OptEmitter::emit_unary(ValueId id) {
  const Inst& i = val(id);
  const auto t = target(id);
  const bool w64 = i.bits == 64;
  const a64::Gp A = use(i.args[0], kResult, w64);
  switch (i.kind) {
    case Kind::Neg:
      a_.neg(gp(t, i.width == 64), gp(A.id(), i.width == 64));
      break;
    case Kind::ToLe:  // little-endian host: truncate
      if (i.bits == 16) a_.uxth(W(t), A);
      else if (!w64 || A.id() != t) a_.mov(gp(t, w64), A);
      break;
    case Kind::ToBe: case Kind::Bswap:
      // Data-processing (1 source): REV16 swaps the bytes of each halfword (the upper one is then
      // cleared), REV of a W or X register reverses all of its bytes.
      if (i.bits == 16) {
        a_.rev16(W(t), A);
        if (!zero_above_16(fn_, i.args[0])) a_.uxth(W(t), W(t));
      } else {
        a_.rev(gp(t, w64), A);
      }
      break;
    default:
      return unsupported(i, "unary operation");
  }
  finish(id);
  return {};
}

// The flags of a Branch's or Select's comparison of `lhs` (args[0], already in a register) with args[1].
void OptEmitter::emit_compare(const Inst& i, const a64::Gp& lhs) {
  const bool w64 = i.width == 64;
  const ValueId rhs = i.args[1];
  const bool rhs_const = fn_.is_const(rhs);
  const std::uint64_t value = rhs_const ? at_width(val(rhs).imm, w64) : 0;
  const std::uint64_t negated = at_width(static_cast<std::int64_t>(0 - value), w64);
  if (i.kind == Kind::Jset) {
    if (rhs_const && a64::Utils::isLogicalImm(value, w64 ? 64 : 32)) a_.tst(lhs, Imm(value));
    else a_.tst(lhs, use(rhs, kOperand, w64));
  } else if (rhs_const && add_sub_imm_encodable(value)) {
    a_.cmp(lhs, Imm(value));
  } else if (rhs_const && add_sub_imm_encodable(negated)) {
    a_.cmn(lhs, Imm(negated));  // flags of lhs + (-value), the same as of lhs - value
  } else {
    a_.cmp(lhs, use(rhs, kOperand, w64));
  }
}

// cond ? then : else as compare and CSEL; the scratch registers are free again after the compare
// (a zero constant is XZR).
void OptEmitter::emit_select(ValueId id, a64::CondCode cc) {
  const Inst& i = val(id);
  // Selects of one condition share the first one's flags (CSEL and the operand loads keep them).
  const bool same_flags = flags_of_ != nullptr && flags_of_->kind == i.kind && flags_of_->width == i.width &&
                          flags_of_->args[0] == i.args[0] && flags_of_->args[1] == i.args[1];
  if (!same_flags) emit_compare(i, use(i.args[0], kResult, i.width == 64));
  flags_of_ = &i;
  auto operand = [&](ValueId v, std::uint32_t scratch) -> a64::Gp {
    if (fn_.is_const(v) && val(v).imm == 0) return a64::xzr;
    return use(v, scratch);
  };
  const a64::Gp then_r = operand(i.args[2], kResult), else_r = operand(i.args[3], kOperand);
  a_.csel(X(target(id)), then_r, else_r, Imm(static_cast<std::uint32_t>(cc)));
  finish(id);
}

void OptEmitter::emit_branch(opt::BlockId b, ValueId id, a64::CondCode cc) {
  // A latch's back-edge moves go before the compare (opt::hoisted_latch_edge), so its edge block is
  // forwarded and the latch ends in one branch back.
  if (const auto e = opt::hoisted_latch_edge(fn_, al_, b); e >= 0 && alias_[static_cast<opt::BlockId>(e)] != e) {
    const auto edge = static_cast<opt::BlockId>(e);
    parallel_move(opt::phi_moves(fn_, al_, edge, fn_.blocks[edge].succs[0]));
  }
  const Inst& i = val(id);
  const bool w64 = i.width == 64;
  const auto taken = fn_.blocks[b].succs[0], fall = fn_.blocks[b].succs[1];
  const a64::Gp lhs = use(i.args[0], kResult, w64);
  const ValueId rhs = i.args[1];
  const bool rhs_const = fn_.is_const(rhs);
  const std::uint64_t value = rhs_const ? at_width(val(rhs).imm, w64) : 0;
  if (rhs_const && value == 0 && (i.kind == Kind::Jeq || i.kind == Kind::Jne)) {
    // Compare and branch: CBZ/CBNZ test the register against zero without the flags.
    const bool zero_taken = i.kind == Kind::Jeq;
    if (falls_into(taken)) {
      if (zero_taken) a_.cbnz(lhs, labels_[fall]); else a_.cbz(lhs, labels_[fall]);
      return;
    }
    if (zero_taken) a_.cbz(lhs, labels_[taken]); else a_.cbnz(lhs, labels_[taken]);
    jump_to(fall);
    return;
  }
  if (const ValueId shifted = fold_user_[id]; shifted != opt::kNoValue) {
    // CMP/TST (shifted register): flags of lhs - (S shift #n) / lhs & (S shift #n).
    const a64::Gp S = use(val(shifted).args[0], kOperand, w64);
    a_.emit(i.kind == Kind::Jset ? a64::Inst::kIdTst : a64::Inst::kIdCmp, lhs, S, Imm(shift_of(shifted)));
  } else {
    emit_compare(i, lhs);
  }
  if (falls_into(fall)) {
    a_.b(cc, labels_[taken]);
  } else if (falls_into(taken)) {
    a_.b(negateCond(cc), labels_[fall]);
  } else {
    a_.b(cc, labels_[taken]);
    a_.b(labels_[fall]);
  }
}

// Load/store exclusive loops (LDAXR ... STLXR), as in the baseline (emit_atomic.cpp): ARMv8.0 only,
// acquire-release pairs for the interpreter's sequentially consistent builtins. Address in x15,
// the old value in x16 (then moved to the result), the value stored in x14, the status in w30.
Result<void> OptEmitter::emit_atomic(ValueId id) {
  const Inst& i = val(id);
  const bool w64 = i.width == 64;
  if (i.checked) checked_address(i, true);
  else address_into_x15(i);
  const a64::Mem m = a64::ptr(X(kAddress));
  const a64::Gp src = use(i.args[1], kOperand, w64);
  const a64::Gp old = gp(kResult, w64), next = gp(kExtra, w64), failed = W(kStatus);
  const Label retry = a_.newLabel();
  auto rmw = [&](InstId op) {
    a_.bind(retry);
    a_.ldaxr(old, m);
    a_.emit(op, next, old, src);
    store_exclusive_release(a_, failed, next, X(kAddress));
    a_.cbnz(failed, retry);
  };
  switch (i.kind) {
    case Kind::AtomicAdd: rmw(a64::Inst::kIdAdd); break;
    case Kind::AtomicOr: rmw(a64::Inst::kIdOrr); break;
    case Kind::AtomicAnd: rmw(a64::Inst::kIdAnd); break;
    case Kind::AtomicXor: rmw(a64::Inst::kIdEor); break;
    case Kind::Xchg:
      a_.bind(retry);
      a_.ldaxr(old, m);
      store_exclusive_release(a_, failed, src, X(kAddress));
      a_.cbnz(failed, retry);
      break;
    case Kind::CmpXchg: {
      // The result is the old value whether or not it matched r0 (zero-extended for 32 bits).
      const a64::Gp expected = use(i.args[2], kExtra, w64);
      const Label mismatch = a_.newLabel(), done = a_.newLabel();
      a_.bind(retry);
      a_.ldaxr(old, m);
      a_.cmp(old, expected);
      a_.b_ne(mismatch);
      store_exclusive_release(a_, failed, src, X(kAddress));
      a_.cbnz(failed, retry);
      a_.b(done);
      a_.bind(mismatch);
      a_.clrex(Imm(15));  // drop the exclusive monitor the failed compare left open
      a_.bind(done);
      break;
    }
    default:
      return unsupported(i, "atomic operation");
  }
  result_from(id, kResult);  // a W load zero-extended the 32-bit old value
  return {};
}

// jit_call_helper(r1..r5, JitState*): r1..r5 go to x0..x4 as one parallel move, the state to x5;
// values live after the call sit in callee-saved registers or slots (the allocator saw to it).
void OptEmitter::emit_call(ValueId id) {
  const Inst& i = val(id);
  std::vector<opt::Move> moves;  // a callx's value into x5
  for (std::uint32_t k = 0; k < i.args.size(); ++k) moves.push_back({{Loc::Kind::Reg, k}, loc(i.args[k])});
  parallel_move(std::move(moves));
  if (i.imm != 0) {
    // A map's direct lookup entry on (r1, r2) (ir.hpp): it cannot fault, spends no budget (x27 is
    // callee-saved) and calls nothing back, so no JitState bookkeeping and no status test.
    move_wide_imm(a_, X(kResult), static_cast<std::uint64_t>(i.imm));
    a_.blr(X(kResult));
    result_from(id, 0);
    return;
  }
  const bool by_value = i.helper == nullptr;
  if (by_value) {
    // A callx of a helper id: jit_callx_helper sets pending_helper and pc (or fails the run); x0..x4
    // wait on the stack (sp stays 16-byte aligned).
    a_.stp(a64::x0, a64::x1, a64::ptr_pre(a64::sp, -48));
    a_.stp(a64::x2, a64::x3, a64::ptr(a64::sp, 16));
    a_.str(a64::x4, a64::ptr(a64::sp, 32));
    a_.ldr(a64::x0, a64::ptr(a64::sp, 48 + kStateOff));
    a_.mov(a64::x1, a64::x5);
    move_wide_imm(a_, a64::w2, i.pc);
    move_wide_imm(a_, X(kResult), reinterpret_cast<std::uint64_t>(&jit_callx_helper));
    a_.blr(X(kResult));
    a_.ldr(a64::x4, a64::ptr(a64::sp, 32));
    a_.ldp(a64::x2, a64::x3, a64::ptr(a64::sp, 16));
    a_.ldp(a64::x0, a64::x1, a64::ptr_post(a64::sp, 48));
    load_state();
    a_.ldr(W(kOperand), state(offsetof(JitState, status)));
    a_.cbnz(W(kOperand), fail_);
  } else {
    load_state();
    move_wide_imm(a_, X(kOperand), reinterpret_cast<std::uint64_t>(i.helper));
    a_.str(X(kOperand), state(offsetof(JitState, pending_helper)));
    move_wide_imm(a_, W(kOperand), i.pc);
    a_.str(W(kOperand), state(offsetof(JitState, pc)));
  }
  a_.mov(a64::x5, X(kAddress));
  // A taken tail call's target starts with r1 = this call's r1 (the trampoline loads JitState::args).
  if (by_value || i.helper->id == kTailCallHelper) a_.str(a64::x0, state(offsetof(JitState, args)));
  move_wide_imm(a_, X(kResult), reinterpret_cast<std::uint64_t>(&jit_call_helper));
  // Callbacks inside the helper spend the same budget: it goes through JitState::budget_left.
  if (counting_) a_.str(X(kBudget), state(offsetof(JitState, budget_left)));
  a_.blr(X(kResult));
  load_state();
  if (counting_) a_.ldr(X(kBudget), state(offsetof(JitState, budget_left)));
  a_.ldr(W(kOperand), state(offsetof(JitState, status)));
  a_.cbnz(W(kOperand), fail_);
  result_from(id, 0);
}

void OptEmitter::publish_frames(std::int64_t depth) {
  // The live frames, depths 0..depth, become the run's stack: JitState's mirror and ctx->stack.
  const auto bytes = static_cast<std::uint64_t>(depth + 1) * kStackBytes;
  add_sp_imm(X(kAddress), frame_disp(depth, -kStackBytes));
  move_wide_imm(a_, X(kOperand), bytes);
  static_assert(offsetof(JitState, stack_size) == offsetof(JitState, stack_lo) + 8 &&
                offsetof(JitState, stack_lo) <= 504 && offsetof(vm::Region, begin) == 0 &&
                offsetof(vm::Region, size_bytes) == 8, "Load/store pair reaches both fields");
  a_.stp(X(kAddress), X(kOperand), a64::ptr(X(kState), offsetof(JitState, stack_lo)));
  a_.ldr(X(kResult), a64::ptr(X(kState), offsetof(JitState, ctx_stack)));
  a_.stp(X(kAddress), X(kOperand), a64::ptr(X(kResult)));
}

// After a call that may have been bpf_tail_call, as on x86-64 (x86_64/opt_emitter.cpp
// emit_tail_call): a chosen target runs through its trampoline from the call's inlined depth on
// JitState::frame_top's frame; entry, code, depth, saved_rsp and (checked) the published frames are
// this function's again afterwards. A counted target spends the run's budget from
// JitState::budget_left and leaves the rest there: x27 is stored before and reloaded after. Nothing
// is live in a caller-saved register here.
void OptEmitter::emit_tail_call(ValueId id) {
  const Inst& i = val(id);
  const auto t = target(id);
  const auto depth = static_cast<std::uint32_t>(i.imm);
  const Label taken = a_.newLabel(), done = a_.newLabel();
  load_state();
  if (checked_) {
    a_.ldr(X(kResult), state(offsetof(JitState, frame_top)));
    a_.sub(X(kResult), X(kResult), Imm(kStackBytes));
    move_wide_imm(a_, X(kOperand), static_cast<std::uint64_t>(kStackBytes));
    a_.stp(X(kResult), X(kOperand), state(offsetof(JitState, stack_lo)));
    a_.ldr(X(kExtra), state(offsetof(JitState, ctx_stack)));
    a_.stp(X(kResult), X(kOperand), a64::ptr(X(kExtra)));
  }
  if (depth != 0) {
    move_wide_imm(a_, W(kOperand), depth);
    a_.str(W(kOperand), state(offsetof(JitState, depth)));
  }
  a_.mov(a64::x0, X(kAddress));
  move_wide_imm(a_, X(kResult), reinterpret_cast<std::uint64_t>(&jit_take_tail_call));
  a_.blr(X(kResult));
  a_.cbnz(a64::x0, taken);
  load_state();
  if (depth != 0) a_.str(a64::wzr, state(offsetof(JitState, depth)));
  a_.ldr(W(kOperand), state(offsetof(JitState, status)));
  a_.cbnz(W(kOperand), fail_);
  if (checked_) publish_frames(depth);
  a_.mov(X(t), a64::xzr);
  finish(id);
  a_.b(done);
  a_.bind(taken);
  load_state();
  a_.ldr(a64::x1, state(offsetof(JitState, entry)));
  a_.str(a64::x0, state(offsetof(JitState, entry)));
  a_.ldr(X(kResult), state(offsetof(JitState, code)));
  a_.ldr(X(kResult), a64::ptr(X(kResult), offsetof(ProgramCode, trampoline)));
  a_.mov(a64::x0, X(kAddress));
  a_.str(a64::x1, a64::ptr_pre(a64::sp, -16));  // this run's entry, while the target runs
  if (counting_) a_.str(X(kBudget), budget_left());
  a_.blr(X(kResult));
  a_.ldr(a64::x1, a64::ptr_post(a64::sp, 16));
  load_state();
  a_.str(a64::x1, state(offsetof(JitState, entry)));
  if (counting_) a_.ldr(X(kBudget), budget_left());  // the exit stores it, failed or not
  a_.cbnz(a64::w0, fail_);
  if (counting_) {
    a_.mov(X(kResult), a64::sp);
    a_.str(X(kResult), state(offsetof(JitState, saved_rsp)));
  }
  move_wide_imm(a_, X(kResult), reinterpret_cast<std::uint64_t>(program_code_));
  a_.str(X(kResult), state(offsetof(JitState, code)));
  if (depth != 0) a_.str(a64::wzr, state(offsetof(JitState, depth)));
  move_wide_imm(a_, X(t), 1);
  finish(id);
  a_.bind(done);
}

}  // namespace

Result<NativeCode> compile_optimized(std::span<opt::Function> functions, const CompileRequest& req) {
  if (req.blind_constants)
    return make_error(Errc::Unsupported, "optimizing JIT: constant blinding is not supported (the baseline tier blinds)");
  NativeAssembly assembly(req, Environment(Arch::kAArch64), "arm64 optimizing");
  a64::Assembler a(assembly.holder());
  std::vector<FunctionEntry> labels;
  for (const auto& fn : functions) labels.push_back({fn.root_pc, a.newLabel()});
  std::vector<std::uint32_t> callback_pcs;
  for (auto& fn : functions) {
    if (fn.root_pc != 0) callback_pcs.push_back(fn.root_pc);
    const auto allocation = opt::allocate_registers(fn, register_file(req.variant != Variant::Fast));
    if (allocation.num_slots > kMaxSlots)
      return make_error(Errc::Unsupported, "optimizing JIT (arm64): " + std::to_string(allocation.num_slots) +
                                               " spill slots, more than " + std::to_string(kMaxSlots) +
                                               " (the baseline tier runs it)");
    OptEmitter emitter(fn, req, a, allocation, labels);
    // With callbacks, offset 0 dispatches; without, the program's function starts there.
    auto emitted = emitter.emit(functions.size() > 1 && &fn == &functions.front());
    if (!emitted) return std::move(emitted).error();
  }
  return assembly.finish(callback_pcs,
                         [&](const CodeHolder& code) { return function_pc_offsets(code, labels, req.program->size()); });
}

}  // namespace bpfvm::jit::arm64
