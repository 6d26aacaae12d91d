// Bit-field extracts for the backends' instruction selection: `(x & (2^len - 1) << s) >> s` and
// `(x >> s) & (2^len - 1)` (s a constant 1..width-1) are one x86-64 BMI1 `bextr` or one arm64 `ubfx`.
// The inner and/shift must have no other reader and be the instruction right before its user
// (constants aside), so that no code runs between them and x is still where it was: the backend emits
// the extract at the user, reading x, and nothing at the inner one. clang's 32-bit rotate in 64-bit
// code, `(x << c) | (x & m) >> (32 - c)` (bench/'s jhash), a u32's `(a & 0xffff0000) >> 16` without
// alu32 (fletcher), field reads `(w >> 16) & 0xff`.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

#include "jit/opt/ir.hpp"

namespace bpfvm::jit::opt {

struct BitField {
  ValueId x = kNoValue;
  unsigned start = 0, len = 0;  // len 0: no extract
};

/// A constant operand's value (Const, or a ConstInReg LICM hoisted), at `width` bits.
inline std::optional<std::uint64_t> constant_at(const Function& fn, ValueId v, unsigned width) {
  const Inst& c = fn.values[v];
  if (c.op != Op::Const && c.op != Op::ConstInReg) return std::nullopt;
  return static_cast<std::uint64_t>(c.imm) & (width == 64 ? ~0ull : 0xffffffffull);
}

/// The extract `outer` (an Rsh or And) of `inner` (the And or Rsh it reads) computes, or len 0.
inline BitField bit_field_of(const Function& fn, const Inst& outer, ValueId inner) {
  const Inst& in = fn.values[inner];
  if (outer.op != Op::Alu || in.op != Op::Alu || in.width != outer.width) return {};
  const unsigned width = outer.width == 64 ? 64u : 32u;
  const Inst& and_op = outer.kind == isa::Kind::And ? outer : in;
  const Inst& shift = outer.kind == isa::Kind::Rsh ? outer : in;
  if (and_op.kind != isa::Kind::And || shift.kind != isa::Kind::Rsh || shift.args[0] == shift.args[1]) return {};
  const auto count = constant_at(fn, shift.args[1], width);
  if (!count || *count == 0 || *count >= width) return {};
  const auto s = static_cast<unsigned>(*count);
  const bool mask_first = constant_at(fn, and_op.args[0], width).has_value();
  const auto mask = constant_at(fn, and_op.args[mask_first ? 0 : 1], width);
  const ValueId and_other = and_op.args[mask_first ? 1 : 0];
  if (!mask || constant_at(fn, and_other, width)) return {};
  std::uint64_t field = 0;  // the kept bits, at bit 0
  ValueId x = kNoValue;
  if (outer.kind == isa::Kind::Rsh) {  // (x & m) >> s: m's bits below s drop out
    if (shift.args[0] != inner) return {};
    x = and_other;
    field = *mask >> s;
  } else {  // (x >> s) & m: x >> s has width - s bits
    if (and_other != inner) return {};
    x = shift.args[0];
    field = *mask & ((1ull << (width - s)) - 1);
  }
  if (constant_at(fn, x, width) || field == 0 || (field & (field + 1)) != 0) return {};  // ones from bit 0
  return BitField{x, s, static_cast<unsigned>(std::countr_one(field))};
}

/// Per value: the extract it emits (len != 0), and `part`: the inner and/shift an extract replaced
/// (it emits nothing). `uses`: readers per value; `taken`: values another fold of the backend owns.
struct BitFieldPlan {
  std::vector<BitField> field;
  std::vector<bool> part;
};

inline BitFieldPlan plan_bit_fields(const Function& fn, const std::vector<std::uint32_t>& uses,
                                    const std::vector<bool>& taken) {
  BitFieldPlan plan{std::vector<BitField>(fn.values.size()), std::vector<bool>(fn.values.size(), false)};
  for (const auto& block : fn.blocks) {
    ValueId prev = kNoValue;  // the last instruction that emits code (constants do not)
    for (const ValueId id : block.insts) {
      const Inst& i = fn.values[id];
      if (i.dead || i.op == Op::Const) continue;
      if (prev != kNoValue && uses[prev] == 1 && !taken[prev] && !taken[id] && !plan.part[prev] &&
          (i.kind == isa::Kind::Rsh || i.kind == isa::Kind::And))
        if (const BitField f = bit_field_of(fn, i, prev); f.len != 0) {
          plan.field[id] = f;
          plan.part[prev] = true;
        }
      prev = id;
    }
  }
  return plan;
}

}  // namespace bpfvm::jit::opt
