// What the verifier proved about the stack bytes one instruction may touch, per pc
// (verifier::VerifiedProgram::stack_ranges; the optimizing tier's VerifierFacts carry it).
#pragma once

#include <algorithm>
#include <cstdint>

namespace bpfvm::vm {

struct StackRange {
  enum class Kind : std::uint8_t {
    None,     // touches no stack byte on any path (or never runs)
    Range,    // touches only bytes [lo, hi) of one frame, `frames_up` frames above its own
    Unknown,  // may touch stack bytes the verifier does not bound here (a helper given a stack pointer,
              // pointers into two frames, a global function's body)
  };
  Kind kind = Kind::None;
  std::uint8_t frames_up = 0;  // Range: 0 = the instruction's own frame, 1 = its caller's, ...
  std::int16_t lo = 0, hi = 0; // Range: byte offsets from that frame's r10, hi exclusive

  static StackRange unknown() { return StackRange{Kind::Unknown}; }
  static StackRange bytes(std::uint8_t frames_up, std::int16_t lo, std::int16_t hi) {
    return StackRange{Kind::Range, frames_up, lo, hi};
  }
  /// What either of the two allows (one frame's ranges merge; two frames make it Unknown).
  void join(const StackRange& o) {
    if (o.kind == Kind::None || kind == Kind::Unknown) return;
    if (kind == Kind::None || o.kind == Kind::Unknown) {
      *this = o;
      return;
    }
    if (frames_up != o.frames_up) {
      *this = unknown();
      return;
    }
    lo = std::min(lo, o.lo);
    hi = std::max(hi, o.hi);
  }
  friend bool operator==(const StackRange&, const StackRange&) = default;
};

}  // namespace bpfvm::vm
