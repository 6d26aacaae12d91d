// Diagnostics: the only place that turns verifier facts (violations, states, stats) into text.
#pragma once

#include <string>

#include "verifier/checks.hpp"
#include "verifier/state.hpp"
#include "verifier/transfer.hpp"
#include "verifier/verifier.hpp"

namespace bpfvm::verifier {

/// "scalar(umin=0,umax=255)", "map_value_or_null(map=0,id=3,off=0)", "fp-8", ...
std::string describe_reg(const RegValue& v);
/// Every initialised register and stack slot of every frame, kernel-log style.
std::string describe_state(const State& s);
/// The one-line reason of a rejection, with the involved registers' states and the source line.
std::string violation_message(const vm::Program& program, const VerifierOptions& options, const Violation& v,
                              const State* state);
std::string warning_message(const WarningFact& w);

/// Log lines (each ends in '\n').
std::string log_insn(const vm::Program& program, std::uint32_t pc, const State* state);
std::string log_branch(std::uint32_t from, std::uint32_t to, const State& s);
std::string log_pruned(std::uint32_t pc);
std::string log_summary(const VerifierStats& stats, bool accepted);

}  // namespace bpfvm::verifier
