// TailCallTarget: what a prog_array slot points at — one program prepared for each engine that may
// tail-call into it.
#pragma once

#include <atomic>

namespace bpfvm::vm {

class Interpreter;

/// The embedder (api/) owns one per program a prog_array names and stores its address in the
/// slot; bpf_tail_call hands it to the engine through RunContext::tail_call_target and each engine
/// takes its own field. A slot may be filled for one engine and later for the other while runs
/// read it, hence the atomics. A null field means "not prepared for this engine": the engine
/// reports an error at the tail call rather than misreading another engine's program.
struct TailCallTarget {
  std::atomic<const Interpreter*> interpreter{nullptr};
  std::atomic<const void*> jit{nullptr};  // a jit::JitProgram (vm/ knows nothing of jit/)
};

}  // namespace bpfvm::vm
