// AArch64 instruction forms that need no emitter state, shared by the baseline emitter (emitter.hpp)
// and the optimizing tier's selector (opt_emitter.cpp): constants by Move wide, the hand-assembled
// STLXR, the Load/store register opcodes per access size, the condition of each eBPF jump.
#pragma once

#include <asmjit/arm.h>
#include <asmjit/arm/a64assembler.h>

#include <cstdint>
#include <optional>

#include "vm/isa.hpp"

namespace bpfvm::jit::arm64 {

/// Move wide (immediate): reg = value with MOVZ or MOVN, then MOVK per remaining halfword, or one
/// ORR of a bitmask immediate. 32-bit for W registers. Never blinded (callers blind around it).
void move_wide_imm(asmjit::a64::Assembler& a, const asmjit::a64::Gp& reg, std::uint64_t value);

/// True when Add/subtract (immediate) encodes v: 12 bits, optionally shifted left by 12.
constexpr bool add_sub_imm_encodable(std::uint64_t v) { return v < 4096 || ((v & 0xfff) == 0 && v < (4096u << 12)); }

/// Load/store exclusive, STLXR status, rt, [base] (status = 0 when the store happened).
void store_exclusive_release(asmjit::a64::Assembler& a, const asmjit::a64::Gp& status,
                             const asmjit::a64::Gp& rt, const asmjit::a64::Gp& base);

/// Load/store register opcodes of one access size: (unsigned immediate) and (unscaled immediate).
struct LoadStoreIds {
  asmjit::InstId scaled;    // LDR/STR (unsigned immediate): off = imm12 * size
  asmjit::InstId unscaled;  // LDUR/STUR (unscaled immediate): signed 9-bit off
};
/// LDRB/LDRH/LDR(W)/LDR(X) zero-extend into the register; LDRSB/LDRSH/LDRSW sign-extend to 64 bits.
LoadStoreIds load_ids(unsigned bits, bool sign_extend);
LoadStoreIds store_ids(unsigned bits);
/// Load/store register at base + off: (unsigned immediate) when off is a scaled 12-bit offset,
/// (unscaled immediate) when it fits 9 signed bits, else (register offset) with off in `index`.
void load_store(asmjit::a64::Assembler& a, LoadStoreIds ids, const asmjit::a64::Gp& rt, const asmjit::a64::Gp& base,
                std::int64_t off, unsigned size_bytes, const asmjit::a64::Gp& index);

/// Condition under which an eBPF conditional jump is taken, after `cmp dst, src` (`tst` for jset).
std::optional<asmjit::a64::CondCode> jump_condition(isa::Kind kind);

}  // namespace bpfvm::jit::arm64
