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

/// SSA form of req.program from root_pc (pc 0, or a callback's subprogram: a function of its own
/// whose exit returns), maximal phis, then trivial ones removed. A callx compares its value with
/// every subprogram callback_roots names (each inlined as a local call there), else calls the helper
/// it names; after bpf_tail_call (or a callx by id) a TailCall may return from the current function.
/// Unsupported: calls (local or callx) nested past isa::kMaxCallFrames, programs past the bounds above.
Result<Function> lower_to_ssa(const CompileRequest& req, std::uint32_t root_pc = 0);

/// The subprograms an lddw_func names (callbacks), sorted: each is compiled as a function of its own.
std::vector<std::uint32_t> callback_roots(const vm::Program& program);

}  // namespace bpfvm::jit::opt
