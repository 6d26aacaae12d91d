// The run-time errors every engine reports, built in one place so interpreter and JITs agree to the letter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bpfvm/result.hpp"

namespace bpfvm::vm {

/// Checked mode: a load/store (or atomic) touched memory outside every region the run allows.
Error memory_fault_error(std::uint32_t pc, std::uint64_t addr, unsigned size_bytes, bool write);
/// The run executed budget_insns instructions and was about to execute another at pc.
Error budget_error(std::uint32_t pc, std::uint64_t budget_insns);
/// A call at pc would nest deeper than isa::kMaxCallFrames frames (more after tail calls, up to isa::kMaxRunFrames).
Error call_depth_error(std::uint32_t pc);
/// A helper at pc set RunContext::helper_fault.
Error helper_fault_error(std::uint32_t pc, const std::string& helper_name, const std::string& fault);
/// Preparing an LD_ABS/LD_IND at pc with a registry that has no packet-load entry (compile time).
Error no_packet_load_error(std::uint32_t pc, std::string_view mnemonic);
/// callx at pc named a value that is neither a subprogram of this program nor a registered helper.
Error callx_target_error(std::uint32_t pc, std::uint64_t target);
/// bpf_tail_call at pc chose a prog_array slot whose program was not prepared for the running engine.
Error tail_call_target_error(std::uint32_t pc);
/// A helper asked to call back into a value that is no subprogram of the running program.
Error callback_target_error();

}  // namespace bpfvm::vm
