// Static control-flow facts computed before abstract interpretation: subprogram bounds,
// reachability, back-edges, prune points and register liveness.
#pragma once

#include <cstdint>
#include <vector>

#include "verifier/checks.hpp"
#include "verifier/state.hpp"
#include "vm/program.hpp"

namespace bpfvm::verifier {

struct Cfg {
  std::vector<std::uint32_t> subprog_starts;  // sorted; [0] == 0
  std::vector<std::uint8_t> prune_point;      // per slot: store states here
  std::vector<std::uint8_t> loop_head;        // per slot: target of a back-edge
  std::vector<RegMask> live_in;               // per slot: registers read before written from here
  std::vector<RegMask> precise_in;            // per slot: live registers whose value matters (precision.hpp)
  std::vector<std::vector<std::uint32_t>> successors;  // intra-procedural (calls fall through)

  /// First insn of the subprogram holding pc.
  std::uint32_t subprog_of(std::uint32_t pc) const;
};

/// Builds the CFG, or the first structural violation (unreachable insn, jump out of a function,
/// function falling through, back-edge when `allow_loops` is false).
Check build_cfg(const vm::Program& program, bool allow_loops, Cfg& out);

}  // namespace bpfvm::verifier
