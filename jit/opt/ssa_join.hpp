// SSA construction's join, shared by lowering (lower.cpp) and stack-slot promotion
// (promote_stack.cpp): both rename variables block by block in an order where a block's forward
// predecessors come first.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "jit/opt/ir.hpp"

namespace bpfvm::jit::opt {

/// Per block, the variables' values on its exit: one row of `nvars` per block in one array (no
/// vector per block).
class ExitEnvs {
 public:
  void assign(std::size_t nblocks, std::size_t nvars) {
    nvars_ = nvars;
    values_.assign(nblocks * nvars, kNoValue);
  }
  ValueId* operator[](std::size_t b) { return values_.data() + b * nvars_; }
  const ValueId* operator[](std::size_t b) const { return values_.data() + b * nvars_; }

 private:
  std::vector<ValueId> values_;
  std::size_t nvars_ = 0;
};

/// The variables' values on entry to a block all of whose predecessors are renamed: per variable,
/// the value every predecessor leaves, or a phi over them (`make_phi(args)`, args in `preds`
/// order) where they differ. Loop heads, whose back edges are not renamed yet, need a phi per
/// variable instead (filled later), so this is for the other joins only.
template <class MakePhi>
std::vector<ValueId> join_predecessors(std::span<const BlockId> preds, const ExitEnvs& exit_env, std::size_t nvars,
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
