// Where each BPF register lives on x86-64, and which host registers the emitter keeps for itself.
#pragma once

#include <array>
#include <cstdint>

#include "vm/isa.hpp"

namespace bpfvm::jit::x86_64 {

/// x86-64 general-purpose register numbers (the ModRM/REX encoding, as asmjit numbers them).
enum class HostReg : std::uint8_t {
  Rax = 0, Rcx = 1, Rdx = 2, Rbx = 3, Rsp = 4, Rbp = 5, Rsi = 6, Rdi = 7,
  R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15,
};

// Rows are BPF r0..r10. r1–r5 sit in SysV argument registers, so helper calls need no moves;
// r6–r9 go to callee-saved registers, so they survive calls into C++.
inline constexpr std::array<HostReg, isa::kNumRegs> kRegMap = {
    HostReg::Rax,  // r0: return value, and a helper's rax result lands in it directly
    HostReg::Rdi,  // r1: SysV argument 1
    HostReg::Rsi,  // r2: SysV argument 2
    HostReg::Rdx,  // r3: SysV argument 3 (div/idiv clobber it: saved around them)
    HostReg::Rcx,  // r4: SysV argument 4 (variable shifts need cl: saved around them)
    HostReg::R8,   // r5: SysV argument 5
    HostReg::Rbx,  // r6: callee-saved
    HostReg::R13,  // r7: callee-saved
    HostReg::R14,  // r8: callee-saved
    HostReg::R15,  // r9: callee-saved
    HostReg::Rbp,  // r10: callee-saved, read-only frame pointer
};

/// Base of the per-run JitState (jit/runtime.hpp); callee-saved, so C++ thunks keep it.
inline constexpr HostReg kStateReg = HostReg::R12;
/// Scratch registers no BPF register lives in. r9 is also SysV argument 6 (the RunContext*/state
/// argument of helper thunks), loaded right before each call.
inline constexpr HostReg kScratchA = HostReg::R10;  // addresses, blinded immediates
inline constexpr HostReg kScratchB = HostReg::R11;  // check temporaries, divisors, shift counts
inline constexpr HostReg kScratchC = HostReg::R9;   // saved rdx / rax across div and cmpxchg loops

constexpr std::uint32_t host_id(HostReg r) { return static_cast<std::uint32_t>(r); }
constexpr std::uint32_t host_id_of_bpf(unsigned bpf_reg) { return host_id(kRegMap[bpf_reg]); }

namespace detail {
constexpr bool regs_distinct() {
  for (std::size_t i = 0; i < kRegMap.size(); ++i) {
    for (std::size_t j = i + 1; j < kRegMap.size(); ++j)
      if (kRegMap[i] == kRegMap[j]) return false;
    for (HostReg reserved : {HostReg::Rsp, kStateReg, kScratchA, kScratchB, kScratchC})
      if (kRegMap[i] == reserved) return false;
  }
  return true;
}
}  // namespace detail
static_assert(detail::regs_distinct(), "each BPF register needs its own host register");

}  // namespace bpfvm::jit::x86_64
