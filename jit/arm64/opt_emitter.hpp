// The optimizing tier's AArch64 backend: register allocation with AArch64's register file, then
// instruction selection for each SSA instruction (jit/opt/ for the IR and its passes).
#pragma once

#include "bpfvm/result.hpp"
#include "jit/native_code.hpp"
#include "jit/opt/ir.hpp"

namespace bpfvm::jit::arm64 {

/// Machine code for an optimized function, with the baseline's entry contract: `int entry(JitState*)`
/// at offset 0, r0 stored to JitState::r0, 1 returned after a helper fault. The whole program is one
/// native function (every BPF-to-BPF call was inlined). Unsupported: the Fast variant only, no
/// constant blinding, at most 4,000 spill slots.
Result<NativeCode> compile_optimized(opt::Function& fn, const CompileRequest& req);

}  // namespace bpfvm::jit::arm64
