// Seeded random eBPF programs for JIT-vs-interpreter differential tests, drawn from isa::kOps rows:
// ALU of every row, jumps (forward and backward: loops end by budget), stack and buffer memory,
// atomics, helper calls, local calls (incl. recursion), callx by helper id, lddw.
//
// Values never depend on host stack addresses (r10 is only ever a memory base, never a value), so
// both engines compute the same numbers and fault at the same addresses.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "vm/isa.hpp"
#include "vm/program.hpp"

namespace bpfvm::testing {

struct RandomProgramConfig {
  std::size_t main_insns = 40;
  std::size_t sub_insns = 12;
  std::uint32_t buffer_bytes = 64;  // r1 points at a buffer of this size, r2 = its length
  std::uint32_t helper_mix = 1;     // helper ids the registry offers
  std::uint32_t helper_fault = 2;
  /// Each function starts by zeroing its 512-byte stack frame (64 stdw). The fast JIT variant does
  /// not zero the stack (the verifier forbids reading unwritten stack), so only such programs give
  /// it the same inputs as the checked engines.
  bool zero_stack_first = false;
};

class RandomProgramGenerator {
 public:
  explicit RandomProgramGenerator(std::uint64_t seed, RandomProgramConfig cfg = {}) : rng_(seed), cfg_(cfg) {}

  /// One program: main (ending in exit) followed by a subprogram (ending in exit).
  std::vector<vm::Insn> next() {
    std::vector<vm::Insn> out;
    if (cfg_.zero_stack_first) zero_stack(out);
    // Give every register r0, r2..r9 a value (r1 stays the buffer pointer at first).
    for (unsigned r : {0u, 3u, 4u, 5u, 6u, 7u, 8u, 9u}) emit_row(out, pick_row(isa::Form::Alu, "mov"), r, 0, 0, rand_imm());
    const std::size_t main_len = cfg_.main_insns;
    const std::size_t sub_start_hint = out.size() + main_len + 1;
    body(out, main_len, /*in_sub=*/false, sub_start_hint);
    out.push_back(make(find("exit", isa::Operand::None), 0, 0, 0, 0));
    sub_start_ = out.size();
    // Patch local calls of main to the real subprogram start.
    for (auto at : pending_calls_) out[at].imm = static_cast<std::int32_t>(static_cast<std::int64_t>(sub_start_) - static_cast<std::int64_t>(at) - 1);
    pending_calls_.clear();
    if (cfg_.zero_stack_first) zero_stack(out);
    body(out, cfg_.sub_insns, /*in_sub=*/true, sub_start_);
    out.push_back(make(find("exit", isa::Operand::None), 0, 0, 0, 0));
    for (auto at : pending_calls_) out[at].imm = static_cast<std::int32_t>(static_cast<std::int64_t>(sub_start_) - static_cast<std::int64_t>(at) - 1);
    pending_calls_.clear();
    repair_jumps_into_lddw(out);
    return out;
  }

  /// The bytes of one input buffer (cfg.buffer_bytes of them), from the same stream as the programs.
  std::vector<std::uint8_t> next_input() {
    std::vector<std::uint8_t> bytes(cfg_.buffer_bytes);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng_());
    return bytes;
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  // A jump that landed on the second slot of an lddw moves to the next instruction instead.
  static void repair_jumps_into_lddw(std::vector<vm::Insn>& out) {
    std::vector<bool> second(out.size() + 1, false);
    std::vector<const isa::OpInfo*> ops(out.size(), nullptr);
    for (std::size_t pc = 0; pc < out.size(); ++pc) {
      auto id = vm::decode_insn(out[pc], static_cast<std::uint32_t>(pc));
      if (!id) continue;
      ops[pc] = &isa::kOps[*id];
      if (isa::is_wide(*ops[pc]) && pc + 1 < out.size()) second[++pc] = true;
    }
    for (std::size_t pc = 0; pc < out.size(); ++pc) {
      if (second[pc] || ops[pc] == nullptr) continue;
      const auto form = ops[pc]->form;
      const bool ja32 = form == isa::Form::Ja32;
      if (form != isa::Form::Jump && form != isa::Form::Ja && !ja32) continue;
      const std::int64_t rel = ja32 ? out[pc].imm : out[pc].off;
      const std::int64_t target = static_cast<std::int64_t>(pc) + 1 + rel;
      if (target >= 0 && target < static_cast<std::int64_t>(out.size()) && second[static_cast<std::size_t>(target)]) {
        if (ja32) ++out[pc].imm; else ++out[pc].off;
      }
    }
  }

