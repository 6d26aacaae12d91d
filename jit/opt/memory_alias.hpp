// Which memory accesses of the optimizing tier's IR may touch the same bytes (memory_alias.cpp):
// what load reuse in cse.cpp asks before it lets a later load take an earlier load's (or store's)
// value.
#pragma once

#include <cstdint>
#include <vector>

#include "jit/opt/ir.hpp"
#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

/// The base and the constant `v` adds to it, when v is a live 64-bit add/sub of a constant
/// (address_folding.cpp).
bool split_constant(const Function& fn, ValueId v, ValueId& base, std::int64_t& delta);

/// The largest displacement, either way, that passes put into a Load/Store/Atomic (address folding,
/// load combining): well inside 32 bits, so a backend may add its own frame offset to one.
constexpr std::int64_t kMaxFoldedDisp = INT32_MAX / 2;

/// May-alias questions about one function's loads, stores, atomics and calls. Addresses are reduced
/// to a root and a constant (add/sub-constant chains); frames are told apart by FramePtr depth (frame
/// d starts 512 * d bytes below the entry's r10), and a frame whose address never escapes (every
/// address into it only loaded or stored through) is out of reach of any other pointer and of
/// helpers when the verifier proved pointers stay in their frame.
class MemoryAlias {
 public:
  MemoryAlias(const Function& fn, const VerifierFacts& facts);

  /// True when `effect` (a Store, Atomic, Call, TailCall or Frames; anything else has no effect on
  /// memory) may change a byte the Load or Store `access` reads or writes.
  bool may_clobber(ValueId effect, ValueId access) const;
  /// True when a memory effect on some path from `from` (exclusive) to `to` (exclusive) may change
  /// what `to` reads; `from` dominates `to`. Gives up (true) past a bounded search.
  bool clobbered_between(ValueId from, ValueId to) const;

 private:
  struct Address {
    ValueId root = kNoValue;
    std::int64_t off = 0;
    ValueId index = kNoValue;
    std::uint8_t scale = 0;
  };
  Address address(const Inst& access) const;
  /// Frame depth of a FramePtr root that does not escape, or -1.
  int private_frame(ValueId root) const;
  bool is_frame(ValueId root) const { return fn_.values[root].op == Op::FramePtr; }

  const Function& fn_;
  bool in_frame_;
  std::vector<bool> escaped_;  // by FramePtr depth
};

}  // namespace bpfvm::jit::opt
