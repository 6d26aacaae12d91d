// The x86 condition under which an eBPF conditional jump is taken, after `cmp dst, src` (or
// `test dst, src` for jset). Shared by the baseline emitter and the optimizing tier's lowering.
#pragma once

#include <asmjit/x86.h>

#include <optional>

#include "vm/isa.hpp"

namespace bpfvm::jit::x86_64 {

inline std::optional<asmjit::x86::CondCode> jump_condition(isa::Kind kind) {
  using asmjit::x86::CondCode;
  using isa::Kind;
  switch (kind) {
    case Kind::Jeq: return CondCode::kE;
    case Kind::Jne: return CondCode::kNE;
    case Kind::Jgt: return CondCode::kA;
    case Kind::Jge: return CondCode::kAE;
    case Kind::Jlt: return CondCode::kB;
    case Kind::Jle: return CondCode::kBE;
    case Kind::Jsgt: return CondCode::kG;
    case Kind::Jsge: return CondCode::kGE;
    case Kind::Jslt: return CondCode::kL;
    case Kind::Jsle: return CondCode::kLE;
    case Kind::Jset: return CondCode::kNZ;
    case Kind::Add: case Kind::Sub: case Kind::Mul: case Kind::Div: case Kind::SDiv: case Kind::Or:
    case Kind::And: case Kind::Lsh: case Kind::Rsh: case Kind::Mod: case Kind::SMod: case Kind::Xor:
    case Kind::Mov: case Kind::MovSx: case Kind::Arsh: case Kind::Neg: case Kind::ToLe:
    case Kind::ToBe: case Kind::Bswap: case Kind::Ldx: case Kind::LdxSx: case Kind::St:
    case Kind::Stx: case Kind::Lddw: case Kind::AtomicAdd: case Kind::AtomicOr:
    case Kind::AtomicAnd: case Kind::AtomicXor: case Kind::Xchg: case Kind::CmpXchg: case Kind::Ja:
    case Kind::Call: case Kind::CallLocal: case Kind::CallReg: case Kind::Exit: case Kind::LdAbs: case Kind::LdInd:
      break;
  }
  return std::nullopt;
}

}  // namespace bpfvm::jit::x86_64
