// The optimizing tier's front: lower_to_ssa, then optimize().
#include "jit/opt/pipeline.hpp"

#include "jit/opt/lower.hpp"
#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

Result<Function> build_optimized(const CompileRequest& req, const PassSet& passes) {
  return build_optimized(req, passes, VerifierFacts{});
}

Result<Function> build_optimized(const CompileRequest& req, const PassSet& passes, const VerifierFacts& facts,
                                 std::uint32_t root_pc) {
  auto fn = lower_to_ssa(req, root_pc);
  if (!fn) return std::move(fn).error();
  optimize(*fn, passes, facts);
  // Checked builds: loads proven safe may go now, like the fast build's.
  if (drop_proven_checks(*fn) != 0 && passes.dce) eliminate_dead_code(*fn);
  return fn;
}

}  // namespace bpfvm::jit::opt
