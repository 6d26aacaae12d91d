// EmitDriver: the target-independent part of a baseline backend — one pass that finds branch
// targets, budget segments and the stubs a program needs, the walk over the program that places
// labels, listing comments and budget charges and dispatches each instruction by isa::Form, and
// the cold failure paths. A backend derives from it (CRTP, so every hook is a direct call) and
// supplies only instruction selection and its register mapping. Arch-neutral: `Label` is the
// backend's assembler label type; no asmjit here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bpfvm/result.hpp"
#include "jit/inline_array_lookup.hpp"
#include "jit/native_code.hpp"
#include "vm/disassembler.hpp"
#include "vm/isa.hpp"
#include "vm/program.hpp"

namespace bpfvm::jit {

/// Budget segments: per pc, > 0 at a segment start and the number of instructions it charges.
/// A segment is a straight run charged at its start whose only side-effecting or faulting
/// instruction is its last, so a run stopped inside a segment is indistinguishable from one
/// stopped at the exact instruction: budget errors name the interpreter's pc.
std::vector<std::uint32_t> budget_segments(const vm::Program& program);

/// The pc an lddw_func at pc names.
inline std::size_t func_target(const vm::Insn& insn, std::size_t pc) {
  return static_cast<std::size_t>(static_cast<std::int64_t>(pc) + 1 + insn.imm);
}

/// Hooks the Backend provides (all called on the derived object, never virtually):
///   static constexpr const char* kArchName  — prefixes error messages ("x86-64", "arm64")
///   Label new_label(); void bind(const Label&); void comment(const std::string&);
///   void mark_target(std::size_t pc)            — pc is a jump, call or lddw_func target
///   void begin_insn(std::uint32_t pc)           — before pc's code: its label and native offset
///   void skip_slot(std::uint32_t pc)            — pc is an lddw's second slot
///   void charge_budget(std::uint32_t pc, std::uint32_t len)  — branches to cold(Budget, pc, len)
///   void emit_trampoline(); void emit_stubs();
///   Result<void> emit_<form>(...) per isa::Form (see emit()), void emit_exit()
///   void emit_array_lookup(const vm::DirectArray&)        — an inlined bpf_map_lookup_elem
///   void emit_direct_lookup(vm::DirectLookupFn)  — bpf_map_lookup_elem as a call of the map's entry
///                                                  through the direct-lookup stub (r1..r5 kept)
///   void emit_helper_call(const vm::HelperEntry&, std::uint32_t pc)  — through the helper stub
///   void emit_tail_call_check()                  — after a helper that may be bpf_tail_call
///   void emit_call_local(std::uint32_t pc, std::size_t target_pc)  — a BPF-to-BPF call
///   void emit_cold_entry(const ColdPath&, const Label& common)  — arguments, jump to common
///   void emit_cold_exit(ColdPath::Kind)          — unwind, report through the runtime, return 1
template <class Backend, class Label>
class EmitDriver {
 public:
  /// Emits the trampoline, every instruction, the cold paths and the stubs.
  Result<void> emit_program() {
    scan_program();
    self().emit_trampoline();
    for (std::size_t pc = 0; pc < program_.size(); ++pc) {
      const auto at = static_cast<std::uint32_t>(pc);
      if (program_.ops[pc] == isa::kNoOp) {
        self().skip_slot(at);  // second lddw slot: never a target
        continue;
      }
      auto r = emit(at);
      if (!r) return r;
    }
    emit_cold_paths();
    self().emit_stubs();
    return {};
  }

  const std::vector<std::uint32_t>& func_target_pcs() const { return func_targets_; }

  struct ColdPath {
    enum class Kind : std::uint8_t { Budget, CallDepth } kind;
    Label label;
    std::uint32_t pc;
    std::uint32_t length;
  };

 protected:
  explicit EmitDriver(const CompileRequest& req) : req_(req), program_(*req.program), array_lookups_(req) {}

  bool checked() const { return req_.variant == Variant::Checked; }
  bool counting() const { return req_.variant != Variant::Fast; }

  /// A label the code branches to when pc fails; emit_cold_paths() emits what it runs.
  Label cold(typename ColdPath::Kind kind, std::uint32_t pc, std::uint32_t length = 0) {
    cold_.push_back(ColdPath{kind, self().new_label(), pc, length});
    return cold_.back().label;
  }

  const CompileRequest& req_;
  const vm::Program& program_;
  std::vector<std::uint32_t> segment_len_;   // counting: > 0 at a segment start, its length
  std::vector<std::uint32_t> func_targets_;  // pcs lddw_func names
  bool may_tail_call_ = false;    // a call to helper 12, or a callx that may name it
  bool has_packet_load_ = false;  // LD_ABS/LD_IND: the packet-load stub is needed
  bool has_helper_call_ = false;  // a call or callx: the helper stub is needed
  bool has_callx_ = false;        // the callx stub is needed
  bool has_direct_lookup_ = false;  // set while emitting: the direct-lookup stub is needed

 private:
  std::string arch_error(const char* what) const { return std::string(Backend::kArchName) + " JIT: " + what; }
  Backend& self() { return static_cast<Backend&>(*this); }

