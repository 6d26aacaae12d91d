// The optimizing tier's front: lower_to_ssa, then optimize().
#include "jit/opt/pipeline.hpp"

#include "jit/opt/lower.hpp"

namespace bpfvm::jit::opt {

Result<Function> build_optimized(const CompileRequest& req, const PassSet& passes) {
  auto fn = lower_to_ssa(req);
  if (!fn) return std::move(fn).error();
  optimize(*fn, passes);
  return fn;
}

}  // namespace bpfvm::jit::opt
