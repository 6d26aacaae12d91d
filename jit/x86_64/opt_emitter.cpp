// Instruction selection for the optimizing tier on x86-64. Values live where the linear-scan
// allocator put them (13 registers, or a spill slot); r10 and r11 are scratch. Frame: one native
// function, entered like the baseline trampoline (rsp ≡ 0 mod 16 after the prologue, so helper
// calls need no adjustment): [rsp] = JitState*, [rsp+8] = rdx kept across div (rax across an
// atomic), [rsp+16] = an atomic's operand, [rsp+24+8k] = slot k, then (16-aligned) the eBPF stack
// frames of every inlined depth, deepest lowest: a stack access is one [rsp+disp] operand and a
// frame address costs no register (a helper's stack pointer argument is one lea).
#include "jit/x86_64/opt_emitter.hpp"

#include <asmjit/x86.h>

#include <algorithm>
#include <bit>
#include <functional>
#include <iterator>
#include <optional>
#include <queue>
#include <string>

#include "jit/native_assembly.hpp"
#include "jit/opt/bit_field.hpp"
#include "jit/opt/listing_notes.hpp"
#include "jit/opt/moves.hpp"
#include "jit/opt/regalloc.hpp"
#include "jit/runtime.hpp"
#include "jit/x86_64/access_check.hpp"
#include "jit/x86_64/condition_codes.hpp"
#include "jit/x86_64/emitter.hpp"
#include "jit/x86_64/native_size_bound.hpp"

