// Random straight-line ALU programs the kernel verifier accepts, built from isa::kOps rows.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vm/isa.hpp"
#include "vm/program.hpp"

namespace bpfvm::testing {

/// Deterministic on every platform (std's distributions are not): splitmix64.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  /// Uniform-enough value in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool percent(unsigned p) { return below(100) < p; }

 private:
  std::uint64_t state_;
};

struct AluGenOptions {
  std::size_t max_body_items = 32;  // instructions between the register set-up and the exit
  unsigned jump_percent = 15;       // share of body items that are forward jumps
  std::size_t max_jumps = 8;        // bounds the verifier's path count (2^jumps)
  unsigned fold_percent = 75;       // programs that end by hashing r1..r9 into r0
};

/// Rows the generator draws from: every Alu and AluUnary row, every conditional and unconditional
/// jump, and plain lddw. Loads, stores, atomics and calls are out of scope.
constexpr bool alu_gen_uses(const isa::OpInfo& op) {
  switch (op.form) {
    case isa::Form::Alu:
    case isa::Form::AluUnary:
    case isa::Form::Jump:
    case isa::Form::Ja:
    case isa::Form::Ja32:
      return true;
    case isa::Form::WideImm:
      return op.src.rule == isa::Rule::Fixed && op.src.value == isa::to_underlying(isa::LddwSrc::Imm64);
    case isa::Form::Load:
    case isa::Form::LoadSx:
    case isa::Form::Store:
    case isa::Form::StoreReg:
    case isa::Form::Atomic:
    case isa::Form::Call:
    case isa::Form::CallLocal:
    case isa::Form::CallKfunc:
    case isa::Form::CallReg:
    case isa::Form::Exit:
    case isa::Form::PacketLoad:
      return false;
  }
  return false;
}

/// One program: r0..r9 set by mov/mov32/lddw, then random rows with forward jumps only, then exit.
/// Respects the kernel verifier: no constant shift ≥ width, no constant division by zero, no reads
/// of uninitialised registers, no r10, no statically unreachable instruction.
/// `row_uses`, when given, counts how often each isa::kOps row was emitted.
std::vector<vm::Insn> generate_alu_program(SplitMix64& rng, const AluGenOptions& options = {},
                                           std::array<std::uint64_t, isa::kNumOps>* row_uses = nullptr);

/// Operand values at the edges of every width and signedness, each also negated.
std::vector<std::uint64_t> edge_values64();
/// 32-bit immediates at the edges (sign-extension, INT_MIN, shift widths, small divisors).
std::span<const std::int32_t> edge_imms();
/// False for an immediate the kernel verifier refuses on this row: a shift ≥ width, a divisor of 0.
bool kernel_accepts_imm(const isa::OpInfo& op, std::int32_t imm);

/// One line per slot: "pc: <16 hex digits, file byte order>  <mnemonic> dst src off imm".
std::string describe_program(std::span<const vm::Insn> insns);
/// The whole program as one hex string, the bytes as they would be in a file.
std::string program_hex(std::span<const vm::Insn> insns);

}  // namespace bpfvm::testing
