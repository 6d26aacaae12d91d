// X86Emitter: turns one prepared program into x86-64 code for one Variant. The walk over the
// program, budget segments and cold-path bookkeeping are EmitDriver's (jit/emit_driver.hpp);
// emitter.cpp holds the trampoline, the budget charge, the cold-path and stub code, and
// emit_<form>.cpp the instruction groups.
#pragma once

#include <asmjit/x86.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bpfvm/result.hpp"
#include "jit/emit_driver.hpp"
#include "jit/native_code.hpp"
#include "jit/x86_64/reg_map.hpp"

namespace bpfvm::jit::x86_64 {

/// Compiles req.program for req.variant. Errors: Unsupported for what the JIT does not do yet,
/// Internal when asmjit refuses an instruction.
Result<NativeCode> compile(const CompileRequest& req);

class X86Emitter : public EmitDriver<X86Emitter, asmjit::Label> {
 public:
  static constexpr const char* kArchName = "x86-64";  // prefixes error messages

  X86Emitter(const CompileRequest& req, asmjit::x86::Assembler& a);

  /// Native offset where each pc's code starts (second lddw slot: where the next pc starts).
  const std::vector<std::uint32_t>& pc_offsets() const { return pc_offsets_; }

 private:
  friend class EmitDriver<X86Emitter, asmjit::Label>;
  using Gp = asmjit::x86::Gp;
  using Mem = asmjit::x86::Mem;

  // emit_alu.cpp
  Result<void> emit_alu(const vm::Insn& insn, const isa::OpInfo& op);
  Result<void> emit_alu_unary(const vm::Insn& insn, const isa::OpInfo& op);
  void emit_divmod(const vm::Insn& insn, const isa::OpInfo& op);
  void emit_shift(const vm::Insn& insn, const isa::OpInfo& op);
  // emit_memory.cpp
  Result<void> emit_load(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc);
  Result<void> emit_store(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc);
  Result<void> emit_wide_imm(const vm::Insn& insn, std::uint32_t pc);
  // emit_atomic.cpp
  Result<void> emit_atomic(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc);
  // emit_jump.cpp
  Result<void> emit_jump(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc);
  // emit_call.cpp
  void emit_helper_call(const vm::HelperEntry& helper, std::uint32_t pc);
  void emit_array_lookup(const vm::DirectArray& array);
  void emit_direct_lookup(vm::DirectLookupFn fn);
  void emit_call_local(std::uint32_t pc, std::size_t target_pc);
  Result<void> emit_call_reg(const vm::Insn& insn, std::uint32_t pc);
  void emit_local_call_sequence(std::uint32_t pc, const asmjit::Label* target, const Gp* target_reg);
  void emit_helper_sequence();
  /// After a helper call that may be bpf_tail_call: jump to the target's code if it chose one.
  void emit_tail_call_check();
  void sync_stack_region();
  // emit_packet_load.cpp
  Result<void> emit_packet_load(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc);

  // Shared pieces (emitter.cpp).
  static Gp q(unsigned bpf_reg) { return asmjit::x86::gpq(host_id_of_bpf(bpf_reg)); }
  static Gp d(unsigned bpf_reg) { return asmjit::x86::gpd(host_id_of_bpf(bpf_reg)); }
  static Gp sized(unsigned bpf_reg, unsigned bits);
  /// Host register `r` at 64 or 32 bits.
  static Gp w(const asmjit::x86::Gp& r, bool w64) {
    return w64 ? Gp(asmjit::x86::gpq(r.id())) : Gp(asmjit::x86::gpd(r.id()));
  }
  static Mem state(std::size_t offset, unsigned size_bytes = 8);
  /// reg = value; blinded as (value ^ k) ^ k with a fresh random k when blinding is on.
  void load_imm(const Gp& reg, std::int64_t value);
  /// Memory operand for an access of size_bytes at bpf_reg + off; in checked mode emits the guard
  /// (fast stack test, then the C++ slow path) and returns [r10].
  Mem guarded(unsigned bpf_reg, std::int16_t off, unsigned size_bytes, bool write, std::uint32_t pc,
              bool force_address_reg = false);
  /// Whether the jump ending pc's code may use rel8 to reach target's label (forward only; asmjit
  /// already picks rel8 for a backward jump to a bound label when it reaches).
  bool short_reaches(std::uint32_t pc, std::size_t target) const;

  // EmitDriver hooks (emitter.cpp).
  asmjit::Label new_label() { return a_.newLabel(); }
  void bind(const asmjit::Label& label) { a_.bind(label); }
  void comment(const std::string& text) { a_.comment(text.c_str(), text.size()); }
  /// Gives pc a label: it is a jump, call or lddw_func target. Other pcs get none: creating and
  /// binding a label per pc took ~12% of the compile time of a 1,000-instruction program.
  void mark_target(std::size_t pc) {
    if (!labels_[pc].isValid()) labels_[pc] = a_.newLabel();
  }
  void begin_insn(std::uint32_t pc);
  void skip_slot(std::uint32_t pc) { pc_offsets_[pc] = static_cast<std::uint32_t>(a_.offset()); }
  void charge_budget(std::uint32_t pc, std::uint32_t len);
  void emit_trampoline();
  void emit_exit() { a_.ret(); }
  void emit_cold_entry(const ColdPath& c, const asmjit::Label& common);
  void emit_cold_exit(ColdPath::Kind kind);
  void emit_stubs();

  asmjit::x86::Assembler& a_;

  std::vector<asmjit::Label> labels_;         // per pc: valid only at a branch/call/func target
  std::vector<std::uint32_t> pc_offsets_;     // per pc: native offset, filled as code is emitted
  std::vector<bool> loop_heads_;              // per pc: target of a backward jump (aligned to kLoopAlignBytes)
  std::vector<std::uint32_t> offset_bounds_;  // Sized jumps: native_offset_bounds() of the program
  asmjit::Label fail_exit_;    // unwinds to the trampoline and returns 1
  asmjit::Label epilogue_;
  asmjit::Label check_stub_;   // r10 = address, r11 = access_info
  asmjit::Label callx_stub_;   // r10 = value, r11 = pc; returns r10 = native target or 0
  asmjit::Label helper_stub_;  // calls jit_call_helper preserving r1..r5
  asmjit::Label direct_lookup_stub_;  // r10 = the entry: calls it on (r1, r2) preserving r1..r5
  asmjit::Label tail_stub_;    // calls jit_take_tail_call preserving r0..r5; returns r10 = target or 0
  asmjit::Label packet_load_stub_;  // r10 = offset, r11 = size; calls jit_packet_load preserving r1..r5
  std::optional<std::mt19937_64> rng_;  // blinding keys; seeded (2.5 KB of state) only when blinding
  bool bmi2_ = false;  // shlx/shrx/sarx for register shifts: the host has BMI2 and the request allows it
};

/// True when this CPU has BMI2 (what register shifts use unless CompileRequest::baseline_isa_only).
bool host_has_bmi2();
/// True when this CPU has MOVBE (the optimizing tier's load + byte swap).
bool host_has_movbe();
/// True when this CPU has BMI1 (the optimizing tier's bextr).
bool host_has_bmi1();

}  // namespace bpfvm::jit::x86_64