namespace bpfvm::jit::x86_64 {

using namespace asmjit;
using isa::Kind;
using opt::Inst;
using opt::Loc;
using opt::Op;
using opt::ValueId;

namespace {

constexpr std::uint32_t kScratch = 11;   // r11: results bound for a slot, cycle breaking
constexpr std::uint32_t kScratch2 = 10;  // r10: second operands, memory-to-memory moves
constexpr std::int32_t kStateOff = 0, kDivOff = 8, kAtomicOff = 16, kSlotBase = 24;
constexpr std::size_t kLineBytes = 64;  // a cache line: a small loop's code fits in one (compile_optimized)
constexpr std::int32_t kStackBytes = static_cast<std::int32_t>(isa::kStackBytes);
constexpr std::uint32_t kRax = 0, kRcx = 1, kRdx = 2, kRbx = 3, kRbp = 5, kRsi = 6, kRdi = 7;

constexpr std::uint32_t kState = 12;  // counted and checked builds: JitState*, for the budget and checks

opt::RegisterFile register_file(bool counting) {
  opt::RegisterFile rf;
  // Caller-saved first: values that cross no call take them and leave the callee-saved ones free.
  rf.allocatable = {kRax, kRcx, kRdx, kRsi, kRdi, 8, 9, kRbx, kRbp, 12, 13, 14, 15};
  if (counting) std::erase(rf.allocatable, kState);
  rf.survives_calls.assign(16, false);
  for (auto r : {kRbx, kRbp, 12u, 13u, 14u, 15u}) rf.survives_calls[r] = true;
  rf.survives_divides.assign(16, true);
  rf.survives_divides[kRax] = rf.survives_divides[kRdx] = false;  // div writes rdx:rax
  rf.rotate_count = kRcx;  // rol/ror r, cl
  return rf;
}

std::string reg_name(std::uint32_t id) {
  static constexpr const char* kNames[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                           "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  return id < std::size(kNames) ? kNames[id] : "?";
}

bool fits_imm32(std::int64_t v) { return v == static_cast<std::int32_t>(v); }

x86::Gp gp(std::uint32_t id, bool w64) { return w64 ? x86::Gp(x86::gpq(id)) : x86::Gp(x86::gpd(id)); }
x86::Gp sized_gp(std::uint32_t id, unsigned bytes) {
  switch (bytes) {
    case 1: return x86::gpb(id);
    case 2: return x86::gpw(id);
    case 4: return x86::gpd(id);
    default: return x86::gpq(id);
  }
}

/// What OptEmitter::emit derives from a function and its allocation alone: made by the first
/// emission and read again by the second (compile_optimized's passes differ only in alignment and
/// jump sizes).
struct EmitterPlan {
  bool ready = false;
  std::vector<opt::BlockId> alias;  // per block: the block whose code it starts (itself unless it forwards)
  std::vector<opt::EmittedBlock> placed;
  std::vector<bool> movbe_load;  // per value: a Load its byte swap reads with movbe (it emits nothing)
  opt::BitFieldPlan fields;      // bextr (opt/bit_field.hpp), BMI1 hosts only
  std::vector<bool> scaled_shift;  // per value: a shift an add's lea scales (plan_scaled_adds; it emits nothing)
  bool uses_frames = false;      // a FramePtr or Frames is left
};

class OptEmitter {
 public:
  OptEmitter(opt::Function& fn, const CompileRequest& req, x86::Assembler& a, const opt::Allocation& al,
             const std::vector<FunctionEntry>& functions, const std::vector<bool>& line_heads,
             const std::vector<bool>& short_jumps, EmitterPlan& plan)
      : fn_(fn), a_(a), al_(al), functions_(functions), bmi2_(!req.baseline_isa_only && host_has_bmi2()),
        movbe_(!req.baseline_isa_only && host_has_movbe()), movbe_load_(plan.movbe_load),
        bmi1_(!req.baseline_isa_only && host_has_bmi1()), fields_(plan.fields), scaled_shift_(plan.scaled_shift),
        counting_(req.variant != Variant::Fast), checked_(req.variant == Variant::Checked),
        zero_stack_(req.zero_stack || counting_), program_code_(req.program_code), line_heads_(line_heads),
        alias_(plan.alias), placed_(plan.placed), short_jumps_(short_jumps), plan_(plan) {
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
    // depth d's r10 is rsp + frame_disp(d), fixed for the whole body.
    frames_base_ = (kSlotBase + 8 * static_cast<std::int32_t>(al_.num_slots) + 15) & ~15;
    if (!plan_.ready) make_plan();
    const std::int32_t frames_bytes = plan_.uses_frames ? static_cast<std::int32_t>(fn_.max_depth + 1) * kStackBytes : 0;
    frame_bytes_ = frames_base_ + frames_bytes;
    if (frame_bytes_ % 16 == 0) frame_bytes_ += 8;  // six pushes + return address: rsp ≡ 0 after this

    a_.addEncodingOptions(EncodingOptions::kOptimizedAlign);
    if (notes_) {
      // The listing's first line names the tier; a callback's function says where it starts.
      if (fn_.root_pc == 0) a_.comment(notes_->header("x86-64").c_str());
      else a_.comment(("function of the callback at pc " + std::to_string(fn_.root_pc)).c_str());
    }
    if (dispatcher) {
      // Offset 0, what run_native's trampoline address enters: on to the program's function or, for a
      // callback's nested run, the callback's (JitState::entry).
      if (notes_) a_.comment("dispatch to JitState::entry");
      a_.jmp(x86::qword_ptr(x86::rdi, offsetof(JitState, entry)));
    }
    if (notes_) a_.comment("entry prologue");
    a_.bind(function_entry(functions_, fn_.root_pc));
    for (auto r : {x86::rbx, x86::rbp, x86::r12, x86::r13, x86::r14, x86::r15}) a_.push(r);
    a_.sub(x86::rsp, frame_bytes_);
    a_.mov(x86::qword_ptr(x86::rsp, kStateOff), x86::rdi);
    a_.mov(x86::qword_ptr(x86::rdi, offsetof(JitState, saved_rsp)), x86::rsp);
    if (counting_) a_.mov(x86::gpq(kState), x86::rdi);
    if (zero_stack_ && frames_bytes != 0) {
      // Unwritten stack reads as zero (JitOptions::zero_stack, and counted and checked runs as in
      // the interpreter). Up to two frames: 16-byte stores (frames_base_ is 16-aligned), which cost
      // ~20 ns less per run than rep stosq's start-up; more: rep stosq over every frame (rdi, rcx
      // and rax hold nothing yet: the entry block loads r1..r5 from JitState).
      if (frames_bytes <= 2 * kStackBytes) {
        a_.xorps(x86::xmm0, x86::xmm0);
        for (std::int32_t at = 0; at < frames_bytes; at += 16) a_.movaps(x86::ptr(x86::rsp, frames_base_ + at), x86::xmm0);
      } else {
        a_.xor_(x86::eax, x86::eax);
        a_.lea(x86::rdi, x86::ptr(x86::rsp, frames_base_));
        a_.mov(x86::ecx, frames_bytes / 8);
        a_.rep().stosq();
      }
    }

    block_start_.assign(fn_.blocks.size(), 0);
    block_end_.assign(fn_.blocks.size(), 0);
    for (const auto& placed : placed_) {
      // Loop heads start on a kLoopAlignBytes boundary, as in the baseline tier.
      if (placed.loop_head) a_.align(AlignMode::kCode, line_heads_[placed.id] ? kLineBytes : kLoopAlignBytes);
      for (auto f : placed.forwarded) a_.bind(labels_[f]);
      a_.bind(labels_[placed.id]);
      block_start_[placed.id] = a_.offset();
      flags_of_ = nullptr;  // other edges enter here
      if (notes_) a_.comment(notes_->block(placed.id, placed.loop_head).c_str());
      next_ = placed.next;
      block_ = placed.id;
      for (auto id : fn_.blocks[placed.id].insts) {
        if (fn_.values[id].dead) continue;
        if (notes_)
          for (const auto& line : notes_->value(id)) a_.comment(line.c_str());
        auto r = emit_inst(placed.id, id);
        if (!r) return r;
      }
      block_end_[placed.id] = a_.offset();
    }

    if (notes_) a_.comment("stub: epilogue");
    a_.bind(ret_);
    a_.mov(x86::r11, x86::qword_ptr(x86::rsp, kStateOff));
    a_.mov(x86::qword_ptr(x86::r11, offsetof(JitState, r0)), x86::rax);
    a_.xor_(x86::eax, x86::eax);
    a_.bind(exit_);
    a_.add(x86::rsp, frame_bytes_);
    for (auto r : {x86::r15, x86::r14, x86::r13, x86::r12, x86::rbp, x86::rbx}) a_.pop(r);
    a_.ret();
    a_.bind(fail_);
    a_.mov(x86::eax, 1);
    a_.jmp(exit_);
    emit_cold_paths();
    return {};
  }

  /// Fills plan_ (the first emission of a function only).
  void make_plan() {
    // A checked build publishes the frames as the run's stack (Op::Frames) even when no FramePtr is left.
    plan_.uses_frames = std::any_of(fn_.values.begin(), fn_.values.end(), [](const Inst& i) {
      return !i.dead && (i.op == Op::FramePtr || i.op == Op::Frames);
    });
    auto plan = opt::emission_plan(fn_, al_);
    alias_ = std::move(plan.alias);
    placed_ = std::move(plan.blocks);
    std::vector<std::uint32_t> uses(fn_.values.size(), 0);
    for (const auto& v : fn_.values)
      if (!v.dead)
        for (auto a : v.args) ++uses[a];
    plan_movbe(uses);
    // bextr (opt/bit_field.hpp): one operation fewer on x's path, `r11 = start | len << 8` an
    // immediate move off it.
    fields_ = {std::vector<opt::BitField>(fn_.values.size()), std::vector<bool>(fn_.values.size(), false)};
    if (bmi1_) fields_ = opt::plan_bit_fields(fn_, uses, movbe_load_);
    plan_scaled_adds(uses);
    plan_.ready = true;
  }

  /// After emit(): sets `line_heads` for each loop whose code (its head to the end of its last back
  /// edge's block) fits in one 64-byte line but crossed one; true when any did.
  bool mark_loops_crossing_lines(std::vector<bool>& line_heads) const {
    bool any = false;
    const auto last_of = loop_ends();
    for (std::size_t i = 0; i < placed_.size(); ++i) {
      if (!placed_[i].loop_head) continue;
      const auto head = placed_[i].id;
      const std::size_t last = last_of[i];
      const auto start = block_start_[head], bytes = block_end_[placed_[last].id] - start;
      if (bytes <= kLineBytes && start % kLineBytes + bytes > kLineBytes && !line_heads[head]) {
        line_heads[head] = true;
        any = true;
      }
    }
    return any;
  }

  /// After emit(): per jump to a block (in emission order), whether it may be emitted short when
  /// the same code is emitted again. Emitting again only shrinks code, except that each loop head's
  /// alignment between the jump and its target may pad up to kLineBytes - 1 bytes more, so a
  /// forward jump is short when its distance here plus that slack fits in a signed byte. A forward
  /// jump that leaves a loop (from inside its head .. last back edge's block to at or past its end)
  /// stays near: bench/'s strlen, a byte scan unrolled by 4, ran 366 ns with its four exits short
  /// (the loop 65 bytes, five branches) and 254 ns with them near (81 bytes), as before sizing.
  std::vector<bool> short_jump_plan() const {
    std::vector<std::size_t> aligned;  // offsets of the loop heads (after their padding), ascending
    std::vector<std::pair<std::size_t, std::size_t>> loops;  // [head, end of the last back edge's block), by head
    const auto last_of = loop_ends();
    for (std::size_t i = 0; i < placed_.size(); ++i) {
      if (!placed_[i].loop_head) continue;
      const auto head = placed_[i].id;
      aligned.push_back(block_start_[head]);
      loops.emplace_back(block_start_[head], block_end_[placed_[last_of[i]].id]);
    }
    // A jump leaves a loop when a loop starts before its end and ends in [its end, its target]. In
    // the order of the jumps' ends: the loops started before it whose end is not behind it, smallest
    // end first (one heap over the whole code, not every loop per jump).
    std::vector<std::size_t> by_end(jump_sites_.size());
    for (std::size_t k = 0; k < by_end.size(); ++k) by_end[k] = k;
    const auto earlier = [&](std::size_t x, std::size_t y) { return jump_sites_[x].first < jump_sites_[y].first; };
    if (!std::is_sorted(by_end.begin(), by_end.end(), earlier))  // emission order already is, unless cold paths jump back
      std::stable_sort(by_end.begin(), by_end.end(), earlier);
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> open_loop_ends;
    std::size_t next_loop = 0;
    std::vector<bool> plan(jump_sites_.size(), false);
    const CodeHolder& code = *a_.code();
    for (const std::size_t k : by_end) {
      const auto [end, label] = jump_sites_[k];
      for (; next_loop < loops.size() && loops[next_loop].first < end; ++next_loop)
        open_loop_ends.push(loops[next_loop].second);
      while (!open_loop_ends.empty() && open_loop_ends.top() < end) open_loop_ends.pop();
      if (!code.isLabelBound(label)) continue;
      const auto target = static_cast<std::size_t>(code.labelOffsetFromBase(label));
      if (target < end) continue;  // backward: the assembler picks the short form itself
      if (!open_loop_ends.empty() && open_loop_ends.top() <= target) continue;  // it leaves a loop
      // Each loop head in [end, target] may pad kLineBytes - 1 bytes more (its padding sits before it).
      const auto heads = static_cast<std::size_t>(std::upper_bound(aligned.begin(), aligned.end(), target) -
                                                  std::lower_bound(aligned.begin(), aligned.end(), end));
      plan[k] = target - end + heads * (kLineBytes - 1) <= 127;
    }
    return plan;
  }

  /// Per index into placed_ of a loop head: the index of the last placed block with an edge to it
  /// (its last back edge's block; the head itself when there is none from it on).
  std::vector<std::size_t> loop_ends() const {
    std::vector<std::size_t> last(placed_.size());
    std::vector<std::int64_t> head_at(fn_.blocks.size(), -1);  // a loop head's index into placed_
    for (std::size_t i = 0; i < placed_.size(); ++i) {
      last[i] = i;
      if (placed_[i].loop_head) head_at[placed_[i].id] = static_cast<std::int64_t>(i);
    }
    for (std::size_t k = 0; k < placed_.size(); ++k)
      for (auto s : fn_.blocks[placed_[k].id].succs)
        if (const auto i = head_at[alias_[s]]; i >= 0 && static_cast<std::size_t>(i) <= k)
          last[static_cast<std::size_t>(i)] = k;
    return last;
  }

 private:
  const Inst& val(ValueId v) const { return fn_.values[v]; }
  x86::Mem slot_mem(std::int32_t slot, unsigned bytes = 8) const {
    return x86::ptr(x86::rsp, kSlotBase + 8 * slot, bytes);
  }
  x86::Mem state(std::size_t offset, unsigned bytes = 8) const {
    return x86::ptr(x86::r11, static_cast<std::int32_t>(offset), bytes);
  }
  void load_state() { a_.mov(x86::r11, x86::qword_ptr(x86::rsp, kStateOff)); }

  Loc loc(ValueId v) const { return opt::location(fn_, al_, v); }
  bool in_reg(ValueId v, std::uint32_t r) const { return loc(v) == Loc{Loc::Kind::Reg, r}; }

  /// rsp + this = r10 of the inlined frame at `depth` (plus `disp`).
  std::int64_t frame_disp(std::int64_t depth, std::int64_t disp = 0) const {
    return frames_base_ + (static_cast<std::int64_t>(fn_.max_depth) + 1 - depth) * kStackBytes + disp;
  }
  /// [rsp + frame_disp(depth, disp)]; through r10 in the (unverified programs only) case where the
  /// sum leaves 32 bits.
  x86::Mem frame_mem(std::int64_t depth, std::int64_t disp, unsigned bytes) {
    const std::int64_t at = frame_disp(depth, disp);
    if (fits_imm32(at)) return x86::ptr(x86::rsp, static_cast<std::int32_t>(at), bytes);
    a_.mov(x86::r10, imm(at));
    return x86::ptr(x86::rsp, x86::r10, 0, 0, bytes);
  }
  /// The memory operand of a Load/Store/Atomic: [rsp+disp] for a frame, [reg+disp], and for an
  /// indexed access [base + index*2^scale + disp]; whatever is not in a register goes through r10
  /// alone (a store's value may need r11).
  x86::Mem address(const Inst& i, unsigned bytes) {
    const Loc base = loc(i.args[0]);
    const ValueId index = opt::index_of(i);
    if (index == opt::kNoValue) {
      if (base.kind == Loc::Kind::Frame) return frame_mem(base.v, i.off, bytes);
      return x86::ptr(use(i.args[0], kScratch2), i.off, bytes);
    }
    // fold_address_offsets keeps displacements within ±2^30, the frame offset is far below 2^30.
    if (base.kind == Loc::Kind::Frame) {
      // Never [rsp + index + disp]: on AMD Zen 5 such loads and stores ran rc4 (bench/) at 1.08-1.10x
      // the baseline, whose accesses are [reg]; with the frame address in r10 first, 0.98-0.99x. The
      // lea reads only rsp, so it leaves the index's dependency chain alone.
      const auto disp = static_cast<std::int32_t>(frame_disp(base.v, i.off));
      if (const Loc l = loc(index); l.kind == Loc::Kind::Reg) {
        a_.lea(x86::r10, x86::ptr(x86::rsp, disp));
        return x86::ptr(x86::r10, x86::gpq(static_cast<std::uint32_t>(l.v)), i.scale, 0, bytes);
      }
      a_.lea(x86::r10, x86::ptr(x86::rsp, use(index, kScratch2), i.scale, disp));
      return x86::ptr(x86::r10, 0, bytes);
    }
    if (base.kind == Loc::Kind::Reg)
      return x86::ptr(x86::gpq(static_cast<std::uint32_t>(base.v)), use(index, kScratch2), i.scale, i.off, bytes);
    // The base is spilled: r10 = (index << scale) + base.
    move_into(kScratch2, index, true);
    if (i.scale != 0) a_.shl(x86::r10, imm(i.scale));
    if (base.kind == Loc::Kind::Slot) a_.add(x86::r10, slot_mem(static_cast<std::int32_t>(base.v)));
    else return x86::ptr(x86::r10, static_cast<std::int32_t>(i.off + base.v), bytes);  // a constant base
    return x86::ptr(x86::r10, i.off, bytes);
  }

  void load_const(std::uint32_t r, std::int64_t value) {
    if (value == 0)
      a_.xor_(x86::gpd(r), x86::gpd(r));
    else if (value > 0 && value <= 0xffffffff)
      a_.mov(x86::gpd(r), imm(value));
    else
      a_.mov(x86::gpq(r), imm(value));
  }

  /// load_const without xor (which would set the flags a cmov still reads).
  void mov_const_keep_flags(std::uint32_t r, std::int64_t value) {
    if (value >= 0 && value <= 0xffffffff) a_.mov(x86::gpd(r), imm(value));
    else a_.mov(x86::gpq(r), imm(value));
  }

  /// v in a register: its own, or `scratch` loaded from its slot or immediate.
  x86::Gp use(ValueId v, std::uint32_t scratch, bool w64 = true) {
    const Loc l = loc(v);
    switch (l.kind) {
      case Loc::Kind::Reg: return gp(static_cast<std::uint32_t>(l.v), w64);
      case Loc::Kind::Slot: a_.mov(x86::gpq(scratch), slot_mem(static_cast<std::int32_t>(l.v))); break;
      case Loc::Kind::Imm: load_const(scratch, l.v); break;
      case Loc::Kind::Frame: a_.lea(x86::gpq(scratch), frame_mem(l.v, 0, 0)); break;
    }
    return gp(scratch, w64);
  }
  /// v as a second operand: register, memory or (when it fits an imm32 the instruction
  /// sign-extends; any value at 32 bits) immediate; else materialized in `scratch`.
  Operand operand(ValueId v, std::uint32_t scratch, bool w64) {
    const Loc l = loc(v);
    if (l.kind == Loc::Kind::Reg) return gp(static_cast<std::uint32_t>(l.v), w64);
    if (l.kind == Loc::Kind::Slot) return slot_mem(static_cast<std::int32_t>(l.v), w64 ? 8 : 4);
    if (l.kind == Loc::Kind::Frame) return use(v, scratch, w64);
    if (!w64) return imm(static_cast<std::int32_t>(l.v));
    if (fits_imm32(l.v)) return imm(l.v);
    load_const(scratch, l.v);
    return gp(scratch, true);
  }
  /// Register the result of v is computed in: its own, or r11 (then stored by finish()).
  std::uint32_t target(ValueId v) const { return al_.reg[v] >= 0 ? static_cast<std::uint32_t>(al_.reg[v]) : kScratch; }
  void finish(ValueId v) {
    if (al_.reg[v] < 0 && al_.slot[v] >= 0) a_.mov(slot_mem(al_.slot[v]), x86::r11);
  }
  /// mov t, v (64 bits, or 32 bits zero-extending) unless v is already there.
  void move_into(std::uint32_t t, ValueId v, bool w64) {
    if (in_reg(v, t)) return;
    const Loc l = loc(v);
    switch (l.kind) {
      case Loc::Kind::Imm: load_const(t, w64 ? l.v : static_cast<std::int64_t>(static_cast<std::uint32_t>(l.v))); break;
      case Loc::Kind::Reg: a_.mov(gp(t, w64), gp(static_cast<std::uint32_t>(l.v), w64)); break;
      case Loc::Kind::Slot: a_.mov(gp(t, w64), slot_mem(static_cast<std::int32_t>(l.v), w64 ? 8 : 4)); break;
      case Loc::Kind::Frame: a_.lea(gp(t, w64), frame_mem(l.v, 0, 0)); break;
    }
  }

  Result<void> unsupported(const Inst& i, const std::string& what) const {
    return make_error(Errc::Unsupported, "optimizing JIT (x86-64): " + what + " (the baseline tier runs it)", i.pc);
  }

  void emit_move(const Loc& dst, const Loc& src) {
    if (dst == src) return;
    if (dst.kind == Loc::Kind::Reg) {
      const auto d = static_cast<std::uint32_t>(dst.v);
      if (src.kind == Loc::Kind::Reg) a_.mov(x86::gpq(d), x86::gpq(static_cast<std::uint32_t>(src.v)));
      else if (src.kind == Loc::Kind::Slot) a_.mov(x86::gpq(d), slot_mem(static_cast<std::int32_t>(src.v)));
      else if (src.kind == Loc::Kind::Frame) a_.lea(x86::gpq(d), frame_mem(src.v, 0, 0));
      else load_const(d, src.v);
      return;
    }
    const auto m = slot_mem(static_cast<std::int32_t>(dst.v));
    if (src.kind == Loc::Kind::Reg) {
      a_.mov(m, x86::gpq(static_cast<std::uint32_t>(src.v)));
    } else if (src.kind == Loc::Kind::Imm && fits_imm32(src.v)) {
      a_.mov(m, imm(src.v));
    } else {
      emit_move({Loc::Kind::Reg, kScratch2}, src);
      a_.mov(m, x86::r10);
    }
  }

  /// Performs all moves at once (sources read before any destination is written).
  void parallel_move(std::vector<opt::Move> moves) {
    for (const auto& m : opt::sequentialize(std::move(moves), kScratch)) emit_move(m.dst, m.src);
  }
  void phi_moves(opt::BlockId from, opt::BlockId to) { parallel_move(opt::phi_moves(fn_, al_, from, to)); }

  bool falls_into(opt::BlockId b) const { return static_cast<std::int64_t>(alias_[b]) == next_; }

  void jump_to(opt::BlockId b) {
    if (!falls_into(b)) jump_to_block(std::nullopt, b);
  }
  /// `j<cc>` (or `jmp` without one) to block b's label, short when short_jumps_ says this jump may be.
  void jump_to_block(std::optional<x86::CondCode> cc, opt::BlockId b) {
    const auto site = jump_sites_.size();
    if (site < short_jumps_.size() && short_jumps_[site]) a_.short_();
    if (cc) a_.j(*cc, labels_[b]);
    else a_.jmp(labels_[b]);
    jump_sites_.push_back({a_.offset(), labels_[b]});
  }

  /// Counted/checked builds: budget segments that cannot be paid, and the checked accesses' slow path.
  void emit_cold_paths() {
    if (!div_cold_.empty() && notes_) a_.comment("stub: divisor 0 or -1");
    for (const auto& c : div_cold_) {
      a_.bind(c.entry);
      const x86::Gp r = gp(c.result, c.w64);
      if (c.kind == DivCold::Kind::Zero) a_.xor_(x86::gpd(c.result), x86::gpd(c.result));
      else if (c.kind == DivCold::Kind::KeepDividend) a_.mov(r, gp(kRax, c.w64));  // 32-bit: zero-extended
      else a_.neg(r);
      a_.jmp(c.back);
    }
    if (!budget_cold_.empty()) {
      if (notes_) a_.comment("stub: budget exhausted");
      const Label common = a_.newLabel();
      for (const auto& c : budget_cold_) {
        a_.bind(c.entry);
        a_.mov(x86::esi, imm(c.pc));
        a_.mov(x86::edx, imm(c.length));
        a_.jmp(common);
      }
      a_.bind(common);  // rsp as in the body: aligned for the call
      a_.mov(x86::rdi, x86::gpq(kState));
      a_.mov(x86::rax, imm(reinterpret_cast<std::uint64_t>(&jit_budget_exhausted)));
      a_.call(x86::rax);
      a_.jmp(fail_);
    }
    if (check_stub_.isValid()) {
      // r10 = address, r11 = access_info; every caller-saved register kept (values live there).
      // Entered with rsp ≡ 8 (mod 16): nine pushes align it for the call.
      if (notes_) a_.comment("stub: checked access slow path");
      a_.bind(check_stub_);
      const x86::Gp saved[] = {x86::rax, x86::rcx, x86::rdx, x86::rsi, x86::rdi, x86::r8, x86::r9, x86::r10, x86::r11};
      for (const auto& r : saved) a_.push(r);
      a_.mov(x86::rdi, x86::gpq(kState));
      a_.mov(x86::rsi, x86::r10);
      a_.mov(x86::rdx, x86::r11);
      a_.mov(x86::rax, imm(reinterpret_cast<std::uint64_t>(&jit_check_access)));
      a_.call(x86::rax);
      const Label fault = a_.newLabel();
      a_.test(x86::al, x86::al);
      a_.jz(fault);
      for (auto r = std::rbegin(saved); r != std::rend(saved); ++r) a_.pop(*r);
      a_.ret();
      a_.bind(fault);  // the fault is recorded: unwind to the body's rsp
      a_.mov(x86::rsp, x86::qword_ptr(x86::gpq(kState), offsetof(JitState, saved_rsp)));
      a_.jmp(fail_);
    }
  }
  /// A checked access: its address into r10, tested (emit_access_check); the access is then [r10].
  x86::Mem checked_address(const Inst& i, bool write) {
    a_.lea(x86::r10, address(i, 0));
    if (!check_stub_.isValid()) check_stub_ = a_.newLabel();
    emit_access_check(a_, x86::r10, x86::r11, x86::gpq(kState), i.bits, write, i.pc, check_stub_);
    return x86::ptr(x86::r10, 0, i.bits);
  }
  x86::Mem access(const Inst& i, bool write) { return i.checked ? checked_address(i, write) : address(i, i.bits); }

  Result<void> emit_inst(opt::BlockId b, ValueId id);
  Result<void> emit_alu(ValueId id);
  void emit_rotate(ValueId id);
  bool emit_lea(ValueId id);
  /// movbe: a 32- or 64-bit byte swap (ToBe, Bswap) of an unchecked zero-extending load of its width
  /// that nothing else reads and that comes right before it (constants aside: no code runs between,
  /// so the load's address registers are as they were) is one `movbe r, [address]`, the load
  /// emitting nothing (movbe_load_). ntohl/be64 reads and load combining's big-endian trees.
  void plan_movbe(const std::vector<std::uint32_t>& uses) {
    movbe_load_.assign(fn_.values.size(), false);
    if (!movbe_) return;
    for (const auto& block : fn_.blocks) {
      ValueId prev = opt::kNoValue;
      for (auto id : block.insts) {
        const Inst& i = val(id);
        if (i.dead || i.op == Op::Const) continue;
        if (prev != opt::kNoValue && i.op == Op::Unary && (i.kind == Kind::ToBe || i.kind == Kind::Bswap) &&
            i.bits >= 32 && i.args[0] == prev && uses[prev] == 1) {
          const Inst& load = val(prev);
          if (load.op == Op::Load && !load.sx && !load.checked && 8u * load.bits == i.bits) movbe_load_[prev] = true;
        }
        prev = id;
      }
    }
  }
  /// lea for `x + (y << k)`, k 1..3, 32 or 64 bits: a left shift by a constant that nothing else
  /// reads, right before the add reading it (constants aside: no code runs between, so y is still in
  /// its register), is the index of one `lea t, [x + y * 2^k]` and emits nothing (scaled_shift_).
  /// One instruction and one cycle fewer on y's path: a chain `acc ^= next + (acc << 1)` (held-out
  /// fibonacci_iter) ran shl, add, xor per step. Both operands in registers, x not rbp/r13 (as a
  /// base they need a displacement: a three-component lea, slow on some cores).
  void plan_scaled_adds(const std::vector<std::uint32_t>& uses) {
    scaled_shift_.assign(fn_.values.size(), false);
    auto in_plain_reg = [&](ValueId v, bool base) {
      const Loc l = loc(v);
      return l.kind == Loc::Kind::Reg && (!base || (l.v != x86::Gp::kIdBp && l.v != x86::Gp::kIdR13));
    };
    for (const auto& block : fn_.blocks) {
      ValueId prev = opt::kNoValue;
      for (auto id : block.insts) {
        const Inst& i = val(id);
        if (i.dead || i.op == Op::Const) continue;
        if (prev != opt::kNoValue && i.op == Op::Alu && i.kind == Kind::Add && uses[prev] == 1 &&
            !movbe_load_[prev] && !fields_.part[prev] && (i.args[0] == prev || i.args[1] == prev)) {
          const Inst& s = val(prev);
          const ValueId x = i.args[i.args[0] == prev ? 1 : 0];
          const auto count = s.op == Op::Alu && s.kind == Kind::Lsh && s.width == i.width
                                 ? constant_at(s.args[1], s.width) : std::nullopt;
          if (count && (*count & (s.width - 1u)) >= 1 && (*count & (s.width - 1u)) <= 3 &&
              in_plain_reg(x, true) && in_plain_reg(s.args[0], false))
            scaled_shift_[prev] = true;
        }
        prev = id;
      }
    }
  }
  bool emit_scaled_add(ValueId id);
  bool emit_mul_by_constant(ValueId id);
  /// A constant operand's value (Const, or a ConstInReg LICM hoisted), at `width` bits.
  std::optional<std::uint64_t> constant_at(ValueId v, unsigned width) const {
    const Inst& c = val(v);
    if (c.op != Op::Const && c.op != Op::ConstInReg) return std::nullopt;
    return static_cast<std::uint64_t>(c.imm) & (width == 64 ? ~0ull : 0xffffffffull);
  }
  void emit_divmod(opt::BlockId blk, ValueId id);
  std::uint64_t regs_live_after(opt::BlockId blk, ValueId id) const;
  Result<x86::CondCode> emit_compare(const Inst& i);
  Result<void> emit_branch(opt::BlockId b, ValueId id);
  Result<void> emit_select(ValueId id);
  void emit_call(ValueId id);
  void emit_tail_call(ValueId id);
  void publish_frames(std::int64_t depth);
  void emit_atomic(ValueId id);

  opt::Function& fn_;
  x86::Assembler& a_;
  const opt::Allocation& al_;
  const std::vector<FunctionEntry>& functions_;  // entry labels of every function of the build
  bool bmi2_;
  bool movbe_;       // the host has MOVBE and the request allows it
  std::vector<bool>& movbe_load_;  // plan_.movbe_load
  bool bmi1_;        // the host has BMI1 (bextr) and the request allows it
  opt::BitFieldPlan& fields_;  // plan_.fields
  std::vector<bool>& scaled_shift_;  // plan_.scaled_shift
  bool counting_;    // counted or checked build: JitState* in r12, Op::Charge pays the budget
  bool checked_;     // checked build: Op::Frames publishes the frames as the run's stack
  bool zero_stack_;
  const ProgramCode* program_code_;  // this build's: the running one again after a tail call's target
  struct BudgetCold {
    Label entry;
    std::uint32_t pc, length;
  };
  std::vector<BudgetCold> budget_cold_;
  struct DivCold {  // a divide's out-of-line case: divisor 0, or -1 (signed)
    enum class Kind : std::uint8_t { Zero, KeepDividend, Negate } kind;  // result = 0, the dividend, -dividend
    Label entry, back;
    std::uint32_t result;  // rax or rdx
    bool w64;
  };
  std::vector<DivCold> div_cold_;
  Label check_stub_;  // bound by emit_cold_paths once a checked access needs it
  std::int32_t frames_base_ = 0;  // [rsp + frames_base_]: the deepest inlined frame's lowest byte
  std::optional<opt::ListingNotes> notes_;  // only for listings
  std::vector<Label> labels_;
  const std::vector<bool>& line_heads_;  // per block: a loop head aligned to kLineBytes (else kLoopAlignBytes)
  std::vector<std::size_t> block_start_, block_end_;  // code offsets of each block's first and past its last byte
  std::vector<opt::BlockId>& alias_;  // plan_.alias
  std::vector<opt::EmittedBlock>& placed_;  // plan_.placed
  const std::vector<bool>& short_jumps_;  // per jump to a block, in emission order: emit it short
  EmitterPlan& plan_;
  std::vector<std::pair<std::size_t, Label>> jump_sites_;  // per jump to a block: the offset past it, its target
  Label ret_, exit_, fail_;
  std::int32_t frame_bytes_ = 0;
  std::int64_t next_ = -1;  // block emitted next (fallthrough target)
  opt::BlockId block_ = 0;  // block being emitted
  const Inst* flags_of_ = nullptr;  // the comparison whose flags are live (emit_compare), or none
  x86::CondCode flags_cc_ = x86::CondCode::kEqual;
};

Result<void> OptEmitter::emit_inst(opt::BlockId b, ValueId id) {
  const Inst& i = val(id);
  if (i.op != Op::Select && i.op != Op::Branch && i.op != Op::Const) flags_of_ = nullptr;
  switch (i.op) {
    case Op::Const: case Op::Phi: case Op::Copy:
      return {};  // constants are immediates; phis are moves in the predecessors; copies are gone
    case Op::Arg: {
      const auto t = target(id);
      load_state();
      a_.mov(x86::gpq(t), state(offsetof(JitState, args) + 8 * static_cast<std::size_t>(i.imm)));
      finish(id);
      return {};
    }
    case Op::FuncAddr: {
      // The callback's function in this code: what call_back_into_code finds in func_addresses.
      const auto t = target(id);
      a_.lea(x86::gpq(t), x86::ptr(function_entry(functions_, static_cast<std::uint32_t>(i.imm))));
      finish(id);
      return {};
    }
    case Op::FramePtr:
      return {};  // no location: uses address the frame from rsp
    case Op::ConstInReg:  // a wide constant loaded once before a loop (licm.cpp)
      if (al_.reg[id] >= 0 || al_.slot[id] >= 0) emit_move(loc(id), {Loc::Kind::Imm, i.imm});
      return {};
    case Op::Alu:
      if (fields_.part[id]) return {};  // plan_bit_fields: its user extracts from its operand
      if (scaled_shift_[id]) return {};  // plan_scaled_adds: its add's lea scales its operand
      if (const opt::BitField& f = fields_.field[id]; f.len != 0) {
        const x86::Gp T = gp(target(id), i.width == 64), A = use(f.x, kScratch2, i.width == 64);
        a_.mov(x86::r11d, imm(f.start | f.len << 8));
        a_.bextr(T, A, gp(kScratch, i.width == 64));
        finish(id);
        return {};
      }
      return emit_alu(id);
    case Op::Rotate: emit_rotate(id); return {};
    case Op::MovSx: {
      const auto t = target(id);
      const x86::Gp src = use(i.args[0], kScratch2);
      const bool w64 = i.width == 64;
      if (i.bits == 32)
        a_.movsxd(x86::gpq(t), x86::gpd(src.id()));
      else
        a_.movsx(gp(t, w64), sized_gp(src.id(), i.bits / 8u));  // movsx r32 zero-extends past bit 31
      finish(id);
      return {};
    }
    case Op::Unary: {
      const auto t = target(id);
      if (movbe_load_[i.args[0]]) {  // plan_movbe: the swap reads the load's memory
        const Inst& load = val(i.args[0]);
        a_.movbe(gp(t, i.bits == 64), address(load, load.bits));
        finish(id);
        return {};
      }
      const x86::Gp src = use(i.args[0], kScratch2);
      switch (i.kind) {
        case Kind::Neg:  // neg and bswap of a 32-bit register zero-extend: no copy onto itself first
          if (src.id() != t) a_.mov(gp(t, i.width == 64), gp(src.id(), i.width == 64));
          a_.neg(gp(t, i.width == 64));
          break;
        case Kind::ToLe:
          if (i.bits == 16) a_.movzx(x86::gpd(t), x86::gpw(src.id()));
          else a_.mov(gp(t, i.bits == 64), gp(src.id(), i.bits == 64));
          break;
        case Kind::ToBe: case Kind::Bswap:
          if (src.id() != t) a_.mov(gp(t, i.bits == 64), gp(src.id(), i.bits == 64));
          if (i.bits == 16) {
            a_.rol(x86::gpw(t), imm(8));
            if (!zero_above_16(fn_, i.args[0])) a_.movzx(x86::gpd(t), x86::gpw(t));
          } else {
            a_.bswap(gp(t, i.bits == 64));
          }
          break;
        default:
          return unsupported(i, "unary operation");
      }
      finish(id);
      return {};
    }
    case Op::Zext32: {
      const auto t = target(id);
      a_.mov(x86::gpd(t), x86::gpd(use(i.args[0], kScratch2).id()));
      finish(id);
      return {};
    }
    case Op::Load: {
      if (movbe_load_[id]) return {};  // its byte swap reads it (plan_movbe)
      const auto t = target(id);
      const auto m = access(i, false);
      if (i.sx) {
        if (i.bits == 4) a_.movsxd(x86::gpq(t), m);
        else if (i.bits == 8) a_.mov(x86::gpq(t), m);
        else a_.movsx(x86::gpq(t), m);
      } else {
        if (i.bits == 8) a_.mov(x86::gpq(t), m);
        else if (i.bits == 4) a_.mov(x86::gpd(t), m);
        else a_.movzx(x86::gpd(t), m);
      }
      finish(id);
      return {};
    }
    case Op::Store: {
      const auto m = access(i, true);
      const Loc v = loc(i.args[1]);
      if (v.kind == Loc::Kind::Imm && (i.bits < 8 || fits_imm32(v.v))) {
        const std::int64_t truncated = i.bits == 1 ? std::int8_t(v.v) : i.bits == 2 ? std::int16_t(v.v)
                                     : std::int32_t(v.v);
        a_.mov(m, imm(truncated));
      } else {
        a_.mov(m, sized_gp(use(i.args[1], kScratch).id(), i.bits));
      }
      return {};
    }
    case Op::Call: emit_call(id); return {};
    case Op::Atomic: emit_atomic(id); return {};
    case Op::Jmp:
      phi_moves(b, fn_.blocks[b].succs[0]);
      jump_to(fn_.blocks[b].succs[0]);
      return {};
    case Op::Branch: return emit_branch(b, id);
    case Op::Select: return emit_select(id);
    case Op::Ret: {
      const Loc l = loc(i.args[0]);
      emit_move({Loc::Kind::Reg, kRax}, l);
      a_.jmp(ret_);
      return {};
    }
    case Op::Charge: {
      // As the baseline's charge_budget: a borrow means the segment cannot be paid in full.
      const Label cold = a_.newLabel();
      budget_cold_.push_back({cold, i.pc, static_cast<std::uint32_t>(i.imm)});
      a_.sub(x86::qword_ptr(x86::gpq(kState), offsetof(JitState, budget_left)), imm(i.imm));
      a_.jb(cold);
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
      a_.mov(x86::gpq(t), state(offsetof(JitState, r0)));
      finish(id);
      return {};
    }
  }
  return unsupported(i, "instruction");
}

// a + b or a - constant into a register other than a's: one lea instead of mov and add (32 bits:
// lea of the 64-bit sum writes its low half, zero-extended, as add r32 does).
bool OptEmitter::emit_lea(ValueId id) {
  const Inst& i = val(id);
  if (al_.reg[id] < 0 || (i.kind != Kind::Add && i.kind != Kind::Sub)) return false;
  ValueId a = i.args[0], b = i.args[1];
  if (i.kind == Kind::Add && loc(a).kind != Loc::Kind::Reg) std::swap(a, b);
  if (i.kind == Kind::Add && loc(b).kind == Loc::Kind::Frame) std::swap(a, b);
  const Loc la = loc(a), lb = loc(b);
  const auto t = static_cast<std::uint32_t>(al_.reg[id]);
  if (la.kind == Loc::Kind::Frame && lb.kind == Loc::Kind::Imm && i.width == 64) {  // a stack address
    const auto c = static_cast<std::uint64_t>(lb.v);
    a_.lea(x86::gpq(t), frame_mem(la.v, static_cast<std::int64_t>(i.kind == Kind::Add ? c : 0 - c), 0));
    return true;
  }
  if (la.kind != Loc::Kind::Reg || static_cast<std::uint32_t>(la.v) == t) return false;
  const x86::Gp base = x86::gpq(static_cast<std::uint32_t>(la.v)), T = gp(t, i.width == 64);
  if (lb.kind == Loc::Kind::Reg && i.kind == Kind::Add) {
    // b already in the target (a register b's lifetime hands on): add a to it. A two-register lea
    // costs more where it is a loop's carried sum (rbp/r13 as base take a displacement: a slow lea).
    if (static_cast<std::uint32_t>(lb.v) == t) a_.add(T, gp(static_cast<std::uint32_t>(la.v), i.width == 64));
    else a_.lea(T, x86::ptr(base, x86::gpq(static_cast<std::uint32_t>(lb.v))));
    return true;
  }
  if (lb.kind != Loc::Kind::Imm) return false;
  const auto c = static_cast<std::uint64_t>(lb.v);
  std::int64_t disp = static_cast<std::int64_t>(i.kind == Kind::Add ? c : 0 - c);
  if (i.width == 32) disp = static_cast<std::int32_t>(static_cast<std::uint32_t>(disp));
  if (!fits_imm32(disp)) return false;
  a_.lea(T, x86::ptr(base, static_cast<std::int32_t>(disp)));
  return true;
}

bool OptEmitter::emit_scaled_add(ValueId id) {
  const Inst& i = val(id);
  if (i.kind != Kind::Add) return false;
  const bool first = scaled_shift_[i.args[0]];
  if (!first && !scaled_shift_[i.args[1]]) return false;
  const Inst& s = val(i.args[first ? 0 : 1]);
  const auto count = static_cast<std::uint32_t>(*constant_at(s.args[1], s.width) & (s.width - 1u));
  const auto x = static_cast<std::uint32_t>(loc(i.args[first ? 1 : 0]).v);
  const auto y = static_cast<std::uint32_t>(loc(s.args[0]).v);
  // A 32-bit lea keeps the low half of the 64-bit sum, zero-extended: the 32-bit add of the shift.
  a_.lea(gp(target(id), i.width == 64), x86::ptr(x86::gpq(x), x86::gpq(y), count));
  finish(id);
  return true;
}

Result<void> OptEmitter::emit_alu(ValueId id) {
  const Inst& i = val(id);
  const bool w64 = i.width == 64;
  const auto t = target(id);
  const x86::Gp T = gp(t, w64);
  ValueId a = i.args[0], b = i.args[1];
  switch (i.kind) {
    case Kind::Div: case Kind::SDiv: case Kind::Mod: case Kind::SMod:
      emit_divmod(block_, id);
      return {};
    case Kind::Lsh: case Kind::Rsh: case Kind::Arsh: {
      if (fn_.is_const(b)) {
        const auto count = static_cast<std::uint64_t>(val(b).imm) & (w64 ? 63u : 31u);
        move_into(t, a, w64);
        const InstId op = i.kind == Kind::Lsh ? x86::Inst::kIdShl : i.kind == Kind::Rsh ? x86::Inst::kIdShr : x86::Inst::kIdSar;
        if (count) a_.emit(op, T, imm(count));
        else if (!w64) a_.mov(T, T);  // a 32-bit shift by 0 still zero-extends
      } else {
        if (!bmi2_) return unsupported(i, "register shifts need BMI2 here");
        // shlx/shrx/sarx mask the count by the operand width, as BPF does.
        const x86::Gp count = use(b, kScratch2, w64);
        const x86::Gp src = use(a, kScratch, w64);
        if (i.kind == Kind::Lsh) a_.shlx(T, src, count);
        else if (i.kind == Kind::Rsh) a_.shrx(T, src, count);
        else a_.sarx(T, src, count);
      }
      finish(id);
      return {};
    }
    case Kind::Add: case Kind::Sub: case Kind::Or: case Kind::And: case Kind::Xor: case Kind::Mul: {
      if (emit_scaled_add(id)) return {};
      if (emit_lea(id)) return {};
      if (i.kind == Kind::Mul && fn_.is_const(b) && !fn_.is_const(a) && emit_mul_by_constant(id)) return {};
      const bool commutative = i.kind != Kind::Sub;
      if (in_reg(b, t) && !in_reg(a, t)) {
        if (commutative) {
          std::swap(a, b);
        } else {  // t holds b: r11 = a - b; t = r11. The renamer drops the movs, so b's path is one
                  // cycle (neg; add took two: divmod's acc - q * d ran 1.03-1.05x the baseline)
          const x86::Gp S = gp(kScratch, w64);
          move_into(kScratch, a, w64);
          a_.sub(S, T);
          a_.mov(T, S);
          finish(id);
          return {};
        }
      }
      move_into(t, a, w64);
      const Operand src = operand(b, kScratch2, w64);
      if (i.kind == Kind::Mul) {
        if (src.isImm()) a_.imul(T, T, src.as<Imm>());
        else if (src.isMem()) a_.imul(T, src.as<x86::Mem>());
        else a_.imul(T, src.as<x86::Gp>());
      } else {
        const InstId op = i.kind == Kind::Add ? x86::Inst::kIdAdd : i.kind == Kind::Sub ? x86::Inst::kIdSub
                        : i.kind == Kind::Or ? x86::Inst::kIdOr : i.kind == Kind::And ? x86::Inst::kIdAnd
                        : x86::Inst::kIdXor;
        a_.emit(op, T, src);
      }
      finish(id);
      return {};
    }
    default:
      return unsupported(i, "ALU operation");
  }
}

// x * c without imul (3 cycles) where that measured faster (bench_jit_vs_kernel, interleaved with
// main's build; bench/README.md "Multiplies, bit-field extracts, movbe"): 3, 5, 9 as lea t, [x +
// x*2/4/8] (saturate's and alu32's loop-carried `acc * 3 + s`, `h * 9`); 2^k ± 1 as shl and add/sub
// of x (2 cycles, 3 instructions) only for an accumulator carried around a one-block loop — x a phi
// of the multiply's own block, in a register: stride's `acc = acc * 31 + w` 223 -> 183 ns. Elsewhere
// the extra instructions cost more than the cycle: strlen's `acc * 33` after an inner loop 498 ->
// 526 ns, spill16's sixteen unrolled spilled chains 294 -> 328, memcmp8's `* 7` 91 -> 98; two leas
// (x 15, 25, 27) and lea + shl showed no gain. Each form's low 32 bits are a 32-bit product's.
bool OptEmitter::emit_mul_by_constant(ValueId id) {
  const Inst& i = val(id);
  const bool w64 = i.width == 64;
  const auto c = static_cast<std::uint64_t>(val(i.args[1]).imm) & (w64 ? ~0ull : 0xffffffffull);
  const auto t = target(id);
  if (c == 3 || c == 5 || c == 9) {
    const x86::Gp A = use(i.args[0], kScratch2, true);
    a_.lea(gp(t, w64), x86::ptr(A, A, c == 3 ? 1u : c == 5 ? 2u : 3u));
    finish(id);
    return true;
  }
  const Inst& x = val(i.args[0]);
  if (x.op != Op::Phi || x.block != i.block || loc(i.args[0]).kind != Loc::Kind::Reg) return false;
  const unsigned width = w64 ? 64u : 32u;
  const auto log2_exact = [width](std::uint64_t m) {
    return m != 0 && (m & (m - 1)) == 0 && static_cast<unsigned>(std::countr_zero(m)) < width
               ? static_cast<unsigned>(std::countr_zero(m)) : 0u;
  };
  const unsigned plus_shift = log2_exact(c - 1), minus_shift = log2_exact(c + 1);
  if (plus_shift <= 1 && minus_shift <= 1) return false;
  // t may be x's register (x dies here): keep x in r10 then.
  const x86::Gp T = gp(t, w64), A = use(i.args[0], kScratch2, w64);
  const x86::Gp X = A.id() == t ? gp(kScratch2, w64) : A;
  if (A.id() == t) a_.mov(X, T);
  else a_.mov(T, X);
  a_.shl(T, imm(plus_shift > 1 ? plus_shift : minus_shift));
  if (plus_shift > 1) a_.add(T, X); else a_.sub(T, X);
  finish(id);
  return true;
}

// Op::Rotate (rotate_idiom.cpp). A constant amount: rorx (BMI2: three operands, flags untouched; a
// left rotate by c is a right one by W - c), else mov and rol/ror imm. A variable amount: rol/ror
// by cl, which masks the count by the operand width as Rotate does; the count goes to rcx, and r10
// keeps what rcx held when a value read after the rotate lives there. 32-bit forms zero-extend.
void OptEmitter::emit_rotate(ValueId id) {
  const Inst& i = val(id);
  const bool w64 = i.width == 64, left = i.kind == Kind::Lsh;
  const unsigned mask = w64 ? 63u : 31u;
  const auto t = target(id);
  const x86::Gp T = gp(t, w64);
  const ValueId x = i.args[0], n = i.args[1];
  if (fn_.is_const(n)) {
    const unsigned c = static_cast<unsigned>(static_cast<std::uint64_t>(val(n).imm) & mask);
    if (bmi2_) {
      a_.rorx(T, use(x, kScratch2, w64), imm(left ? (mask + 1 - c) & mask : c));
    } else {
      move_into(t, x, w64);
      a_.emit(left ? x86::Inst::kIdRol : x86::Inst::kIdRor, T, imm(c));
    }
    finish(id);
    return;
  }
  const InstId op = left ? x86::Inst::kIdRol : x86::Inst::kIdRor;
  const bool count_in_rcx = in_reg(n, kRcx);
  const bool keep_rcx = !count_in_rcx && t != kRcx && ((regs_live_after(block_, id) >> kRcx) & 1);
  // Rotate in the target unless rcx is it, x lives in rcx (the count overwrites it) or the count
  // lives in the target (x overwrites it): then in r11.
  const bool direct = t != kRcx && !in_reg(x, kRcx) && !in_reg(n, t);
  const std::uint32_t work = direct ? t : kScratch;
  if (!direct) move_into(kScratch, x, w64);
  if (keep_rcx) a_.mov(x86::r10, x86::rcx);
  if (!count_in_rcx) move_into(kRcx, n, false);
  if (direct) move_into(t, x, w64);
  a_.emit(op, gp(work, w64), x86::cl);
  if (keep_rcx) a_.mov(x86::rcx, x86::r10);
  if (!direct && al_.reg[id] >= 0) a_.mov(x86::gpq(t), x86::r11);
  else finish(id);
}

// div/mod need rdx:rax: the divisor goes to r11, the dividend to rax. Only a value still read after
// the divide (regs_live_after) is kept: rax in r10, rdx in a register that holds nothing live (else
// its frame slot), both restored afterwards (the result then reaches its target from r11). Division
// by zero gives 0 and modulo by zero keeps the dividend, INT_MIN / -1 and % -1 (signed) never reach
// idiv: both out of line (div_cold_), so the divide's path takes no jump.
void OptEmitter::emit_divmod(opt::BlockId blk, ValueId id) {
  const Inst& i = val(id);
  const bool w64 = i.width == 64;
  const bool is_signed = i.kind == Kind::SDiv || i.kind == Kind::SMod;
  const bool is_mod = i.kind == Kind::Mod || i.kind == Kind::SMod;
  const ValueId a = i.args[0], b = i.args[1];
  const std::uint64_t live = regs_live_after(blk, id);
  const bool keep_rax = (live >> kRax) & 1, keep_rdx = (live >> kRdx) & 1;
  // rdx's keeper: a register no value needs across the divide (the operands are read before it).
  std::uint32_t rdx_keeper = kRdx;
  if (keep_rdx) {
    std::uint64_t busy = live | (std::uint64_t{1} << kRax) | (std::uint64_t{1} << kRdx);
    for (auto v : {a, b})
      if (const Loc l = loc(v); l.kind == Loc::Kind::Reg) busy |= std::uint64_t{1} << l.v;
    for (auto r : register_file(counting_).allocatable)
      if (((busy >> r) & 1) == 0) {
        rdx_keeper = r;
        break;
      }
  }
  const x86::Gp divisor = gp(kScratch, w64), ax = gp(kRax, w64), dx = gp(kRdx, w64);
  const Loc lb = loc(b);
  emit_move({Loc::Kind::Reg, kScratch}, lb);
  if (keep_rax) a_.mov(x86::r10, x86::rax);
  if (keep_rdx && rdx_keeper != kRdx) a_.mov(x86::gpq(rdx_keeper), x86::rdx);
  else if (keep_rdx) a_.mov(x86::qword_ptr(x86::rsp, kDivOff), x86::rdx);
  if (!in_reg(a, kRax)) emit_move({Loc::Kind::Reg, kRax}, loc(a));  // rdx, if a is there, is intact
  // The result: rax (div) or rdx (mod), on both paths.
  const std::uint32_t result = is_mod ? kRdx : kRax;
  const Label done = a_.newLabel();
  const std::uint64_t c = static_cast<std::uint64_t>(lb.v) & (w64 ? ~std::uint64_t{0} : 0xffffffffu);
  const bool never_zero = lb.kind == Loc::Kind::Imm && c != 0;
  const bool never_minus_one = lb.kind == Loc::Kind::Imm && c != (w64 ? ~std::uint64_t{0} : 0xffffffffu);
  if (!never_zero) {
    const Label zero = a_.newLabel();
    a_.test(divisor, divisor);
    a_.jz(zero);
    div_cold_.push_back({is_mod ? DivCold::Kind::KeepDividend : DivCold::Kind::Zero, zero, done, result, w64});
  }
  if (is_signed && !never_minus_one) {
    const Label minus_one = a_.newLabel();
    a_.cmp(divisor, -1);
    a_.je(minus_one);
    div_cold_.push_back({is_mod ? DivCold::Kind::Zero : DivCold::Kind::Negate, minus_one, done, result, w64});
  }
  if (is_signed) {
    if (w64) a_.cqo(x86::rdx, x86::rax); else a_.cdq(x86::edx, x86::eax);
    a_.idiv(dx, ax, divisor);
  } else {
    a_.xor_(x86::edx, x86::edx);
    a_.div(dx, ax, divisor);
  }
  a_.bind(done);
  const bool restore = keep_rax || keep_rdx;
  const std::uint32_t t = restore ? kScratch : target(id);
  if (t != result) a_.mov(x86::gpq(t), x86::gpq(result));
  if (keep_rax) a_.mov(x86::rax, x86::r10);
  if (keep_rdx && rdx_keeper != kRdx) a_.mov(x86::rdx, x86::gpq(rdx_keeper));
  else if (keep_rdx) a_.mov(x86::rdx, x86::qword_ptr(x86::rsp, kDivOff));
  if (restore && al_.reg[id] >= 0) a_.mov(x86::gpq(static_cast<std::uint32_t>(al_.reg[id])), x86::r11);
  else finish(id);
}

// Host registers holding a value read after `id` in block `blk` or on an edge out of it (a phi's
// argument, a successor's live-in); id's own result is not one (the divide writes it).
std::uint64_t OptEmitter::regs_live_after(opt::BlockId blk, ValueId id) const {
  if (al_.live_in_regs.empty()) return ~std::uint64_t{0};
  std::uint64_t live = 0;
  auto read = [&](ValueId v) {
    if (const Loc l = loc(v); l.kind == Loc::Kind::Reg && l.v < 64) live |= std::uint64_t{1} << l.v;
  };
  const auto& block = fn_.blocks[blk];
  for (auto s : block.succs) {
    live |= al_.live_in_regs[s];
    const auto& preds = fn_.blocks[s].preds;
    for (std::size_t k = 0; k < preds.size(); ++k) {
      if (preds[k] != blk) continue;
      for (auto p : fn_.blocks[s].insts) {
        const Inst& phi = val(p);
        if (phi.dead) continue;
        if (phi.op != Op::Phi) break;
        read(phi.args[k]);
      }
    }
  }
  for (auto it = block.insts.rbegin(); it != block.insts.rend(); ++it) {
    const Inst& i = val(*it);
    if (i.dead) continue;
    if (al_.reg[*it] >= 0) live &= ~(std::uint64_t{1} << al_.reg[*it]);
    if (*it == id) break;
    for (auto a : i.args) read(a);
  }
  return live;
}

// The flags of a Branch's or Select's comparison; the condition that holds when it is true.
Result<x86::CondCode> OptEmitter::emit_compare(const Inst& i) {
  const bool w64 = i.width == 64;
  auto cc = jump_condition(i.kind);
  if (!cc) return make_error(Errc::Unsupported, "optimizing JIT (x86-64): branch condition (the baseline tier runs it)", i.pc);
  // Selects of one condition (and the branch after them) share the first one's flags: mov and
  // cmov leave them alone.
  if (flags_of_ != nullptr && flags_of_->kind == i.kind && flags_of_->width == i.width &&
      flags_of_->args[0] == i.args[0] && flags_of_->args[1] == i.args[1])
    return flags_cc_;
  const bool is_test = i.kind == Kind::Jset;
  ValueId left = i.args[0], right = i.args[1];
  if (fn_.is_const(left) && !fn_.is_const(right)) {  // `1022 > x`: cmp x, 1022 with the reversed condition
    std::swap(left, right);
    if (!is_test) cc = x86::reverseCond(*cc);
  }
  const x86::Gp lhs = use(left, kScratch, w64);
  const Loc r = loc(right);
  if (!is_test && r.kind == Loc::Kind::Imm && (w64 ? r.v == 0 : static_cast<std::uint32_t>(r.v) == 0)) {
    a_.test(lhs, lhs);  // the flags every condition reads equal cmp's with 0
  } else {
    const Operand rhs = operand(right, kScratch2, w64);
    if (is_test && rhs.isMem()) a_.test(rhs.as<x86::Mem>(), lhs);  // test has no reg, mem form
    else a_.emit(is_test ? x86::Inst::kIdTest : x86::Inst::kIdCmp, lhs, rhs);
  }
  flags_of_ = &i;
  flags_cc_ = *cc;
  return *cc;
}

Result<void> OptEmitter::emit_branch(opt::BlockId b, ValueId id) {
  // A latch's back-edge moves go before the compare (opt::hoisted_latch_edge), so its edge block is
  // forwarded and the latch ends in one branch back.
  if (const auto e = opt::hoisted_latch_edge(fn_, al_, b); e >= 0 && alias_[static_cast<opt::BlockId>(e)] != e) {
    const auto edge = static_cast<opt::BlockId>(e);
    phi_moves(edge, fn_.blocks[edge].succs[0]);
    flags_of_ = nullptr;  // a move of 0 may be an xor
  }
  auto compared = emit_compare(val(id));
  if (!compared) return std::move(compared).error();
  const x86::CondCode cc = *compared;
  const auto taken = fn_.blocks[b].succs[0], fall = fn_.blocks[b].succs[1];
  if (falls_into(fall)) {
    jump_to_block(cc, taken);
  } else if (falls_into(taken)) {
    jump_to_block(x86::negateCond(cc), fall);
  } else {
    jump_to_block(cc, taken);
    jump_to_block(std::nullopt, fall);
  }
  return {};
}

// cond ? then : else as compare, mov (the else value; mov leaves the flags alone), cmovcc. Both
// scratch registers are free after the compare: a constant `then` goes through r10.
Result<void> OptEmitter::emit_select(ValueId id) {
  const Inst& i = val(id);
  auto compared = emit_compare(i);
  if (!compared) return std::move(compared).error();
  x86::CondCode cc = *compared;
  ValueId then_v = i.args[2], else_v = i.args[3];
  const auto t = target(id);
  const Loc th0 = loc(then_v), el0 = loc(else_v);
  if (th0.kind == Loc::Kind::Imm && el0.kind == Loc::Kind::Imm && (th0.v | el0.v) == 1) {
    // cond ? 1 : 0 (or 0 : 1) is setcc and movzx: two instructions, no constant in a register
    a_.set(th0.v == 1 ? cc : x86::negateCond(cc), x86::gpb(t));
    a_.movzx(x86::gpd(t), x86::gpb(t));
    finish(id);
    return {};
  }
  if (in_reg(then_v, t)) {
    if (in_reg(else_v, t)) return {};  // one register: one value
    std::swap(then_v, else_v);
    cc = x86::negateCond(cc);
  }
  if (!in_reg(else_v, t)) {
    const Loc e = loc(else_v);
    if (e.kind == Loc::Kind::Imm) mov_const_keep_flags(t, e.v);
    else emit_move({Loc::Kind::Reg, t}, e);
  }
  const Loc th = loc(then_v);
  Operand src;
  if (th.kind == Loc::Kind::Reg) src = x86::gpq(static_cast<std::uint32_t>(th.v));
  else if (th.kind == Loc::Kind::Slot) src = slot_mem(static_cast<std::int32_t>(th.v));
  else mov_const_keep_flags(kScratch2, th.v), src = x86::r10;
  a_.emit(x86::Inst::cmovccFromCond(cc), x86::gpq(t), src);
  finish(id);
  return {};
}

// Address in r10, operand in r11; the old value ends in r11 and reaches the result from there.
// cmpxchg and the fetch-or/and/xor loops need rax as comparand: it is kept in [rsp+8] meanwhile.
void OptEmitter::emit_atomic(ValueId id) {
  const Inst& i = val(id);
  const bool w64 = i.width == 64;
  if (i.checked) checked_address(i, true);
  else a_.lea(x86::r10, address(i, 0));
  const auto m = x86::ptr(x86::r10, 0, i.bits);
  emit_move({Loc::Kind::Reg, kScratch}, loc(i.args[1]));
  const x86::Gp operand = gp(kScratch, w64), ax = gp(kRax, w64);
  auto with_rax = [&](auto&& body) {
    a_.mov(x86::qword_ptr(x86::rsp, kDivOff), x86::rax);
    body();
    a_.mov(operand, ax);  // the old value (32-bit: zero-extended)
    a_.mov(x86::rax, x86::qword_ptr(x86::rsp, kDivOff));
  };
  auto rmw_loop = [&](InstId op) {
    if (!i.fetch) {
      a_.lock().emit(op, m, operand);
      return;
    }
    a_.mov(x86::ptr(x86::rsp, kAtomicOff, i.bits), operand);
    with_rax([&] {
      const Label retry = a_.newLabel();
      a_.mov(ax, m);
      a_.bind(retry);
      a_.mov(operand, ax);
      a_.emit(op, operand, x86::ptr(x86::rsp, kAtomicOff, i.bits));
      a_.lock().cmpxchg(m, operand, ax);
      a_.jne(retry);
    });
  };
  switch (i.kind) {
    case Kind::AtomicAdd:
      if (i.fetch) a_.lock().xadd(m, operand);
      else a_.lock().add(m, operand);
      break;
    case Kind::AtomicOr: rmw_loop(x86::Inst::kIdOr); break;
    case Kind::AtomicAnd: rmw_loop(x86::Inst::kIdAnd); break;
    case Kind::AtomicXor: rmw_loop(x86::Inst::kIdXor); break;
    case Kind::Xchg: a_.xchg(m, operand); break;  // implicitly locked
    case Kind::CmpXchg:
      with_rax([&] {
        if (!in_reg(i.args[2], kRax)) emit_move({Loc::Kind::Reg, kRax}, loc(i.args[2]));
        a_.lock().cmpxchg(m, operand, ax);
      });
      break;
    default:
      break;
  }
  if (al_.reg[id] >= 0 || al_.slot[id] >= 0) emit_move(loc(id), {Loc::Kind::Reg, kScratch});
}

void OptEmitter::emit_call(ValueId id) {
  const Inst& i = val(id);
  // r1..r5 into the SysV argument registers (a callx's value into r9); JitState* is argument 6.
  static constexpr std::uint32_t kArgRegs[] = {kRdi, kRsi, kRdx, kRcx, 8, 9};
  std::vector<opt::Move> moves;
  for (std::size_t k = 0; k < i.args.size(); ++k) moves.push_back({{Loc::Kind::Reg, kArgRegs[k]}, loc(i.args[k])});
  parallel_move(std::move(moves));
  if (i.imm != 0) {
    // A map's direct lookup entry on (r1, r2) (ir.hpp): it cannot fault, spends no budget and calls
    // nothing back, so no JitState bookkeeping and no status test.
    a_.mov(x86::rax, imm(static_cast<std::uint64_t>(i.imm)));
    a_.call(x86::rax);
    if (al_.reg[id] >= 0 || al_.slot[id] >= 0) emit_move(loc(id), {Loc::Kind::Reg, kRax});
    return;
  }
  const bool by_value = i.helper == nullptr;
  if (by_value) {
    // A callx of a helper id: jit_callx_helper sets pending_helper and pc (or fails the run). Six
    // pushes keep rsp 16-byte aligned and r1..r5 for the helper.
    const x86::Gp kKept[] = {x86::rdi, x86::rsi, x86::rdx, x86::rcx, x86::r8, x86::r9};
    for (const auto& r : kKept) a_.push(r);
    a_.mov(x86::rdi, x86::qword_ptr(x86::rsp, static_cast<std::int32_t>(8 * std::size(kKept)) + kStateOff));
    a_.mov(x86::rsi, x86::r9);
    a_.mov(x86::edx, imm(i.pc));
    a_.mov(x86::rax, imm(reinterpret_cast<std::uint64_t>(&jit_callx_helper)));
    a_.call(x86::rax);
    for (auto r = std::rbegin(kKept); r != std::rend(kKept); ++r) a_.pop(*r);
    load_state();
    a_.cmp(state(offsetof(JitState, status), 4), 0);
    a_.jne(fail_);
  } else {
    load_state();
    a_.mov(x86::r10, imm(reinterpret_cast<std::uint64_t>(i.helper)));
    a_.mov(state(offsetof(JitState, pending_helper)), x86::r10);
    a_.mov(state(offsetof(JitState, pc), 4), imm(i.pc));
  }
  a_.mov(x86::r9, x86::qword_ptr(x86::rsp, kStateOff));
  // A taken tail call's target starts with r1 = this call's r1 (the trampoline loads JitState::args).
  if (by_value || i.helper->id == kTailCallHelper) a_.mov(x86::qword_ptr(x86::r9, offsetof(JitState, args)), x86::rdi);
  a_.mov(x86::rax, imm(reinterpret_cast<std::uint64_t>(&jit_call_helper)));
  a_.call(x86::rax);
  load_state();
  a_.cmp(state(offsetof(JitState, status), 4), 0);
  a_.jne(fail_);
  if (al_.reg[id] >= 0 || al_.slot[id] >= 0) emit_move(loc(id), {Loc::Kind::Reg, kRax});
}

void OptEmitter::publish_frames(std::int64_t depth) {
  // The live frames, depths 0..depth, become the run's stack: JitState's mirror and ctx->stack.
  const auto bytes = (depth + 1) * kStackBytes;
  a_.lea(x86::r10, frame_mem(depth, -kStackBytes, 0));
  a_.mov(x86::qword_ptr(x86::gpq(kState), offsetof(JitState, stack_lo)), x86::r10);
  a_.mov(x86::qword_ptr(x86::gpq(kState), offsetof(JitState, stack_size)), imm(bytes));
  a_.mov(x86::r11, x86::qword_ptr(x86::gpq(kState), offsetof(JitState, ctx_stack)));
  a_.mov(x86::qword_ptr(x86::r11, offsetof(vm::Region, begin)), x86::r10);
  a_.mov(x86::qword_ptr(x86::r11, offsetof(vm::Region, size_bytes)), imm(bytes));
}

// After a call that may have been bpf_tail_call. jit_take_tail_call picks the target (its baseline
// code becomes the running one) and gives its pc 0, which its trampoline runs as if the run had
// started there: r1 from JitState::args, the eBPF frame at JitState::frame_top (a verified target
// reads no stack it has not written), JitState::depth = the call's inlined depth, so its calls nest
// and its tail calls count as in the interpreter; it stores its r0 (TailResult) and returns its
// status. Afterwards this function's state is put back: entry (HeldRun keeps it between runs), code
// (as after a local call in the baseline), depth, saved_rsp (the trampoline's), and in checked
// builds the published frames (the target's stack was its own frame: jit_take_tail_call clears from
// there when the target zeroes its stack). Nothing is live in a caller-saved register here.
void OptEmitter::emit_tail_call(ValueId id) {
  const Inst& i = val(id);
  const auto t = target(id);
  const auto depth = static_cast<std::uint32_t>(i.imm);
  const Label taken = a_.newLabel(), done = a_.newLabel();
  load_state();
  if (checked_) {
    a_.mov(x86::r10, state(offsetof(JitState, frame_top)));
    a_.sub(x86::r10, imm(kStackBytes));
    a_.mov(state(offsetof(JitState, stack_lo)), x86::r10);
    a_.mov(state(offsetof(JitState, stack_size)), imm(kStackBytes));
    a_.mov(x86::rax, state(offsetof(JitState, ctx_stack)));
    a_.mov(x86::qword_ptr(x86::rax, offsetof(vm::Region, begin)), x86::r10);
    a_.mov(x86::qword_ptr(x86::rax, offsetof(vm::Region, size_bytes)), imm(kStackBytes));
  }
  if (depth != 0) a_.mov(state(offsetof(JitState, depth), 4), imm(depth));
  a_.mov(x86::rdi, x86::r11);
  a_.mov(x86::rax, imm(reinterpret_cast<std::uint64_t>(&jit_take_tail_call)));
  a_.call(x86::rax);
  a_.test(x86::rax, x86::rax);
  a_.jnz(taken);
  load_state();
  if (depth != 0) a_.mov(state(offsetof(JitState, depth), 4), imm(0));
  a_.cmp(state(offsetof(JitState, status), 4), 0);
  a_.jne(fail_);
  if (checked_) publish_frames(depth);
  a_.xor_(x86::gpd(t), x86::gpd(t));
  finish(id);
  a_.jmp(done);
  a_.bind(taken);
  load_state();
  a_.mov(x86::r10, state(offsetof(JitState, entry)));
  a_.mov(x86::qword_ptr(x86::rsp, kDivOff), x86::r10);
  a_.mov(state(offsetof(JitState, entry)), x86::rax);
  a_.mov(x86::rdi, x86::r11);
  a_.mov(x86::r10, state(offsetof(JitState, code)));
  a_.call(x86::qword_ptr(x86::r10, offsetof(ProgramCode, trampoline)));
  load_state();
  a_.mov(x86::r10, x86::qword_ptr(x86::rsp, kDivOff));
  a_.mov(state(offsetof(JitState, entry)), x86::r10);
  a_.test(x86::eax, x86::eax);
  a_.jnz(fail_);
  a_.mov(state(offsetof(JitState, saved_rsp)), x86::rsp);
  a_.mov(x86::r10, imm(reinterpret_cast<std::uint64_t>(program_code_)));
  a_.mov(state(offsetof(JitState, code)), x86::r10);
  if (depth != 0) a_.mov(state(offsetof(JitState, depth), 4), imm(0));
  a_.mov(x86::gpd(t), imm(1));
  finish(id);
  a_.bind(done);
}

}  // namespace

Result<NativeCode> compile_optimized(std::span<opt::Function> functions, const CompileRequest& req) {
  if (req.blind_constants)
    return make_error(Errc::Unsupported, "optimizing JIT: constant blinding is not supported (the baseline tier blinds)");
  std::vector<opt::Allocation> allocations;
  std::vector<std::vector<bool>> line_heads, short_jumps(functions.size());
  std::vector<EmitterPlan> plans(functions.size());
  std::vector<std::uint32_t> callback_pcs;
  for (auto& fn : functions) {
    if (fn.root_pc != 0) callback_pcs.push_back(fn.root_pc);
    allocations.push_back(opt::allocate_registers(fn, register_file(req.variant != Variant::Fast)));
    line_heads.emplace_back(fn.blocks.size(), false);
  }
  // Loop heads start on 32-byte boundaries; a loop of at most 64 bytes that crossed a 64-byte line
  // there is emitted again from a 64-byte boundary (a second pass over the whole code, only then):
  // csum16's 50-byte loop ran 1.04x the baseline across two lines, 0.90-0.91x in one; aligning every
  // loop head to 64 made longer loops slower (bswap 0.94 -> 0.99x).
  // Every jump to a block is emitted near (rel32) in the first pass; the second pass emits short
  // (rel8) those the first pass's offsets prove short (OptEmitter::short_jump_plan), as the baseline
  // sizes its jumps: switch_dispatch's 64-way compare tree of rel32 jumps ran 1.3-3.6x the
  // baseline's, depending on where its branches fell.
  bool sized_failed = false;
  for (int pass = 0;; ++pass) {
    NativeAssembly assembly(req, Environment::host(), "x86-64 optimizing");
    x86::Assembler a(assembly.holder());
    std::vector<FunctionEntry> labels;
    for (const auto& fn : functions) labels.push_back({fn.root_pc, a.newLabel()});
    bool again = false;
    for (std::size_t k = 0; k < functions.size(); ++k) {
      OptEmitter emitter(functions[k], req, a, allocations[k], labels, line_heads[k], short_jumps[k], plans[k]);
      // With callbacks, offset 0 dispatches; without, the program's function starts there.
      auto emitted = emitter.emit(functions.size() > 1 && k == 0);
      if (!emitted) return std::move(emitted).error();
      if (pass == 0) {
        again |= emitter.mark_loops_crossing_lines(line_heads[k]);
        short_jumps[k] = emitter.short_jump_plan();
        again |= std::find(short_jumps[k].begin(), short_jumps[k].end(), true) != short_jumps[k].end();
      }
    }
    if (again) continue;
    auto code = assembly.finish(callback_pcs,
                                [&](const CodeHolder& code) { return function_pc_offsets(code, labels, req.program->size()); });
    if (code || sized_failed || pass == 0) return code;
    // A rel8 that did not reach (asmjit reports InvalidDisplacement) means short_jump_plan missed a
    // growth: emit once more with every jump to a block near, as the first pass did.
    for (auto& plan : short_jumps) plan.assign(plan.size(), false);
    sized_failed = true;
  }
}

}  // namespace bpfvm::jit::x86_64