 private:
  static isa::OpId find(std::string_view m, isa::Operand o) { return isa::find_op(m, o); }

  static vm::Insn make(isa::OpId id, int dst, int src, int off, std::int32_t imm) {
    const auto& op = isa::kOps[id];
    auto fix = [](isa::FieldRule rule, std::int64_t v) -> std::int64_t {
      return rule.rule == isa::Rule::Fixed ? rule.value : rule.rule == isa::Rule::Zero ? 0 : v;
    };
    vm::Insn i;
    i.code = op.code;
    i.dst = static_cast<std::uint8_t>(fix(op.dst, dst));
    i.src = static_cast<std::uint8_t>(fix(op.src, src));
    i.off = static_cast<std::int16_t>(fix(op.off, off));
    i.imm = static_cast<std::int32_t>(fix(op.imm, imm));
    return i;
  }
  void emit_row(std::vector<vm::Insn>& out, isa::OpId id, int dst, int src, int off, std::int32_t imm) {
    out.push_back(make(id, dst, src, off, imm));
  }
  static void zero_stack(std::vector<vm::Insn>& out) {
    const isa::OpId stdw = find("stdw", isa::Operand::Imm);
    for (int off = -8; off >= -static_cast<int>(isa::kStackBytes); off -= 8)
      out.push_back(make(stdw, isa::kFramePointer, 0, off, 0));
  }

