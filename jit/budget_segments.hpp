// Instruction-budget segments, shared by both backends: where a counted build charges the budget.
#pragma once

#include <cstdint>
#include <vector>

#include "vm/program.hpp"

namespace bpfvm::jit {

/// Per pc: the length in instructions of the segment starting there, 0 inside a segment (and at
/// lddw's second slot). A segment is a straight run charged at its start whose only faulting or
/// memory-touching instruction is its last, so a run stopped inside one is indistinguishable from
/// one stopped at the exact instruction: budget errors name the interpreter's pc.
std::vector<std::uint32_t> budget_segment_lengths(const vm::Program& program);

}  // namespace bpfvm::jit