  void scan_program() {
    if (counting()) segment_len_ = budget_segments(program_);
    for (std::size_t pc = 0; pc < program_.size(); ++pc) {
      if (program_.ops[pc] == isa::kNoOp) continue;
      const auto& insn = program_.insns[pc];
      const auto& op = program_.op(pc);
      switch (op.form) {
        case isa::Form::PacketLoad: has_packet_load_ = true; break;
        case isa::Form::CallReg: has_helper_call_ = has_callx_ = may_tail_call_ = true; break;
        case isa::Form::Call: case isa::Form::CallKfunc:
          has_helper_call_ = true;
          if (calls_tail_call(req_, static_cast<std::uint32_t>(pc))) may_tail_call_ = true;
          break;
        case isa::Form::WideImm:
          if (static_cast<isa::LddwSrc>(insn.src) == isa::LddwSrc::Func) {
            func_targets_.push_back(static_cast<std::uint32_t>(func_target(insn, pc)));
            self().mark_target(func_targets_.back());
          }
          break;
        case isa::Form::Jump: case isa::Form::Ja: case isa::Form::Ja32: case isa::Form::CallLocal:
          self().mark_target(static_cast<std::size_t>(vm::branch_target(insn, op, pc)));
          break;
        case isa::Form::Alu: case isa::Form::AluUnary: case isa::Form::Load: case isa::Form::LoadSx:
        case isa::Form::Store: case isa::Form::StoreReg: case isa::Form::Atomic: case isa::Form::Exit:
          break;
      }
    }
  }

  /// One instruction at pc: its label, listing line, budget charge and body.
  Result<void> emit(std::uint32_t pc) {
    Backend& b = self();
    b.begin_insn(pc);
    const auto& insn = program_.insns[pc];
    const auto& op = program_.op(pc);
    if (req_.listing) b.comment("pc " + std::to_string(pc) + ": " + vm::disassemble_insn(program_, pc));
    if (counting() && segment_len_[pc] > 0) b.charge_budget(pc, segment_len_[pc]);
    switch (op.form) {
      case isa::Form::Alu: return b.emit_alu(insn, op);
      case isa::Form::AluUnary: return b.emit_alu_unary(insn, op);
      case isa::Form::Load: case isa::Form::LoadSx: return b.emit_load(insn, op, pc);
      case isa::Form::Store: case isa::Form::StoreReg: return b.emit_store(insn, op, pc);
      case isa::Form::Atomic: return b.emit_atomic(insn, op, pc);
      case isa::Form::WideImm: return b.emit_wide_imm(insn, pc);
      case isa::Form::Jump: case isa::Form::Ja: case isa::Form::Ja32: return b.emit_jump(insn, op, pc);
      case isa::Form::Call: case isa::Form::CallKfunc: return emit_call(insn, pc);  // a kfunc entry is a helper's
      case isa::Form::CallLocal:
        b.emit_call_local(pc, static_cast<std::size_t>(vm::branch_target(insn, op, pc)));
        return {};
      case isa::Form::CallReg: return b.emit_call_reg(insn, pc);
      case isa::Form::Exit: b.emit_exit(); return {};  // the matching call is the trampoline's or a local call's
      case isa::Form::PacketLoad: return b.emit_packet_load(insn, op, pc);
    }
    return make_error(Errc::Internal, arch_error("unhandled form"), pc);
  }

  /// A helper call: inline when it is an array lookup the inliner resolves, else through the
  /// backend's helper stub, then the tail-call check when the helper is bpf_tail_call.
  Result<void> emit_call(const vm::Insn& insn, std::uint32_t pc) {
    const vm::HelperEntry* helper = req_.helpers.empty() ? nullptr : req_.helpers[pc];
    if (helper == nullptr)
      return make_error(Errc::Internal,
                        arch_error("helper ") + std::to_string(static_cast<std::uint32_t>(insn.imm)) + " was not resolved", pc);
    Backend& b = self();
    if (const auto array = array_lookups_.at(pc)) {
      b.emit_array_lookup(*array);
      return {};
    }
    if (const vm::DirectLookupFn direct = array_lookups_.direct_lookup(pc)) {
      has_direct_lookup_ = true;
      b.emit_direct_lookup(direct);
      return {};
    }
    b.emit_helper_call(*helper, pc);
    if (calls_tail_call(req_, pc)) b.emit_tail_call_check();
    return {};
  }

  /// Each failure point loads its own arguments and jumps to one shared tail per kind, which
  /// unwinds to the trampoline and reports through the runtime; tails no path needs stay empty.
  void emit_cold_paths() {
    if (cold_.empty()) return;
    Backend& b = self();
    if (req_.listing) b.comment("cold paths");
    const Label budget_common = b.new_label();
    const Label depth_common = b.new_label();
    bool need_budget = false, need_depth = false;
    for (const auto& c : cold_) {
      b.bind(c.label);
      const bool budget = c.kind == ColdPath::Kind::Budget;
      b.emit_cold_entry(c, budget ? budget_common : depth_common);
      (budget ? need_budget : need_depth) = true;
    }
    b.bind(budget_common);
    if (need_budget) b.emit_cold_exit(ColdPath::Kind::Budget);
    b.bind(depth_common);
    if (need_depth) b.emit_cold_exit(ColdPath::Kind::CallDepth);
  }

  ArrayLookupInliner array_lookups_;
  std::vector<ColdPath> cold_;
};

}  // namespace bpfvm::jit
