// The abstract state: per call frame the registers and stack, plus facts shared by all frames
// (verified packet length, held references). Copied at every branch, so it stays small.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "verifier/domains/reg_value.hpp"
#include "verifier/domains/stack_slots.hpp"
#include "vm/isa.hpp"

namespace bpfvm::verifier {

/// No packet is longer than this (the kernel's MAX_PACKET_OFF): ranges learned past it are ignored.
inline constexpr std::int64_t kMaxPacketOff = 0xffff;

/// Bit r set = register r is read before written on some path from a pc.
using RegMask = std::uint16_t;

namespace reg_mask {
constexpr RegMask bit(int r) { return static_cast<RegMask>(1u << r); }
constexpr RegMask kArgs = bit(1) | bit(2) | bit(3) | bit(4) | bit(5);  // r1-r5: call arguments
constexpr RegMask kCallerSaved = bit(0) | kArgs;                        // what a call writes
}  // namespace reg_mask

/// What a comparison of states looks at: live registers, and among them the precise ones (a live
/// register outside `precise` matches any scalar when both sides hold a scalar); likewise the
/// stack slots holding a spilled scalar on both sides (bit s = slot s, see StackSlots).
struct RegsCompared {
  RegMask live = 0xffff;
  RegMask precise = 0xffff;
  std::uint64_t precise_slots = ~std::uint64_t{0};
};

struct Frame {
  std::array<RegValue, isa::kNumRegs> regs;
  StackSlots stack;
  std::uint32_t callsite = 0;   // insn that created the frame (unused for frame 0)
  std::uint32_t entry_pc = 0;   // first insn of the function this frame runs
  bool callback = false;        // called by a helper (bpf_loop): exit returns into the helper
  RegValue callback_index;      // callback frames: r1 and r2 at entry, for the next iteration
  RegValue callback_ctx;

  bool leq(const Frame& old, RegsCompared regs, IdMap& ids) const;
  friend bool operator==(const Frame&, const Frame&) = default;
};

/// The bpf_spin_lock a path holds (the kernel's active_lock): at most one, named by the map value
/// pointer it was taken through (map index and pointer id) — bpf_spin_unlock must name the same one.
struct HeldSpinLock {
  bool held = false;
  std::uint32_t map = 0;
  std::uint32_t id = 0;
  friend bool operator==(const HeldSpinLock&, const HeldSpinLock&) = default;
};

struct State {
  std::vector<Frame> frames;
  HeldSpinLock lock;
  std::uint32_t packet_bytes = 0;  // data + packet_bytes <= data_end has been checked
  std::uint32_t meta_bytes = 0;    // data_meta + meta_bytes <= data has been checked
  std::vector<std::uint32_t> refs; // ring buffer reservations not yet submitted or discarded
  /// (packet pointer id, n): a pointer with that id and constant part 0 has n bytes before its end.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> packet_ranges;

  std::uint32_t packet_range(std::uint32_t id) const {
    for (const auto& [i, n] : packet_ranges)
      if (i == id) return n;
    return 0;
  }
  void learn_packet_range(std::uint32_t id, std::uint32_t n) {
    for (auto& [i, m] : packet_ranges)
      if (i == id) {
        if (n > m) m = n;
        return;
      }
    packet_ranges.emplace_back(id, n);
  }

  Frame& top() { return frames.back(); }
  const Frame& top() const { return frames.back(); }
  RegValue& reg(int r) { return frames.back().regs[static_cast<std::size_t>(r)]; }
  const RegValue& reg(int r) const { return frames.back().regs[static_cast<std::size_t>(r)]; }

  /// Every concrete state *this describes, old describes too, as far as the registers
  /// `compared(frame)` names matter.
  template <class ComparedFn>
  bool leq(const State& old, ComparedFn compared) const {
    if (frames.size() != old.frames.size()) return false;
    if (packet_bytes < old.packet_bytes || meta_bytes < old.meta_bytes) return false;
    if (refs.size() != old.refs.size()) return false;
    // States of other call chains differ here: a cheap test before comparing any frame's content.
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const auto& f = frames[i];
      const auto& o = old.frames[i];
      if (f.callsite != o.callsite || f.entry_pc != o.entry_pc || f.callback != o.callback) return false;
    }
    // The innermost frame first: it is where states of one call chain usually differ (callers'
    // frames are often equal), so a mismatch is found before comparing them.
    IdMap ids;
    for (std::size_t i = frames.size(); i-- > 0;)
      if (!frames[i].leq(old.frames[i], compared(i), ids)) return false;
    for (std::size_t i = 0; i < refs.size(); ++i)
      if (!ids.pair(old.refs[i] | IdMap::kRefTag, refs[i] | IdMap::kRefTag)) return false;
    if (lock.held != old.lock.held || lock.map != old.lock.map) return false;
    if (lock.held && !ids.pair(old.lock.id, lock.id)) return false;
    for (const auto& [old_id, n] : old.packet_ranges) {
      const std::uint32_t cur = ids.cur_of(old_id | IdMap::kPacketTag);
      if (cur != 0 && packet_range(cur & ~IdMap::kPacketTag) < n) return false;
    }
    return true;
  }
  friend bool operator==(const State&, const State&) = default;
};

inline bool Frame::leq(const Frame& old, RegsCompared compared, IdMap& ids) const {
  for (int r = 0; r < isa::kNumRegs; ++r) {
    if (!(compared.live & (1u << r))) continue;
    const RegValue& cur = regs[static_cast<std::size_t>(r)];
    const RegValue& was = old.regs[static_cast<std::size_t>(r)];
    if (!(compared.precise & (1u << r)) && cur.is_scalar() && was.is_scalar()) continue;
    if (!cur.leq(was, ids)) return false;
  }
  return stack.leq(old.stack, ids, compared.precise_slots);
}

}  // namespace bpfvm::verifier
