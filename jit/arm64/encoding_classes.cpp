// The A64 emitter's low-level helpers, one per encoding class of the Arm Architecture Reference
// Manual (C4.1.2 data processing – immediate, C4.1.4 loads and stores, C4.1.3 branches): each picks
// the encodable form for its operands, so the emit_<form>.cpp files never see an out-of-range
// immediate.
#include <asmjit/arm/a64assembler.h>
#include <asmjit/arm/a64utils.h>

#include "jit/arm64/emitter.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;

namespace {
bool is_w(const a64::Gp& r) { return r.isGpW(); }
}  // namespace

void A64Emitter::move_wide_imm(const Gp& reg, std::uint64_t value) {
  // Move wide (immediate), C6.2.191/192/193: MOVZ writes one halfword and zeroes the rest, MOVN
  // writes the inverse, MOVK patches one halfword. Start from whichever leaves fewer halfwords to
  // patch; a bitmask immediate (Logical (immediate), ORR with the zero register) is one instruction.
  const unsigned halves = is_w(reg) ? 2 : 4;
  if (halves == 2) value = static_cast<std::uint32_t>(value);
  auto half = [&](unsigned i) { return static_cast<std::uint32_t>((value >> (16 * i)) & 0xffff); };
  unsigned zeros = 0, ones = 0;
  for (unsigned i = 0; i < halves; ++i) {
    zeros += half(i) == 0;
    ones += half(i) == 0xffff;
  }
  const unsigned needed = halves - std::max(zeros, ones);
  if (needed > 1 && a64::Utils::isLogicalImm(value, halves * 16)) {
    a_.orr(reg, is_w(reg) ? Gp(a64::wzr) : Gp(a64::xzr), Imm(value));
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
        a_.movn(reg, Imm(~h & 0xffff), Imm(16 * i));
      else
        a_.movz(reg, Imm(h), Imm(16 * i));
      first = false;
    } else {
      a_.movk(reg, Imm(h), Imm(16 * i));
    }
  }
  if (first) {  // every halfword was `skip`: 0 or all ones
    if (inverted) a_.movn(reg, Imm(0)); else a_.movz(reg, Imm(0));
  }
}

void A64Emitter::load_imm(const Gp& reg, std::int64_t value) {
  if (!req_.blind_constants) {
    move_wide_imm(reg, static_cast<std::uint64_t>(value));
    return;
  }
  // Constant blinding: the immediate never appears verbatim in executable memory.
  const std::uint64_t key = rng_() | 1;
  const Gp key_reg = host(kScratchKey, !is_w(reg));
  move_wide_imm(reg, static_cast<std::uint64_t>(value) ^ key);
  move_wide_imm(key_reg, key);
  a_.eor(reg, reg, key_reg);
}

void A64Emitter::add_sub_imm(const Gp& dst, const Gp& src, std::int64_t value, HostReg scratch) {
  // Add/subtract (immediate), C4.1.2: a 12-bit unsigned immediate, optionally shifted left by 12.
  // Not blinded: callers pass offsets and frame sizes here; program immediates go via load_imm.
  auto encodable = [](std::uint64_t v) { return v < 4096 || ((v & 0xfff) == 0 && v < (4096u << 12)); };
  const std::uint64_t mag = value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  if (value != INT64_MIN && encodable(mag)) {
    if (value == 0 && dst.id() == src.id() && !is_w(dst)) return;
    if (value < 0) a_.sub(dst, src, Imm(mag)); else a_.add(dst, src, Imm(mag));
    return;
  }
  const Gp tmp = host(scratch, !is_w(dst));
  load_imm(tmp, value);
  a_.add(dst, src, tmp);  // Add/subtract (shifted register)
}

