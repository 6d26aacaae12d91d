// The x86 condition under which an eBPF conditional jump is taken, after `cmp dst, src` (or
// `test dst, src` for jset). Shared by the baseline emitter and the optimizing tier's lowering.
#pragma once

#include <asmjit/x86.h>

#include <optional>

#include "jit/op_classes.hpp"
#include "vm/isa.hpp"

namespace bpfvm::jit::x86_64 {

inline std::optional<asmjit::x86::CondCode> jump_condition(isa::Kind kind) {
  using asmjit::x86::CondCode;
  const auto c = jump_condition_of(kind);
  if (!c) return std::nullopt;
  switch (*c) {
    case JumpCondition::Eq: return CondCode::kE;
    case JumpCondition::Ne: return CondCode::kNE;
    case JumpCondition::UGt: return CondCode::kA;
    case JumpCondition::UGe: return CondCode::kAE;
    case JumpCondition::ULt: return CondCode::kB;
    case JumpCondition::ULe: return CondCode::kBE;
    case JumpCondition::SGt: return CondCode::kG;
    case JumpCondition::SGe: return CondCode::kGE;
    case JumpCondition::SLt: return CondCode::kL;
    case JumpCondition::SLe: return CondCode::kLE;
    case JumpCondition::AnySet: return CondCode::kNZ;
  }
  return std::nullopt;
}

}  // namespace bpfvm::jit::x86_64
