// Precision marks of one point on a path: per call frame, the registers and the spilled stack
// slots whose exact abstract value some check relies on (kernel: reg->precise, and the
// per-frame stack mask of backtrack_state).
#pragma once

#include <array>
#include <cstdint>

#include "verifier/state.hpp"

namespace bpfvm::verifier {

/// One register mask per call frame (index = frame number, 0 = the main program's).
using FrameRegMasks = std::array<RegMask, isa::kMaxCallFrames>;
/// One slot mask per call frame: bit s = the 8-byte slot at fp-512+8s (StackSlots::slot_of).
using FrameSlotMasks = std::array<std::uint64_t, isa::kMaxCallFrames>;

struct PreciseMarks {
  FrameRegMasks regs{};
  FrameSlotMasks slots{};

  bool empty() const {
    for (std::size_t f = 0; f < regs.size(); ++f)
      if (regs[f] != 0 || slots[f] != 0) return false;
    return true;
  }
  bool intersects(const PreciseMarks& o) const {
    for (std::size_t f = 0; f < regs.size(); ++f)
      if ((regs[f] & o.regs[f]) != 0 || (slots[f] & o.slots[f]) != 0) return true;
    return false;
  }
  /// Adds o's marks; true when one was new.
  bool add(const PreciseMarks& o) {
    bool added = false;
    for (std::size_t f = 0; f < regs.size(); ++f) {
      if ((o.regs[f] & ~regs[f]) != 0 || (o.slots[f] & ~slots[f]) != 0) added = true;
      regs[f] |= o.regs[f];
      slots[f] |= o.slots[f];
    }
    return added;
  }
  void mark_all() {
    regs.fill(0xffff);
    slots.fill(~std::uint64_t{0});
  }
  friend bool operator==(const PreciseMarks&, const PreciseMarks&) = default;
};

}  // namespace bpfvm::verifier
