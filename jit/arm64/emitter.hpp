// A64Emitter: turns one prepared program into AArch64 code for one Variant. The walk over the
// program, budget segments and cold-path bookkeeping are EmitDriver's (jit/emit_driver.hpp);
// emitter.cpp holds the trampoline, the budget charge, the cold-path and stub code;
// encoding_classes.cpp the low-level helpers,
// named after the encoding classes of the Arm Architecture Reference Manual (C4.1); emit_<form>.cpp
// the instruction groups.
#pragma once

#include <asmjit/arm.h>  // Debian's 2022 asmjit: no <asmjit/a64.h>, the A64 headers are included one by one
#include <asmjit/arm/a64assembler.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bpfvm/result.hpp"
#include "jit/emit_driver.hpp"
#include "jit/native_code.hpp"
#include "jit/arm64/reg_map.hpp"

namespace bpfvm::jit::arm64 {

/// Compiles req.program for req.variant. Errors: Unsupported for what the JIT does not do yet,
/// Internal when asmjit refuses an instruction (e.g. a branch beyond ±1 MiB).
Result<NativeCode> compile(const CompileRequest& req);

class A64Emitter : public EmitDriver<A64Emitter, asmjit::Label> {
 public:
  static constexpr const char* kArchName = "arm64";  // prefixes error messages

  A64Emitter(const CompileRequest& req, asmjit::a64::Assembler& a);

  const std::vector<asmjit::Label>& pc_labels() const { return labels_; }

 private:
  friend class EmitDriver<A64Emitter, asmjit::Label>;
  using Gp = asmjit::a64::Gp;
  using Mem = asmjit::a64::Mem;
  using InstId = asmjit::InstId;

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
  /// After a helper call that may be bpf_tail_call: branch to the target's code if it chose one.
  void emit_tail_call_check();
  /// Adds delta frames to the stack mirror and copies it to ctx->stack.
  void adjust_stack_region(std::int64_t delta_bytes);
  // emit_packet_load.cpp
  Result<void> emit_packet_load(const vm::Insn& insn, const isa::OpInfo& op, std::uint32_t pc);

  // Registers (emitter.cpp).
  static Gp x(unsigned bpf_reg) { return asmjit::a64::GpX(host_id_of_bpf(bpf_reg)); }
  static Gp w(unsigned bpf_reg) { return asmjit::a64::GpW(host_id_of_bpf(bpf_reg)); }
  /// BPF register at the operation's width (32: the W view, whose writes zero bits 63:32).
  static Gp sized(unsigned bpf_reg, bool w64) { return w64 ? x(bpf_reg) : w(bpf_reg); }
  static Gp host(HostReg r, bool w64 = true) {
    return w64 ? Gp(asmjit::a64::GpX(host_id(r))) : Gp(asmjit::a64::GpW(host_id(r)));
  }
  static Mem state(std::size_t offset);

  // Encoding classes (encoding_classes.cpp). Each picks the shortest form that encodes the
  // operands and falls back to a scratch register, so callers never see an unencodable immediate.
  /// Move wide (immediate): MOVZ or MOVN, then MOVK per remaining halfword. 32-bit for W registers.
  void move_wide_imm(const Gp& reg, std::uint64_t value);
  /// reg = value; blinded as (value ^ k) EOR k with a fresh random k when blinding is on.
  void load_imm(const Gp& reg, std::int64_t value);
  /// Add/subtract (immediate): dst = src + value (ADD/SUB #imm12{, LSL #12}), else via `scratch`.
  void add_sub_imm(const Gp& dst, const Gp& src, std::int64_t value, HostReg scratch = kScratchValue);
  /// Add/subtract (immediate), flag-setting: CMP/CMN reg, #imm12, else CMP reg, scratch.
  void compare_imm(const Gp& reg, std::int64_t value);
  /// Logical (immediate): AND/ORR/EOR/ANDS with a bitmask immediate, else Logical (shifted
  /// register) through kScratchValue. `value` is truncated to the register width.
  void logical_imm(InstId id, const Gp& dst, const Gp& src, std::uint64_t value);
  /// Load/store register: (unsigned immediate) when off is a scaled 12-bit offset, (unscaled
  /// immediate) when it fits 9 signed bits, else (register offset) through kScratchOffset.
  struct LoadStoreIds {
    InstId scaled;    // LDR/STR (unsigned immediate)
    InstId unscaled;  // LDUR/STUR (unscaled immediate)
  };
  void load_store(LoadStoreIds ids, const Gp& rt, const Gp& base, std::int64_t off, unsigned size_bytes);
  /// Load/store exclusive: STLXR status, rt, [base] (status = 0 when the store happened).
  void store_exclusive_release(const Gp& status, const Gp& rt, const Gp& base);
  /// Calls a stub with BL, keeping x30 (the BPF function's return address) on the host stack.
  void call_stub(const asmjit::Label& stub);
  /// Calls a C++ function by absolute address (x16 = IP0, as AAPCS64 intends).
  void call_absolute(std::uint64_t fn);

  /// Address of bpf_reg + off in kScratchAddr; in checked mode emits the guard (fast stack test,
  /// then the C++ slow path). Returns false when no address register was needed (unchecked and
  /// not forced): the caller then addresses bpf_reg + off itself.
  bool guarded(unsigned bpf_reg, std::int16_t off, unsigned size_bytes, bool write, std::uint32_t pc,
               bool force_address_reg = false);

  // EmitDriver hooks (emitter.cpp).
  asmjit::Label new_label() { return a_.newLabel(); }
  void bind(const asmjit::Label& label) { a_.bind(label); }
  void comment(const std::string& text) { a_.comment(text.c_str(), text.size()); }
  void mark_target(std::size_t) {}  // every pc has a label (pc_offsets come from them)
  void begin_insn(std::uint32_t pc) { a_.bind(labels_[pc]); }
  void skip_slot(std::uint32_t pc) { a_.bind(labels_[pc]); }  // bound for offsets only
  void charge_budget(std::uint32_t pc, std::uint32_t len);
  void emit_trampoline();
  void emit_exit() { a_.ret(asmjit::a64::x30); }
  void emit_cold_entry(const ColdPath& c, const asmjit::Label& common);
  void emit_cold_exit(ColdPath::Kind kind);
  void emit_stubs();

  asmjit::a64::Assembler& a_;
  std::vector<asmjit::Label> labels_;         // one per BPF pc, created up front
  asmjit::Label fail_exit_;    // unwinds to the trampoline and returns 1
  asmjit::Label epilogue_;
  asmjit::Label check_stub_;   // x9 = address, x10 = access_info
  asmjit::Label callx_stub_;   // x9 = value, x10 = pc; returns x9 = native target or 0
  asmjit::Label helper_stub_;  // calls jit_call_helper preserving r1..r5
  asmjit::Label direct_lookup_stub_;  // x9 = the entry: calls it on (r1, r2) preserving r1..r5
  asmjit::Label tail_stub_;    // calls jit_take_tail_call preserving r0..r5; returns x9 = target or 0
  asmjit::Label packet_load_stub_;  // x9 = offset, x10 = size; calls jit_packet_load preserving r1..r5
  std::mt19937_64 rng_;
};

}  // namespace bpfvm::jit::arm64