  std::uint64_t u(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(unsigned percent) { return u(100) < percent; }
  int value_reg() { return static_cast<int>(u(10)); }  // r0..r9 (r1 may hold the buffer pointer)
  int dst_reg() {
    // r1 is written rarely, so most programs keep a valid buffer pointer.
    int r = static_cast<int>(u(10));
    return r == 1 && !chance(10) ? 0 : r;
  }
  std::int32_t rand_imm() {
    switch (u(6)) {
      case 0: return static_cast<std::int32_t>(u(5)) - 2;  // -2..2 (div/mod corner cases)
      case 1: return std::numeric_limits<std::int32_t>::min();
      case 2: return static_cast<std::int32_t>(u(70));     // shift counts, incl. > width
      case 3: return -1;
      default: return static_cast<std::int32_t>(rng_());
    }
  }

  isa::OpId pick_row(isa::Form form, std::string_view mnemonic = {}) {
    std::vector<isa::OpId> rows;
    for (std::size_t i = 0; i < isa::kNumOps; ++i) {
      const auto& op = isa::kOps[i];
      if (op.form != form) continue;
      if (!mnemonic.empty() && op.mnemonic != mnemonic && op.mnemonic != std::string(mnemonic) + "32") continue;
      if (!mnemonic.empty() && op.operand == isa::Operand::Reg && mnemonic == "mov") continue;
      rows.push_back(static_cast<isa::OpId>(i));
    }
    return rows[u(rows.size())];
  }

  // Memory operand: the stack frame (always valid), the buffer (sometimes out of range), or a
  // value register (faults in checked mode, at an address both engines agree on).
  void mem_operand(unsigned size, int& base, int& off) {
    const auto k = u(10);
    if (k < 5) {
      base = isa::kFramePointer;
      off = -static_cast<int>(size) - static_cast<int>(u(isa::kStackBytes / size)) * static_cast<int>(size);
      if (off < -static_cast<int>(isa::kStackBytes)) off = -static_cast<int>(isa::kStackBytes);
    } else if (k < 9) {
      base = 1;
      off = static_cast<int>(u(cfg_.buffer_bytes + 16)) - 8;
    } else {
      base = value_reg();
      off = static_cast<int>(u(64)) - 32;
    }
  }

  void body(std::vector<vm::Insn>& out, std::size_t n, bool in_sub, std::size_t /*sub_start_hint*/) {
    const std::size_t begin = out.size();
    const std::size_t end = begin + n;  // index of the exit that closes this function
    while (out.size() < end) {
      const auto remaining = end - out.size();
      const auto k = u(100);
      if (k < 40) {  // binary ALU
        const auto id = pick_row(isa::Form::Alu);
        const auto& op = isa::kOps[id];
        emit_row(out, id, dst_reg(), value_reg(), 0, rand_imm());
        (void)op;
      } else if (k < 47) {
        emit_row(out, pick_row(isa::Form::AluUnary), dst_reg(), 0, 0, 0);
      } else if (k < 55) {  // loads
        const auto id = pick_row(chance(70) ? isa::Form::Load : isa::Form::LoadSx);
        int base, off;
        mem_operand(isa::kOps[id].width / 8, base, off);
        emit_row(out, id, dst_reg(), base, off, 0);
      } else if (k < 63) {  // stores
        const auto id = pick_row(chance(50) ? isa::Form::Store : isa::Form::StoreReg);
        int base, off;
        mem_operand(isa::kOps[id].width / 8, base, off);
        emit_row(out, id, base, value_reg(), off, rand_imm());
      } else if (k < 68 && remaining >= 2) {  // atomics (two slots: the base may be aligned first)
        const auto id = pick_row(isa::Form::Atomic);
        int base, off;
        const unsigned size = isa::kOps[id].width / 8;
        mem_operand(size, base, off);
        // Atomics must be naturally aligned: the kernel verifier insists, and AArch64's exclusive
        // and LSE accesses fault (SIGBUS) otherwise, in the interpreter's builtins as in the JIT.
        // So the offset is rounded down and a base other than r10 is aligned first.
        off &= ~static_cast<int>(size - 1);
        if (base != isa::kFramePointer)
          emit_row(out, find("and", isa::Operand::Imm), base, 0, 0, -static_cast<std::int32_t>(size));
        emit_row(out, id, base, value_reg(), off, 0);
      } else if (k < 82) {  // conditional jumps, forward within the function or back (loops)
        const auto id = pick_row(isa::Form::Jump);
        const auto here = static_cast<std::int64_t>(out.size());
        std::int64_t target = chance(75) ? here + 1 + static_cast<std::int64_t>(u(remaining))
                                         : static_cast<std::int64_t>(begin + u(out.size() - begin + 1));
        emit_row(out, id, value_reg(), value_reg(), static_cast<int>(target - here - 1), rand_imm());
      } else if (k < 84) {  // unconditional jump forward (ja or ja32)
        const auto here = static_cast<std::int64_t>(out.size());
        const std::int64_t rel = static_cast<std::int64_t>(u(remaining));
        if (chance(50)) emit_row(out, find("ja", isa::Operand::None), 0, 0, static_cast<int>(rel), 0);
        else emit_row(out, find("ja32", isa::Operand::None), 0, 0, 0, static_cast<std::int32_t>(rel));
        (void)here;
      } else if (k < 88 && remaining >= 2) {  // lddw
        emit_row(out, find("lddw", isa::Operand::Imm), dst_reg(), 0, 0, static_cast<std::int32_t>(rng_()));
        out.push_back(vm::Insn{0, 0, 0, 0, static_cast<std::int32_t>(rng_())});
      } else if (k < 92) {  // helper call by id
        const std::uint32_t id = chance(70) ? cfg_.helper_mix : cfg_.helper_fault;
        emit_row(out, find("call", isa::Operand::Imm), 0, 0, 0, static_cast<std::int32_t>(id));
      } else if (k < 95 && remaining >= 2) {  // callx by helper id (sometimes an unknown id)
        const int r = static_cast<int>(2 + u(8));
        emit_row(out, pick_row(isa::Form::Alu, "mov"), r, 0, 0, chance(90) ? static_cast<std::int32_t>(cfg_.helper_mix) : 77);
        emit_row(out, find("callx", isa::Operand::Reg), r, 0, 0, 0);
      } else if (k < 98) {  // local call into the subprogram (from it: recursion)
        pending_calls_.push_back(out.size());
        emit_row(out, find("call local", isa::Operand::Imm), 0, 0, 0, 0);
      } else {
        emit_row(out, pick_row(isa::Form::Alu, "mov"), dst_reg(), 0, 0, rand_imm());
      }
      (void)in_sub;
    }
    // A jump may have targeted `end` (the exit) — fine. Clip any lddw that overran.
    if (out.size() > end) out.resize(end);
  }

  std::mt19937_64 rng_;
  RandomProgramConfig cfg_;
  std::vector<std::size_t> pending_calls_;
  std::size_t sub_start_ = 0;
};

}  // namespace bpfvm::testing
