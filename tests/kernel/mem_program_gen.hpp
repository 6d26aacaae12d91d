// Random straight-line programs of loads, stores, atomics and ALU on a memory buffer and the stack,
// built from isa::kOps rows, that the kernel verifier accepts (run through run_r0_64's `mem`).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tests/kernel/alu_program_gen.hpp"
#include "vm/isa.hpp"
#include "vm/program.hpp"

namespace bpfvm::testing {

/// Bytes of the buffer r1 points at (run_r0_64's `mem`) and of stack the programs use below r10.
inline constexpr std::size_t kMemProgramBufferBytes = 64;
inline constexpr std::size_t kMemProgramStackBytes = 64;

/// Rows the memory generator draws from: every Load, LoadSx, Store, StoreReg and Atomic row.
constexpr bool mem_gen_uses(const isa::OpInfo& op) {
  switch (op.form) {
    case isa::Form::Load:
    case isa::Form::LoadSx:
    case isa::Form::Store:
    case isa::Form::StoreReg:
    case isa::Form::Atomic:
      return true;
    case isa::Form::Alu:
    case isa::Form::AluUnary:
    case isa::Form::Jump:
    case isa::Form::Ja:
    case isa::Form::Ja32:
    case isa::Form::WideImm:
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

/// One program: r6 = r1 (the buffer, never changed), the other scalars r0, r2..r5, r7..r9 and the
/// 64 bytes of stack below r10 set to random values, then `body_items` random ALU rows and naturally
/// aligned memory rows on [r6 + off] or [r10 - off], then r0 folded with every buffer and stack word,
/// then exit. No pointer is ever used as a value or stored. `row_uses` counts emitted rows.
std::vector<vm::Insn> generate_mem_program(SplitMix64& rng, std::size_t body_items,
                                           std::array<std::uint64_t, isa::kNumOps>* row_uses = nullptr);

}  // namespace bpfvm::testing
