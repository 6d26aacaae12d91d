// Upper bounds of the native bytes X86Emitter emits per eBPF instruction, so a forward jump can be
// emitted as rel8 when everything it jumps over provably fits in 127 bytes (the kernel gets there
// by re-running its JIT until sizes settle; one pass with bounds costs nothing extra).
#pragma once

#include <cstdint>
#include <vector>

#include "jit/native_code.hpp"
#include "vm/program.hpp"

namespace bpfvm::jit::x86_64 {

/// At least as many bytes as the emitter writes for the instruction at pc, in this variant, with
/// or without blinding, on any CPU (BMI2 or not), with every forward jump in rel32 form; not
/// counting the alignment padding after it when the next pc is a loop head. 0 for the second slot
/// of an lddw. tests/jit/test_jit_short_jumps.cpp checks it on every conformance
/// program and on random programs in every configuration.
std::uint32_t max_native_bytes(const vm::Program& program, std::size_t pc, Variant variant, bool blind_constants);

/// Both tiers start a loop head on a 32-byte boundary, so a loop of up to 32 bytes sits in one
/// 64-byte line of the instruction fetch and op cache: at 16, load_word32's 19-byte loop began at 48
/// mod 64 and ran at about 2 cycles per iteration on AMD EPYC where the kernel's copy of the same
/// bytes ran at about 1 (1.54x the kernel's time on both tiers).
inline constexpr std::uint32_t kLoopAlignBytes = 32;
/// Most bytes of padding the emitter puts before a loop head to align it.
inline constexpr std::uint32_t kLoopHeadPadding = kLoopAlignBytes - 1;

/// Per pc: the target of a backward jump, other than pc 0 (a loop head, which the emitter aligns to
/// kLoopAlignBytes with padding after the instruction before it).
std::vector<bool> loop_heads(const vm::Program& program);

/// Prefix sums of max_native_bytes plus kLoopHeadPadding before each loop head, with every forward
/// jump that these sums prove short counted as rel8 (repeated while that proves more): entry pc bounds the distance from the start of
/// instruction 0 to the start of instruction pc when the emitter makes exactly the jumps short
/// whose span the returned sums bound by 127 bytes; size() == program.size() + 1.
std::vector<std::uint32_t> native_offset_bounds(const vm::Program& program, Variant variant, bool blind_constants);

}  // namespace bpfvm::jit::x86_64
