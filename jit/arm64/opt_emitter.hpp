// The optimizing tier's AArch64 backend: register allocation with AArch64's register file, then
// instruction selection for each SSA instruction (jit/opt/ for the IR and its passes).
#pragma once

#include <span>

#include "bpfvm/result.hpp"
#include "jit/native_code.hpp"
#include "jit/opt/ir.hpp"

namespace bpfvm::jit::arm64 {

/// Machine code for optimized functions, with the baseline's entry contract: `int entry(JitState*)`
/// at offset 0, r0 stored to JitState::r0, 1 returned after a helper fault. functions[0] is the
/// program (root pc 0; every BPF-to-BPF call inlined), the others callbacks' subprograms
/// (Function::root_pc, what Op::FuncAddr names); with callbacks, offset 0 jumps to JitState::entry.
/// Unsupported: constant blinding, more than 4,000 spill slots per function.
Result<NativeCode> compile_optimized(std::span<opt::Function> functions, const CompileRequest& req);

}  // namespace bpfvm::jit::arm64
