// Builds vm::Insn slots from ISA table rows, so kernel tests never spell opcode bytes themselves.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vm/isa.hpp"
#include "vm/program.hpp"

namespace bpfvm::testing {

/// One slot of row `id`. A field's rule overrides the argument: Zero gives 0, Fixed its value (call
/// local, lddw pseudo sources, sdiv, movsx, byte-order widths), so callers pass only free fields.
inline vm::Insn make_insn(isa::OpId id, int dst = 0, int src = 0, int off = 0, std::int32_t imm = 0) {
  const auto& op = isa::kOps[id];
  auto fixed_or = [](isa::FieldRule rule, std::int64_t v) -> std::int64_t {
    return rule.rule == isa::Rule::Fixed ? rule.value : rule.rule == isa::Rule::Zero ? 0 : v;
  };
  vm::Insn insn;
  insn.code = op.code;
  insn.dst = static_cast<std::uint8_t>(fixed_or(op.dst, dst));
  insn.src = static_cast<std::uint8_t>(fixed_or(op.src, src));
  insn.off = static_cast<std::int16_t>(fixed_or(op.off, off));
  insn.imm = static_cast<std::int32_t>(fixed_or(op.imm, imm));
  return insn;
}

/// The row spelled `mnemonic` with `operand`; throws for a spelling the table lacks (test code only).
inline isa::OpId op_id(std::string_view mnemonic, isa::Operand operand) {
  const auto id = isa::find_op(mnemonic, operand);
  if (id == isa::kNoOp) throw std::logic_error("no ISA row " + std::string(mnemonic));
  return id;
}

inline vm::Insn insn(std::string_view mnemonic, isa::Operand operand, int dst = 0, int src = 0, int off = 0,
                     std::int32_t imm = 0) {
  return make_insn(op_id(mnemonic, operand), dst, src, off, imm);
}

/// Appends both slots of an lddw of row `id` (plain or pseudo source).
inline void push_lddw(std::vector<vm::Insn>& out, isa::OpId id, int dst, std::uint64_t imm64) {
  out.push_back(make_insn(id, dst, 0, 0, static_cast<std::int32_t>(static_cast<std::uint32_t>(imm64))));
  vm::Insn hi;  // second slot: only imm (the upper 32 bits) is used
  hi.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(imm64 >> 32));
  out.push_back(hi);
}

}  // namespace bpfvm::testing
