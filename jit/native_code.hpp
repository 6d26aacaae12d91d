// What a backend receives (a prepared program and the variant to build) and what it returns
// (position-independent machine code plus the offsets the runtime needs). Arch-neutral.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vm/helper_registry.hpp"
#include "vm/program.hpp"

namespace bpfvm::jit {

/// The three builds of one program. Checked implies counting.
enum class Variant : std::uint8_t {
  Fast,     // unchecked, no instruction budget
  Counted,  // unchecked memory, exact instruction budget
  Checked,  // every load/store/atomic checked, exact instruction budget
};
inline constexpr std::size_t kNumVariants = 3;

struct ProgramCode;  // jit/runtime.hpp

/// How the x86-64 backend encodes a forward jump between eBPF instructions (arm64 ignores it: its
/// conditional branches reach ±1 MiB in one fixed-size encoding).
enum class ForwardJumps : std::uint8_t {
  Sized,     // rel8 where the size bounds prove it reaches, rel32 elsewhere (the default)
  AllNear,   // rel32 everywhere: what compile() rebuilds with if asmjit finds a rel8 too short
  AllShort,  // rel8 everywhere; tests only, to drive long jumps into that rebuild
};

struct CompileRequest {
  const vm::Program* program = nullptr;
  std::span<const std::uint64_t> lddw_values;        // per pc: value of a non-func lddw, resolved
  std::span<const vm::HelperEntry* const> helpers;   // per pc: helper of a `call` by id, or the
                                                     // registry's packet-load entry of an LD_ABS/LD_IND
  Variant variant = Variant::Fast;
  bool blind_constants = false;
  std::uint64_t blinding_seed = 0;
  bool baseline_isa_only = false;  // JitOptions::baseline_isa_only
  bool zero_stack = false;         // JitOptions::zero_stack (code that keeps its own frames clears them)
  ForwardJumps forward_jumps = ForwardJumps::Sized;
  std::string* listing = nullptr;  // non-null: append an annotated native listing here
  /// Where this build's ProgramCode will live (its address is baked into the code: after a local
  /// call returns, the caller's program becomes the running one again, see JitState::code).
  const ProgramCode* program_code = nullptr;
};

/// BPF_FUNC_tail_call: after this helper the code must look for a tail-call target.
inline constexpr std::uint32_t kTailCallHelper = 12;

/// True when the `call` at pc names bpf_tail_call.
inline bool calls_tail_call(const CompileRequest& req, std::uint32_t pc) {
  return !req.helpers.empty() && req.helpers[pc] != nullptr && req.helpers[pc]->id == kTailCallHelper;
}

struct NativeCode {
  std::vector<std::uint8_t> bytes;           // position independent; entry at offset 0
  std::vector<std::uint32_t> pc_offsets;     // native offset of each pc (second lddw slot: 0)
  std::vector<std::uint32_t> func_offsets;   // native offsets lddw_func can produce, sorted
  bool rebuilt_with_near_jumps = false;      // a rel8 jump did not reach: built again, all rel32
};

}  // namespace bpfvm::jit
