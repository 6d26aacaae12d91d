// The A64 emitter's low-level helpers, one per encoding class of the Arm Architecture Reference
// Manual (C4.1.2 data processing – immediate, C4.1.4 loads and stores, C4.1.3 branches): each picks
// the encodable form for its operands, so the emit_<form>.cpp files never see an out-of-range
// immediate.
#include <asmjit/arm/a64assembler.h>
#include <asmjit/arm/a64utils.h>

#include "jit/arm64/emitter.hpp"
#include "jit/arm64/instruction_forms.hpp"

namespace bpfvm::jit::arm64 {

using namespace asmjit;

namespace {
bool is_w(const a64::Gp& r) { return r.isGpW(); }
}  // namespace

void A64Emitter::move_wide_imm(const Gp& reg, std::uint64_t value) { arm64::move_wide_imm(a_, reg, value); }

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
  const std::uint64_t mag = value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  if (value != INT64_MIN && add_sub_imm_encodable(mag)) {
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
  if (!req_.blind_constants) {
    if (value >= 0 && add_sub_imm_encodable(static_cast<std::uint64_t>(value))) {
      a_.cmp(reg, Imm(value));
      return;
    }
    if (value < 0 && value != INT64_MIN && add_sub_imm_encodable(0 - static_cast<std::uint64_t>(value))) {
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
  arm64::load_store(a_, {ids.scaled, ids.unscaled}, rt, base, off, size_bytes, host(kScratchOffset));
}

void A64Emitter::store_exclusive_release(const Gp& status, const Gp& rt, const Gp& base) {
  arm64::store_exclusive_release(a_, status, rt, base);
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
