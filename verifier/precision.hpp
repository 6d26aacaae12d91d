// Static precision marks for pruning (see precision.cpp for the argument).
#pragma once

#include <vector>

#include "verifier/cfg.hpp"

namespace bpfvm::verifier {

/// Per slot: the live registers whose current value may still decide a safety check on some path.
/// Pruning may treat two scalars in any other register as equal. A conditional jump's operands
/// count only where `decided_branches[pc]` is set: a branch whose direction was never decided by a
/// value explores both sides whatever the value is.
std::vector<RegMask> precise_registers(const vm::Program& program, const Cfg& cfg,
                                       const std::vector<std::uint8_t>& decided_branches);

}  // namespace bpfvm::verifier
