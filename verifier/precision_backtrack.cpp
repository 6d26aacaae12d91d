// Per-path precision marks (the kernel's mark_chain_precision and backtrack_insn).
//
// A stored state's marks name the scalars whose exact abstract value some path explored from it
// relied on. Pruning may then match any scalar in an unmarked register (together with the static
// pass of precision.cpp: a register is compared exactly only when both call it precise). Why that
// is sound: follow a concrete run from the pruned state along the paths explored from the stored
// one. It takes an explored edge at every jump: an edge was skipped only when the jump was decided,
// and a decided jump's operands are marked, so the run's operands lie in the explored ranges.
// Every check it meets holds: the scalars a check reads are marked (`always` below). A narrowing it
// meets at an undecided jump holds for the run too when the narrowed registers are equal to the
// operands concretely: narrowed registers are marked together (`linked`), and marked linked
// registers are compared with their ids, so the pruned state links them as well.
// Stack slots holding a spilled scalar are marked like registers (the kernel's per-frame stack
// mask): only a fill inside one slot at a constant offset (whole, or narrow: the spill's low bytes or
// a spilled zero) gives a register a slot's value, and only a spill at a constant offset (whole, or a
// narrow scalar one at the slot's start) gives a slot a register's value, so backtracking moves a
// mark from a filled register to its slot and from a spilled slot to the stored register. Every
// other stack write leaves plain bytes (compared exactly), every other read yields an unknown
// scalar. A slot accessed through a pointer to another frame's stack is marked in that frame.
#include "verifier/precision_backtrack.hpp"

