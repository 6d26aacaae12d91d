// Lowering a prepared program (the baseline JIT's CompileRequest) into the SSA IR, inlining every
// BPF-to-BPF call; refuses (Errc::Unsupported, one line) what the tier does not handle yet.
#pragma once

#include "bpfvm/result.hpp"
#include "jit/native_code.hpp"
#include "jit/opt/ir.hpp"

namespace bpfvm::jit::opt {

/// Bounds on inlining: a program whose flattened size passes them stays on the baseline tier.
inline constexpr std::size_t kMaxFlatInsns = 1u << 16;
inline constexpr std::size_t kMaxInstances = 256;

/// SSA form of req.program (maximal phis, then trivial ones removed). Unsupported: callx, lddw of a subprogram (callbacks), LD_ABS/LD_IND, bpf_tail_call, calls nested past
/// isa::kMaxCallFrames, programs past the bounds above.
Result<Function> lower_to_ssa(const CompileRequest& req);

}  // namespace bpfvm::jit::opt
