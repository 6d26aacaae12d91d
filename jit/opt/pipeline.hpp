// The optimizing tier's target-independent front: lowering to SSA, then the enabled passes. A
// backend (x86_64/opt_emitter.hpp) allocates registers and selects instructions from the result.
#pragma once

#include "bpfvm/result.hpp"
#include "jit/native_code.hpp"
#include "jit/opt/ir.hpp"
#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

/// The optimized IR of req.program, or Unsupported (one line naming the instruction) when the tier
/// does not handle something in it yet.
Result<Function> build_optimized(const CompileRequest& req, const PassSet& passes);
/// root_pc: the function of a callback's subprogram (lower_to_ssa).
Result<Function> build_optimized(const CompileRequest& req, const PassSet& passes, const VerifierFacts& facts,
                                 std::uint32_t root_pc = 0);

}  // namespace bpfvm::jit::opt
