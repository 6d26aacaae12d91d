// Stateless AArch64 instruction forms (instruction_forms.hpp), after the encoding classes of the Arm
// Architecture Reference Manual (C4.1).
#include "jit/arm64/instruction_forms.hpp"

#include <asmjit/arm/a64utils.h>

#include <algorithm>

#include "jit/op_classes.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;
using isa::Kind;

void move_wide_imm(a64::Assembler& a, const a64::Gp& reg, std::uint64_t value) {
  // Move wide (immediate), C6.2.191/192/193: MOVZ writes one halfword and zeroes the rest, MOVN
  // writes the inverse, MOVK patches one halfword. Start from whichever leaves fewer halfwords to
  // patch; a bitmask immediate (Logical (immediate), ORR with the zero register) is one instruction.
  const bool w = reg.isGpW();
  const unsigned halves = w ? 2 : 4;
  if (w) value = static_cast<std::uint32_t>(value);
  auto half = [&](unsigned i) { return static_cast<std::uint32_t>((value >> (16 * i)) & 0xffff); };
  unsigned zeros = 0, ones = 0;
  for (unsigned i = 0; i < halves; ++i) {
    zeros += half(i) == 0;
    ones += half(i) == 0xffff;
  }
  const unsigned needed = halves - std::max(zeros, ones);
  if (needed > 1 && a64::Utils::isLogicalImm(value, halves * 16)) {
    a.orr(reg, w ? a64::Gp(a64::wzr) : a64::Gp(a64::xzr), Imm(value));
    return;
  }
  const bool inverted = ones > zeros;
  const std::uint32_t skip = inverted ? 0xffff : 0;
  bool first = true;
  for (unsigned i = 0; i < halves; ++i) {
    const std::uint32_t h = half(i);
    if (h == skip) continue;
    if (first) {
      if (inverted)
        a.movn(reg, Imm(~h & 0xffff), Imm(16 * i));
      else
        a.movz(reg, Imm(h), Imm(16 * i));
      first = false;
    } else {
      a.movk(reg, Imm(h), Imm(16 * i));
    }
  }
  if (first) {  // every halfword was `skip`: 0 or all ones
    if (inverted) a.movn(reg, Imm(0)); else a.movz(reg, Imm(0));
  }
}

void store_exclusive_release(a64::Assembler& a, const a64::Gp& status, const a64::Gp& rt, const a64::Gp& base) {
  // Load/store exclusive, STLXR <Ws>, <Xt|Wt>, [<Xn|SP>]: size in bits 31:30 (0b11 = X, 0b10 = W),
  // o0 (bit 15) = release. Debian's 2022 asmjit refuses the X form (InvalidInstruction), so the
  // word is assembled here from the manual's fields; the W form is identical but for size.
  const std::uint32_t size = rt.isGpW() ? 0b10u : 0b11u;
  const std::uint32_t word = (size << 30) | 0x0800fc00u | (status.id() << 16) | (base.id() << 5) | rt.id();
  a.embedUInt32(word);
}

LoadStoreIds load_ids(unsigned bits, bool sign_extend) {
  using I = a64::Inst;
  switch (bits) {
    case 8: return sign_extend ? LoadStoreIds{I::kIdLdrsb, I::kIdLdursb} : LoadStoreIds{I::kIdLdrb, I::kIdLdurb};
    case 16: return sign_extend ? LoadStoreIds{I::kIdLdrsh, I::kIdLdursh} : LoadStoreIds{I::kIdLdrh, I::kIdLdurh};
    case 32: return sign_extend ? LoadStoreIds{I::kIdLdrsw, I::kIdLdursw} : LoadStoreIds{I::kIdLdr, I::kIdLdur};
    default: return {I::kIdLdr, I::kIdLdur};
  }
}

LoadStoreIds store_ids(unsigned bits) {
  using I = a64::Inst;
  switch (bits) {
    case 8: return {I::kIdStrb, I::kIdSturb};
    case 16: return {I::kIdStrh, I::kIdSturh};
    default: return {I::kIdStr, I::kIdStur};
  }
}

void load_store(a64::Assembler& a, LoadStoreIds ids, const a64::Gp& rt, const a64::Gp& base, std::int64_t off,
                unsigned size_bytes, const a64::Gp& index) {
  if (off >= 0 && off % size_bytes == 0 && off / size_bytes < 4096) {
    a.emit(ids.scaled, rt, a64::ptr(base, static_cast<std::int32_t>(off)));
  } else if (off >= -256 && off <= 255) {
    a.emit(ids.unscaled, rt, a64::ptr(base, static_cast<std::int32_t>(off)));
  } else {
    move_wide_imm(a, index, static_cast<std::uint64_t>(off));
    a.emit(ids.scaled, rt, a64::ptr(base, index));
  }
}

std::optional<a64::CondCode> jump_condition(Kind kind) {
  using C = a64::CondCode;
  const auto c = jump_condition_of(kind);
  if (!c) return std::nullopt;
  switch (*c) {
    case JumpCondition::Eq: return C::kEQ;
    case JumpCondition::Ne: return C::kNE;
    case JumpCondition::UGt: return C::kHI;
    case JumpCondition::UGe: return C::kHS;
    case JumpCondition::ULt: return C::kLO;
    case JumpCondition::ULe: return C::kLS;
    case JumpCondition::SGt: return C::kGT;
    case JumpCondition::SGe: return C::kGE;
    case JumpCondition::SLt: return C::kLT;
    case JumpCondition::SLe: return C::kLE;
    case JumpCondition::AnySet: return C::kNE;
  }
  return std::nullopt;
}

}  // namespace bpfvm::jit::arm64
