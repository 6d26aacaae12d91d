// Where each BPF register lives on AArch64, and which host registers the emitter keeps for itself.
#pragma once

#include <array>
#include <cstdint>

#include "vm/isa.hpp"

namespace bpfvm::jit::arm64 {

/// AArch64 general-purpose register numbers as the encodings (and asmjit) number them. 31 is SP or
/// XZR depending on the instruction; the emitter names those explicitly and never maps BPF to 31.
enum class HostReg : std::uint8_t {
  X0 = 0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15, X16, X17, X18,
  X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30,
};

// Rows are BPF r0..r10. r1–r5 sit in AAPCS64 argument registers x0–x4, so helper calls need no
// moves; r6–r9 go to callee-saved x19–x22, so they survive calls into C++.
inline constexpr std::array<HostReg, isa::kNumRegs> kRegMap = {
    HostReg::X7,   // r0: an argument register helpers never receive (5 args + JitState in x5);
                   //     the helper stub moves the x0 result here
    HostReg::X0,   // r1: AAPCS64 argument 1
    HostReg::X1,   // r2: AAPCS64 argument 2
    HostReg::X2,   // r3: AAPCS64 argument 3
    HostReg::X3,   // r4: AAPCS64 argument 4
    HostReg::X4,   // r5: AAPCS64 argument 5
    HostReg::X19,  // r6: callee-saved
    HostReg::X20,  // r7: callee-saved
    HostReg::X21,  // r8: callee-saved
    HostReg::X22,  // r9: callee-saved
    HostReg::X25,  // r10: callee-saved, read-only frame pointer. Not x29: x29 stays a real frame
                   //      pointer (the trampoline builds a frame record), so unwinders keep working
};

/// Base of the per-run JitState (jit/runtime.hpp); callee-saved, so C++ thunks keep it.
inline constexpr HostReg kStateReg = HostReg::X26;
/// Instructions the run may still execute (counting variants); callee-saved, written back to
/// JitState::budget_left whenever the run leaves generated code.
inline constexpr HostReg kBudgetReg = HostReg::X27;
/// Scratch registers no BPF register lives in (all AAPCS64 temporaries, clobbered by C++ calls).
inline constexpr HostReg kScratchAddr = HostReg::X9;     // checked/atomic addresses, callx value
inline constexpr HostReg kScratchValue = HostReg::X10;   // immediates as operands, access info, callx pc
inline constexpr HostReg kScratchOffset = HostReg::X11;  // large memory offsets, quotients
inline constexpr HostReg kScratchKey = HostReg::X12;     // constant-blinding keys
inline constexpr HostReg kScratchLoop = HostReg::X13;    // exclusive-loop values
inline constexpr HostReg kScratchStatus = HostReg::X14;  // exclusive-store status
inline constexpr HostReg kScratchTarget = HostReg::X15;  // callx native target
inline constexpr HostReg kScratchIp0 = HostReg::X16;     // C++ call targets, stack mirror
inline constexpr HostReg kScratchIp1 = HostReg::X17;     // stack mirror

constexpr std::uint32_t host_id(HostReg r) { return static_cast<std::uint32_t>(r); }
constexpr std::uint32_t host_id_of_bpf(unsigned bpf_reg) { return host_id(kRegMap[bpf_reg]); }

namespace detail {
constexpr bool regs_distinct() {
  for (std::size_t i = 0; i < kRegMap.size(); ++i) {
    for (std::size_t j = i + 1; j < kRegMap.size(); ++j)
      if (kRegMap[i] == kRegMap[j]) return false;
    for (HostReg reserved : {kStateReg, kBudgetReg, kScratchAddr, kScratchValue, kScratchOffset,
                             kScratchKey, kScratchLoop, kScratchStatus, kScratchTarget, kScratchIp0,
                             kScratchIp1, HostReg::X5, HostReg::X18, HostReg::X29, HostReg::X30})
      if (kRegMap[i] == reserved) return false;
  }
  return true;
}
}  // namespace detail
static_assert(detail::regs_distinct(), "each BPF register needs its own host register");

}  // namespace bpfvm::jit::arm64