void A64Emitter::compare_imm(const Gp& reg, std::int64_t value) {
  // CMP is SUBS to the zero register; CMN (ADDS) takes the negated immediate. For a W register the
  // comparison is mod 2^32, so a negative value may use CMN there too.
  auto encodable = [](std::uint64_t v) { return v < 4096 || ((v & 0xfff) == 0 && v < (4096u << 12)); };
  if (!req_.blind_constants) {
    if (value >= 0 && encodable(static_cast<std::uint64_t>(value))) {
      a_.cmp(reg, Imm(value));
      return;
    }
    if (value < 0 && value != INT64_MIN && encodable(0 - static_cast<std::uint64_t>(value))) {
      a_.cmn(reg, Imm(0 - static_cast<std::uint64_t>(value)));
      return;
    }
  }
  const Gp tmp = host(kScratchValue, !is_w(reg));
  load_imm(tmp, value);
  a_.cmp(reg, tmp);  // Add/subtract (shifted register), flag-setting
}

void A64Emitter::logical_imm(InstId id, const Gp& dst, const Gp& src, std::uint64_t value) {
  // Logical (immediate), C4.1.2: a rotated run of ones replicated across the register. Anything
  // else (including 0 and all ones) goes through Logical (shifted register).
  const unsigned width = is_w(dst) ? 32 : 64;
  if (width == 32) value = static_cast<std::uint32_t>(value);
  if (!req_.blind_constants && a64::Utils::isLogicalImm(value, width)) {
    a_.emit(id, dst, src, Imm(value));
    return;
  }
  const Gp tmp = host(kScratchValue, width == 64);
  load_imm(tmp, static_cast<std::int64_t>(value));
  a_.emit(id, dst, src, tmp);
}

void A64Emitter::load_store(LoadStoreIds ids, const Gp& rt, const Gp& base, std::int64_t off,
                            unsigned size_bytes) {
  // Load/store register (unsigned immediate): off = imm12 * size. (unscaled immediate): signed
  // 9-bit off. (register offset): any off, materialised in kScratchOffset.
  if (off >= 0 && off % size_bytes == 0 && off / size_bytes < 4096) {
    a_.emit(ids.scaled, rt, a64::ptr(base, static_cast<std::int32_t>(off)));
  } else if (off >= -256 && off <= 255) {
    a_.emit(ids.unscaled, rt, a64::ptr(base, static_cast<std::int32_t>(off)));
  } else {
    const Gp index = host(kScratchOffset);
    move_wide_imm(index, static_cast<std::uint64_t>(off));
    a_.emit(ids.scaled, rt, a64::ptr(base, index));
  }
}

void A64Emitter::store_exclusive_release(const Gp& status, const Gp& rt, const Gp& base) {
  // Load/store exclusive, STLXR <Ws>, <Xt|Wt>, [<Xn|SP>]: size in bits 31:30 (0b11 = X, 0b10 = W),
  // o0 (bit 15) = release. Debian's 2022 asmjit refuses the X form (InvalidInstruction), so the
  // word is assembled here from the manual's fields; the W form is identical but for size.
  const std::uint32_t size = is_w(rt) ? 0b10u : 0b11u;
  const std::uint32_t word = (size << 30) | 0x0800fc00u | (status.id() << 16) | (base.id() << 5) | rt.id();
  a_.embedUInt32(word);
}

void A64Emitter::call_stub(const Label& stub) {
  // Unconditional branch (immediate), BL: x30 holds the return address of the BPF function being
  // run (every BPF exit is RET), so it is kept on the host stack, 16 bytes to keep SP aligned.
  a_.str(a64::x30, a64::ptr_pre(a64::sp, -16));
  a_.bl(stub);
  a_.ldr(a64::x30, a64::ptr_post(a64::sp, 16));
}

void A64Emitter::call_absolute(std::uint64_t fn) {
  const Gp ip0 = host(kScratchIp0);
  move_wide_imm(ip0, fn);
  a_.blr(ip0);  // Unconditional branch (register)
}

}  // namespace bpfvm::jit::arm64