namespace bpfvm::verifier {

using isa::Form;
using isa::Kind;
using isa::Operand;
using vm::ArgType;
using reg_mask::bit;
using reg_mask::kArgs;
using reg_mask::kCallerSaved;

namespace {

RegMask scalars_in(const State& s, RegMask regs) {
  RegMask out = 0;
  for (int r = 0; r < isa::kNumRegs; ++r)
    if ((regs & bit(r)) && s.reg(r).is_scalar()) out |= bit(r);
  return out;
}

// A comparison of scalars narrows its operands and, through propagate_linked, every scalar in
// any frame or stack slot sharing an operand's id.
void add_linked(const State& s, int r, PrecisionNeeds& n) {
  const auto here = s.frames.size() - 1;
  n.linked.regs[here] |= bit(r);
  const RegValue& v = s.reg(r);
  if (v.id == 0) return;
  for (std::size_t f = 0; f < s.frames.size(); ++f) {
    const auto& frame = s.frames[f];
    for (int x = 0; x < isa::kNumRegs; ++x) {
      const RegValue& c = frame.regs[static_cast<std::size_t>(x)];
      if (c.is_scalar() && c.id == v.id) n.linked.regs[f] |= bit(x);
    }
    frame.stack.for_each_spill_slot([&](int slot, const RegValue& c) {
      if (c.is_scalar() && c.id == v.id) n.linked.slots[f] |= std::uint64_t{1} << slot;
    });
  }
}

void jump_needs(const State& s, const vm::Program& p, std::uint32_t pc, PrecisionNeeds& n) {
  const auto& op = p.op(pc);
  const auto& in = p.insns[pc];
  const int src = op.operand == Operand::Reg ? in.src : -1;
  const RegMask operands = static_cast<RegMask>(bit(in.dst) | (src >= 0 ? bit(src) : 0));
  const bool pointer_operand = s.reg(in.dst).is_pointer() || (src >= 0 && s.reg(src).is_pointer());
  if (pointer_operand) {
    // Null checks and pointer comparisons read a scalar operand's exact value (`p == 0`).
    n.always = scalars_in(s, operands);
    return;
  }
  n.if_decided = scalars_in(s, operands);
  add_linked(s, in.dst, n);
  if (src >= 0) add_linked(s, src, n);
}

// The slot a load or store through register ptr at ptr + off touches, when ptr points to a stack
// at a constant offset.
StackAccess stack_access_of(const State& s, int ptr, std::int16_t off, int size) {
  const RegValue& p = s.reg(ptr);
  if (p.type != RegType::Stack || p.value.smin() != p.value.smax()) return {};
  const std::int64_t at = p.value.smin() + off;
  if (!StackSlots::in_frame(at, size)) return {};
  const int lo = static_cast<int>(at);
  return StackAccess{static_cast<std::int8_t>(p.frame), static_cast<std::uint8_t>(StackSlots::slot_of(lo)),
                     StackSlots::slot_of(lo) == StackSlots::slot_of(lo + size - 1)};
}

constexpr std::uint32_t kBpfLoop = 181;  // its nr_loops and flags are read, its ctx reaches the callback
constexpr std::uint32_t kBpfForEachMapElem = 164;  // its ctx reaches the callback
constexpr std::uint32_t kBpfUserRingbufDrain = 209;  // its ctx reaches the callback

// Helper arguments whose exact value a check reads: sizes, constants, and scalars passed where a
// pointer is expected (only null is allowed). An ARG_ANYTHING scalar is only checked for its type,
// an ARG_DONTCARE register not at all, and an Integer return does not depend on either.
RegMask helper_value_args(const Env& env, std::uint32_t helper) {
  const vm::HelperEntry* entry = env.options.helpers ? env.options.helpers->find(helper) : nullptr;
  if (entry == nullptr) return kArgs;
  const auto& sig = helper_signature(env.options.program_type, helper, entry->signature);
  if (!sig.known || helper == kBpfLoop || helper == kBpfForEachMapElem ||
      helper == kBpfUserRingbufDrain)
    return kArgs;
  RegMask out = 0;
  for (int i = 0; i < 5; ++i) {
    const ArgType t = sig.args[static_cast<std::size_t>(i)];
    if (t != ArgType::Anything && t != ArgType::DontCare) out |= bit(i + 1);
  }
  return out;
}

}  // namespace

bool in_callback(const State& s) {
  for (const auto& f : s.frames)
    if (f.callback) return true;
  return false;
}

PrecisionNeeds precision_needs(const Env& env, const State& s, std::uint32_t pc) {
  const auto& p = env.program;
  const auto& op = p.op(pc);
  const auto& in = p.insns[pc];
  PrecisionNeeds n;
  switch (op.form) {
    case Form::Alu:
      // Pointer arithmetic: the scalar operand becomes the pointer's offset, which accesses check.
      if (op.operand == Operand::Reg && op.kind != Kind::Mov && op.kind != Kind::MovSx &&
          (s.reg(in.dst).is_pointer() || s.reg(in.src).is_pointer()))
        n.always = scalars_in(s, static_cast<RegMask>(bit(in.dst) | bit(in.src)));
      break;
    // A spilled value matters only when a fill of it does: backtracking follows it (`stack`).
    case Form::Load: case Form::LoadSx:
      n.stack = stack_access_of(s, in.src, in.off, op.width / 8);
      break;
    case Form::Store: case Form::StoreReg:
      n.stack = stack_access_of(s, in.dst, in.off, op.width / 8);
      break;
    case Form::Atomic:
      n.always = scalars_in(s, static_cast<RegMask>(bit(in.src) | (op.kind == Kind::CmpXchg ? bit(0) : 0)));
      break;
    case Form::Jump: jump_needs(s, p, pc, n); break;
    case Form::Call: n.always = scalars_in(s, helper_value_args(env, static_cast<std::uint32_t>(in.imm))); break;
    case Form::CallKfunc: n.always = scalars_in(s, kArgs); break;  // every argument, as for unknown signatures
    case Form::CallReg:
      // A scalar target names a helper: its arguments are checked like a call's.
      if (s.reg(in.dst).is_scalar()) n.always = scalars_in(s, static_cast<RegMask>(kArgs | bit(in.dst)));
      break;
    case Form::PacketLoad:
      if (op.kind == Kind::LdInd) n.always = scalars_in(s, bit(in.src));
      break;
    case Form::Exit:
      // A callback's return value is range-checked; a subprogram's flows into its caller
      // (backtracking follows it); the main program's is not checked.
      if (s.top().callback) n.always = scalars_in(s, bit(0));
      break;
    case Form::CallLocal:
      // A global function's arguments are checked against its prototype (a scalar 0 may stand for NULL).
      if (env.options.global_func(static_cast<std::uint32_t>(vm::branch_target(in, op, pc))))
        n.always = scalars_in(s, kArgs);
      break;
    case Form::AluUnary: case Form::WideImm: case Form::Ja: case Form::Ja32:
      break;
  }
  return n;
}

namespace {

// Registers precise before insn pc (in its own frame), given those precise after it.
RegMask backtrack_insn(const vm::Program& p, std::uint32_t pc, RegMask after) {
  const auto& op = p.op(pc);
  const auto& in = p.insns[pc];
  const RegMask dst = bit(in.dst);
  switch (op.form) {
    case Form::Alu: {
      if (!(after & dst)) return after;
      const RegMask src = op.operand == Operand::Reg ? bit(in.src) : RegMask{0};
      if (op.kind == Kind::Mov || op.kind == Kind::MovSx) return static_cast<RegMask>((after & ~dst) | src);
      return static_cast<RegMask>(after | src);
    }
    case Form::Load: case Form::LoadSx: case Form::WideImm:
      // Loaded values come from memory: a fill's slot is marked by backtrack_stack_access, other
      // memory is unknown.
      return static_cast<RegMask>(after & ~dst);
    // A CallLocal seen in its own frame's history is a call to a global function (a static one
    // enters a new frame): like a helper call.
    case Form::Call: case Form::CallKfunc: case Form::CallReg: case Form::PacketLoad: case Form::CallLocal:
      // Helper arguments were marked when the call ran; r0-r5 are written.
      return static_cast<RegMask>(after & ~kCallerSaved);
    // Atomics keep every mark: the fetched register stays marked, which only marks more.
    case Form::AluUnary: case Form::Store: case Form::StoreReg: case Form::Atomic: case Form::Ja:
    case Form::Ja32: case Form::Jump: case Form::Exit:
      return after;
  }
  return after;
}

// A fill marks its slot when the filled register is marked; a spill into a marked slot marks the
// stored register instead (the slot's earlier content no longer matters). Runs before
// backtrack_insn, which clears the filled register.
void backtrack_stack_access(const vm::Program& p, const HistoryEntry& e, PreciseMarks& bt) {
  if (e.stack.frame < 0 || !e.stack.one_slot) return;
  const auto& op = p.op(e.pc);
  const auto& in = p.insns[e.pc];
  const std::size_t here = e.depth - 1u;
  const auto frame = static_cast<std::size_t>(e.stack.frame);
  const std::uint64_t slot = std::uint64_t{1} << e.stack.slot;
  if (op.form == Form::Load || op.form == Form::LoadSx) {  // a sign-extending fill carries the spill too
    if (bt.regs[here] & bit(in.dst)) bt.slots[frame] |= slot;
  } else if (op.form == Form::StoreReg) {
    if (!(bt.slots[frame] & slot)) return;
    bt.slots[frame] &= ~slot;
    bt.regs[here] |= bit(in.src);
  } else if (op.form == Form::Store) {
    bt.slots[frame] &= ~slot;  // a constant
  }
}

}  // namespace

std::size_t LinkedMarksTable::Hash::operator()(const PreciseMarks& m) const {
  std::uint64_t h = 0;
  for (std::size_t f = 0; f < m.regs.size(); ++f) h = (h ^ m.regs[f] ^ (m.slots[f] * 0x9e3779b97f4a7c15u)) * 0x100000001b3u;
  return static_cast<std::size_t>(h ^ (h >> 29));
}

std::uint32_t LinkedMarksTable::intern(const PreciseMarks& m) {
  if (m == marks_[last_]) return last_;
  if (m.empty()) return 0;
  const auto [it, added] = index_.try_emplace(m, static_cast<std::uint32_t>(marks_.size()));
  if (added) marks_.push_back(m);
  last_ = it->second;
  return last_;
}

bool backtrack(const vm::Program& p, std::span<const HistoryEntry> entries, const LinkedMarksTable& linked,
               std::uint8_t depth_after, PreciseMarks& bt, std::uint64_t& walked) {
  std::uint8_t later = depth_after;
  for (std::size_t i = entries.size(); i-- > 0;) {
    // Nothing left to mark: no earlier insn can add a mark (every rule below only moves or widens
    // marks that exist), so the walk stops, as the kernel's does when its masks are empty.
    if (bt.empty()) return true;
    ++walked;
    const HistoryEntry& e = entries[i];
    if (e.in_callback || e.depth == 0) return false;
    const std::size_t here = e.depth - 1u;
    if (later == e.depth + 1) {
      // A call into a subprogram: its r1-r5 at entry are the caller's; its stack was empty.
      if (p.op(e.pc).form != Form::CallLocal && p.op(e.pc).form != Form::CallReg) return false;
      bt.regs[here] |= static_cast<RegMask>(bt.regs[here + 1] & kArgs);
      bt.regs[here + 1] = 0;
      bt.slots[here + 1] = 0;
    } else if (later + 1 == e.depth && e.depth >= 2) {
      // A return: the caller's r0 is the callee's, r1-r5 are clobbered; the callee's stack is
      // gone, the caller's slots keep their marks.
      if (p.op(e.pc).form != Form::Exit) return false;
      const bool r0 = bt.regs[here - 1] & bit(0);
      bt.regs[here - 1] &= static_cast<RegMask>(~kCallerSaved);
      bt.regs[here] = r0 ? bit(0) : RegMask{0};
      bt.slots[here] = 0;
    } else if (later == e.depth) {
      if (e.linked != 0 && p.op(e.pc).form == Form::Jump && bt.intersects(linked[e.linked])) bt.add(linked[e.linked]);
      if (e.stack.frame >= static_cast<int>(e.depth)) return false;  // a stack that is gone: cannot happen
      backtrack_stack_access(p, e, bt);
      bt.regs[here] = backtrack_insn(p, e.pc, bt.regs[here]);
    } else {
      return false;
    }
    later = e.depth;
  }
  return true;
}

}  // namespace bpfvm::verifier
