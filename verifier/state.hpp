// The abstract state: per call frame the registers and stack, plus facts shared by all frames
// (verified packet length, held references). Copied at every branch, so it stays small.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
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
  bool callback = false;        // called by a helper (bpf_loop, for_each_map_elem): exit returns into the helper
  bool async_callback = false;  // a bpf_timer callback: runs later on its own, so its exit ends the path
  std::array<RegValue, 4> callback_args;  // callback frames: r1..r4 at entry, for the next iteration
  // Callback frames: calls of this callback before this one on the path (the kernel's
  // callback_unroll_depth). Two states of different calls are not one loop: the helper bounds them.
  std::uint32_t callback_iteration = 0;

  bool leq(const Frame& old, RegsCompared regs, IdMap& ids) const;
  friend bool operator==(const Frame&, const Frame&) = default;
};

/// A state's call frames, the main program's first. Frames are shared between the states a branch,
/// a stored state or a queued path copied them into: copying a FrameStack copies at most
/// kMaxCallFrames pointers, and the first access to a frame through a non-const FrameStack (or
/// State) gives this stack its own copy of that frame if another stack shares it (copy on write).
/// So read frames through a const reference where nothing is written: a non-const read copies a
/// shared frame for nothing. A reference to a frame stays valid until the frame is popped or the
/// stack is destroyed; a non-const one must not be held across a copy of the stack (the copy would
/// share the frame the reference then writes).
class FrameStack {
 public:
  /// Reads the frames in order (range-for never writes: index a non-const stack to write a frame).
  class Iterator {
   public:
    using value_type = Frame;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const FrameStack* stack, std::size_t i) : stack_(stack), i_(i) {}
    const Frame& operator*() const { return (*stack_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++i_;
      return old;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.i_ == b.i_; }

   private:
    const FrameStack* stack_ = nullptr;
    std::size_t i_ = 0;
  };

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Frame& operator[](std::size_t i) const { return *frames_[i]; }
  Frame& operator[](std::size_t i) { return own(i); }
  const Frame& back() const { return (*this)[size_ - 1]; }
  Frame& back() { return (*this)[size_ - 1]; }
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, size_}; }

  /// Every register and spilled register `match` accepts, in every frame, goes through `on_reg` or
  /// `on_spill` (a RegValue&); a frame that holds none stays shared.
  template <class Match, class OnReg, class OnSpill>
  void update_values(Match match, OnReg on_reg, OnSpill on_spill) {
    for (std::size_t i = 0; i < size_; ++i) {
      const Frame& f = *frames_[i];
      bool holds = false;
      for (const auto& r : f.regs) holds = holds || match(r);
      if (!holds) f.stack.for_each_spill([&](const RegValue& v) { holds = holds || match(v); });
      if (!holds) continue;
      Frame& w = own(i);
      for (auto& r : w.regs)
        if (match(std::as_const(r))) on_reg(r);
      w.stack.for_each_spill([&](RegValue& v) {
        if (match(std::as_const(v))) on_spill(v);
      });
    }
  }

  /// Precondition: size() < isa::kMaxCallFrames (callers check the call depth first).
  void push_back(Frame f) { frames_[size_++] = std::make_shared<Frame>(std::move(f)); }
  Frame& emplace_back() {
    frames_[size_] = std::make_shared<Frame>();
    return *frames_[size_++];
  }
  void pop_back() { frames_[--size_].reset(); }
  /// Frame i is the very object other's frame i is (so their contents are equal).
  bool shares(std::size_t i, const FrameStack& other) const { return frames_[i] == other.frames_[i]; }
  /// How many stacks hold frame i (1: this one alone).
  std::size_t sharers(std::size_t i) const { return static_cast<std::size_t>(frames_[i].use_count()); }

  friend bool operator==(const FrameStack& a, const FrameStack& b) {
    if (a.size_ != b.size_) return false;
    for (std::size_t i = 0; i < a.size_; ++i)
      if (!a.shares(i, b) && !(a[i] == b[i])) return false;
    return true;
  }

 private:
  Frame& own(std::size_t i) {
    auto& f = frames_[i];
    if (f.use_count() > 1) f = std::make_shared<Frame>(std::as_const(*f));
    return *f;
  }

  std::array<std::shared_ptr<Frame>, isa::kMaxCallFrames> frames_{};
  std::size_t size_ = 0;
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
  FrameStack frames;
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

  /// Non-const: gives this state its own copy of the innermost frame (see FrameStack).
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
      if (f.callsite != o.callsite || f.entry_pc != o.entry_pc || f.callback != o.callback ||
          f.async_callback != o.async_callback)
        return false;
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
