// SSA construction's join, shared by lowering (lower.cpp) and stack-slot promotion
// (promote_stack.cpp): both rename variables block by block in an order where a block's forward
// predecessors come first.
#pragma once

#include <algorithm>
#include <vector>

#include "jit/opt/ir.hpp"

namespace bpfvm::jit::opt {

/// The variables' values on entry to a block all of whose predecessors are renamed: per variable,
/// the value every predecessor leaves, or a phi over them (`make_phi(args)`, args in `preds`
/// order) where they differ. Loop heads, whose back edges are not renamed yet, need a phi per
/// variable instead (filled later), so this is for the other joins only.
/// `exit_env[p][v]`: variable v's value on the exit of block p (a vector per block, or rows of one array).
template <class ExitEnvs, class MakePhi>
std::vector<ValueId> join_predecessors(const std::vector<BlockId>& preds, const ExitEnvs& exit_env, std::size_t nvars,
                                       MakePhi&& make_phi) {
  std::vector<ValueId> env(nvars);
  for (std::size_t v = 0; v < nvars; ++v) {
    const ValueId first = exit_env[preds[0]][v];
    if (std::all_of(preds.begin() + 1, preds.end(), [&](BlockId p) { return exit_env[p][v] == first; })) {
      env[v] = first;
      continue;
    }
    std::vector<ValueId> args;
    args.reserve(preds.size());
    for (auto p : preds) args.push_back(exit_env[p][v]);
    env[v] = make_phi(std::move(args));
  }
  return env;
}

}  // namespace bpfvm::jit::opt
