// Static precision marks for pruning (see precision.cpp for the argument).
#pragma once

#include <vector>

#include "verifier/cfg.hpp"

namespace bpfvm::verifier {

/// Per slot: the live registers whose current value may still decide a safety check on some path.
/// Pruning may treat two scalars in any other register as equal.
std::vector<RegMask> precise_registers(const vm::Program& program, const Cfg& cfg);

}  // namespace bpfvm::verifier
