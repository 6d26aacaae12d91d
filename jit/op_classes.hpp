// Target-independent classes of the eBPF operations whose host encoding differs per backend: the
// condition a conditional jump tests and the read-modify-write an atomic performs. Each backend
// maps a class to its own encoding; the long "every other Kind" lists live here once.
#pragma once

#include <cstdint>
#include <optional>

#include "vm/isa.hpp"

namespace bpfvm::jit {

/// When a conditional jump is taken, after comparing dst with src (AnySet: dst & src != 0).
enum class JumpCondition : std::uint8_t { Eq, Ne, UGt, UGe, ULt, ULe, SGt, SGe, SLt, SLe, AnySet };

inline std::optional<JumpCondition> jump_condition_of(isa::Kind kind) {
  using isa::Kind;
  switch (kind) {
    case Kind::Jeq: return JumpCondition::Eq;
    case Kind::Jne: return JumpCondition::Ne;
    case Kind::Jgt: return JumpCondition::UGt;
    case Kind::Jge: return JumpCondition::UGe;
    case Kind::Jlt: return JumpCondition::ULt;
    case Kind::Jle: return JumpCondition::ULe;
    case Kind::Jsgt: return JumpCondition::SGt;
    case Kind::Jsge: return JumpCondition::SGe;
    case Kind::Jslt: return JumpCondition::SLt;
    case Kind::Jsle: return JumpCondition::SLe;
    case Kind::Jset: return JumpCondition::AnySet;
    case Kind::Add: case Kind::Sub: case Kind::Mul: case Kind::Div: case Kind::SDiv: case Kind::Or:
    case Kind::And: case Kind::Lsh: case Kind::Rsh: case Kind::Mod: case Kind::SMod: case Kind::Xor:
    case Kind::Mov: case Kind::MovSx: case Kind::Arsh: case Kind::Neg: case Kind::ToLe:
    case Kind::ToBe: case Kind::Bswap: case Kind::Ldx: case Kind::LdxSx: case Kind::St:
    case Kind::Stx: case Kind::Lddw: case Kind::AtomicAdd: case Kind::AtomicOr:
    case Kind::AtomicAnd: case Kind::AtomicXor: case Kind::Xchg: case Kind::CmpXchg: case Kind::Ja:
    case Kind::Call: case Kind::CallLocal: case Kind::CallReg: case Kind::CallKfunc: case Kind::Exit: case Kind::LdAbs: case Kind::LdInd:
      break;
  }
  return std::nullopt;
}

/// What an atomic does to memory (with BPF_FETCH, the old value also lands in src; CmpXchg
/// compares with r0 and always leaves the old value there).
enum class AtomicOp : std::uint8_t { Add, Or, And, Xor, Xchg, CmpXchg };

inline std::optional<AtomicOp> atomic_op_of(isa::Kind kind) {
  using isa::Kind;
  switch (kind) {
    case Kind::AtomicAdd: return AtomicOp::Add;
    case Kind::AtomicOr: return AtomicOp::Or;
    case Kind::AtomicAnd: return AtomicOp::And;
    case Kind::AtomicXor: return AtomicOp::Xor;
    case Kind::Xchg: return AtomicOp::Xchg;
    case Kind::CmpXchg: return AtomicOp::CmpXchg;
    case Kind::Add: case Kind::Sub: case Kind::Mul: case Kind::Div: case Kind::SDiv: case Kind::Or:
    case Kind::And: case Kind::Lsh: case Kind::Rsh: case Kind::Mod: case Kind::SMod: case Kind::Xor:
    case Kind::Mov: case Kind::MovSx: case Kind::Arsh: case Kind::Neg: case Kind::ToLe:
    case Kind::ToBe: case Kind::Bswap: case Kind::Ldx: case Kind::LdxSx: case Kind::St:
    case Kind::Stx: case Kind::Lddw: case Kind::Ja: case Kind::Jeq: case Kind::Jgt: case Kind::Jge:
    case Kind::Jset: case Kind::Jne: case Kind::Jsgt: case Kind::Jsge: case Kind::Jlt:
    case Kind::Jle: case Kind::Jslt: case Kind::Jsle: case Kind::Call: case Kind::CallLocal:
    case Kind::CallReg: case Kind::CallKfunc: case Kind::Exit: case Kind::LdAbs: case Kind::LdInd:
      break;
  }
  return std::nullopt;
}

}  // namespace bpfvm::jit
