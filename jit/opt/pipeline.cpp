// The optimizing tier's front: lower_to_ssa, then optimize().
#include "jit/opt/pipeline.hpp"

#include "jit/opt/lower.hpp"

namespace bpfvm::jit::opt {

Result<Function> build_optimized(const CompileRequest& req, const PassSet& passes) {
  return build_optimized(req, passes, VerifierFacts{});
}

Result<Function> build_optimized(const CompileRequest& req, const PassSet& passes, const VerifierFacts& facts) {
  auto fn = lower_to_ssa(req);
  if (!fn) return std::move(fn).error();
  optimize(*fn, passes, facts);
  return fn;
}

}  // namespace bpfvm::jit::opt
