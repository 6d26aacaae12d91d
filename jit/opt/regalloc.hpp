// Linear-scan register allocation over the SSA IR (Poletto and Sarkar's scan over a linear block
// order; each value's live range is a list of segments, so a register is free in another value's
// holes, as in Wimmer and Franz's SSA linear scan; no splitting: a value has one location). Target independent: the
// backend names its registers and which of them survive a call.
#pragma once

#include <cstdint>
#include <vector>

#include "jit/opt/ir.hpp"

namespace bpfvm::jit::opt {

struct RegisterFile {
  std::vector<std::uint8_t> allocatable;  // host register numbers, in order of preference
  std::vector<bool> survives_calls;       // by host register number: callee-saved
  /// By host register number: left alone by a divide (x86-64's div writes rax and rdx; empty: every
  /// register). A value live across a divide prefers these, so the divide saves nothing.
  std::vector<bool> survives_divides;
  /// The register a variable Op::Rotate reads its count from (x86-64: rcx, for rol/ror r, cl), or -1.
  /// In a function with such rotates, counts ask for it first and every other value takes it last.
  std::int16_t rotate_count = -1;
};

/// Where each value lives. Constants and frame addresses (FramePtr) get no location: the backend puts
/// them in instructions.
struct Allocation {
  static constexpr std::int16_t kNone = -1;
  std::vector<BlockId> order;       // block emission order
  std::vector<std::int16_t> reg;    // per value: host register, or kNone
  std::vector<std::int32_t> slot;   // per value: spill slot index, or -1
  std::uint32_t num_slots = 0;
  std::uint32_t spilled = 0;        // values that did not get a register (for listings and benches)
  std::vector<std::uint64_t> live_in_regs;  // per block: bit r set when a value live at its start is in register r
};

/// Splits critical edges (so phi moves always sit at the end of a one-successor block), orders the
/// blocks, computes liveness and assigns registers; a value live across a Call gets a register
/// that survives calls, or a slot; one live across a divide gets a register that survives divides
/// where one is free.
Allocation allocate_registers(Function& fn, const RegisterFile& regs);

/// True when the value needs a location (a live, non-constant result).
bool needs_location(const Function& fn, ValueId v);

}  // namespace bpfvm::jit::opt
