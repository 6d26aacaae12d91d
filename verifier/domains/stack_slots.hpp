// StackSlots: one frame's 512 bytes of stack — which bytes are initialised, and which 8-byte slots
// hold a spilled register (so a fill gets the register's type and bounds back).
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "verifier/domains/reg_value.hpp"

namespace bpfvm::verifier {

class StackSlots {
  static constexpr std::uint8_t kDynptrFirst = 1, kDynptrSecond = 2;
  static constexpr std::uint8_t kDynptrSecondPacket = 3;  // the second slot of an skb/xdp dynptr

 public:
  static constexpr int kBytes = 512;
  static constexpr int kSlots = kBytes / 8;

  /// Offsets are relative to the frame pointer: [-512, 0).
  static bool in_frame(std::int64_t off, std::int64_t size) { return off >= -kBytes && off + size <= 0; }

  bool initialised(int off, int size) const;
  /// Bytes written with data that is not a whole spilled register.
  void write_bytes(int off, int size);
  /// Bytes written with zeros (a store of a known 0 that is not a spill: the kernel's STACK_ZERO), so a
  /// load of only such bytes reads 0.
  void write_zero_bytes(int off, int size);
  /// Every byte of [off, off+size) was written by write_zero_bytes and not overwritten since.
  bool zero(int off, int size) const;
  /// Bytes a helper may have overwritten: spills there become plain data, nothing new is initialised.
  void clobber(int off, int size);
  /// An 8-byte aligned store of a register: whole (size_bytes 8), or a scalar's low size_bytes
  /// bytes at the slot's start (the kernel's save_register_state with a narrow size: the slot's other
  /// bytes keep what they held).
  void spill(int off, const RegValue& value, int size_bytes = 8);
  /// The register spilled in the 8-byte slot at off (8-aligned), or nullptr.
  const RegValue* spilled(int off) const;
  RegValue* spilled(int off) { return const_cast<RegValue*>(std::as_const(*this).spilled(off)); }
  /// How many bytes, from its start, the spill in the slot holding off covers (8 or fewer), 0 if none.
  int spill_bytes(int off) const { return spill_bytes_[static_cast<std::size_t>(slot_of(off))]; }
  /// Spilled registers touched by [off, off+size), in slot order.
  template <class F>
  void for_each_spill_in(int off, int size, F f) const {
    for (const auto& [slot, value] : spills_)
      if (slot * 8 - kBytes < off + size && slot * 8 - kBytes + 8 > off) f(value);
  }
  /// Visit every spilled register (to retype pointers after a null check or invalidation).
  template <class F>
  void for_each_spill(F f) {
    for (auto& entry : spills_) f(entry.second);
  }
  template <class F>
  void for_each_spill(F f) const {
    for (const auto& entry : spills_) f(entry.second);
  }
  /// Visit every spilled register with its slot index (0 = the slot at fp-512).
  template <class F>
  void for_each_spill_slot(F f) const {
    for (const auto& [slot, value] : spills_) f(slot, value);
  }
  /// The slot index of the 8-byte slot holding offset off.
  static int slot_of(int off) { return (off + kBytes) / 8; }
  /// Bytes accessed without becoming initialised (a privileged read of uninitialised bytes, a write
  /// that may leave them as they were) still count toward the frame's depth: the kernel's stack_depth
  /// counts every access, and the combined stack size of a call chain is checked against it.
  void touch(int off);
  /// Deepest byte ever initialised or touched, as a positive depth.
  int depth_bytes() const;

  /// The 16 bytes at off (8-aligned, in the frame) become a dynptr (the kernel's
  /// mark_stack_slots_dynptr): a local one (ref 0), or a ring buffer one holding reference `ref`
  /// (bpf_ringbuf_reserve_dynptr). An unreferenced dynptr overlapping them is destroyed first; callers
  /// refuse to overwrite a referenced one (touches_referenced_dynptr).
  void mark_dynptr(int off, std::uint32_t ref = 0, bool packet = false);
  /// The dynptr starting at off names packet bytes (bpf_dynptr_from_skb/_xdp, or a clone of one: the
  /// kernel's BPF_DYNPTR_TYPE_SKB/XDP), so its slices are packet pointers.
  bool dynptr_packet(int off) const;
  /// A whole dynptr starts at off (its first slot there, its second right above).
  bool dynptr_at(int off) const;
  /// The reference the dynptr starting at off holds (0: a local dynptr, or none there).
  std::uint32_t dynptr_ref(int off) const;
  /// Some byte of [off, off+size) belongs to a dynptr.
  bool touches_dynptr(int off, int size) const;
  /// Some byte of [off, off+size) belongs to a dynptr holding a reference (the kernel refuses to
  /// overwrite it: "cannot overwrite referenced dynptr").
  bool touches_referenced_dynptr(int off, int size) const;
  /// The dynptr starting at off was released (submit/discard): both slots become uninitialised (the
  /// kernel's invalidate_dynptr).
  void unmark_dynptr(int off);
  /// Every dynptr holding reference `ref` (one and its bpf_dynptr_clone copies) becomes uninitialised:
  /// releasing one releases them all (the kernel's unmark_stack_slots_dynptr over ref_obj_id).
  void unmark_dynptrs_holding(std::uint32_t ref);
  /// Some dynptr here holds reference `ref`.
  bool holds_dynptr_ref(std::uint32_t ref) const;

  /// Open-coded numeric iterators (struct bpf_iter_num, the kernel's STACK_ITER): one 8-byte slot each,
  /// holding reference `ref` from bpf_iter_num_new to bpf_iter_num_destroy. `depth` counts the
  /// iterations the path went round (the kernel's iter.depth): states compare it only to tell a loop
  /// that repeats a state from two iterations of the iterator's loop.
  enum class IterState : std::uint8_t { Active = 1, Drained = 2 };
  struct Iter {
    int slot = 0;
    std::uint32_t ref = 0;
    IterState state = IterState::Active;
    std::uint32_t depth = 0;
    friend bool operator==(const Iter&, const Iter&) = default;
  };
  /// The 8 bytes at off (8-aligned, in the frame) become an active iterator holding `ref`.
  void mark_iter(int off, std::uint32_t ref);
  /// The iterator whose slot starts at off, or nullptr.
  const Iter* iter_at(int off) const;
  Iter* iter_at(int off) { return const_cast<Iter*>(std::as_const(*this).iter_at(off)); }
  /// Some byte of [off, off+size) belongs to an iterator.
  bool touches_iter(int off, int size) const;
  /// bpf_iter_num_destroy: the slot becomes uninitialised (the caller releases the reference).
  void unmark_iter(int off);
  const std::vector<Iter>& iters() const { return iters_; }

  /// Every byte initialised in old is initialised here, every byte known zero in old is known zero
  /// here, and spills agree. A slot outside
  /// `precise_slots` (bit s = slot s) that holds a spilled scalar on both sides matches whatever the
  /// scalars' values: no explored path relied on them.
  bool leq(const StackSlots& old, IdMap& ids, std::uint64_t precise_slots = ~std::uint64_t{0}) const;
  friend bool operator==(const StackSlots&, const StackSlots&) = default;

 private:
  void drop_spill(int slot);
  /// Writes over a dynptr's slot destroy the whole dynptr: both slots become uninitialised
  /// (the kernel's destroy_if_dynptr_stack_slot for an unreferenced dynptr).
  void destroy_dynptrs(int off, int size);
  /// Writes over an iterator's slot end it: the slot is plain bytes, its reference stays held (the
  /// program can no longer destroy it, so it leaks).
  void destroy_iters(int off, int size);

  void clear_zero(int off, int size);

  std::array<std::uint8_t, kSlots> init_{};  // bit b of slot s: byte s*8+b is initialised
  std::array<std::uint8_t, kSlots> zero_{};  // bit b of slot s: byte s*8+b holds a known 0 (subset of init_)
  std::vector<std::pair<int, RegValue>> spills_;  // sorted by slot
  std::array<std::uint8_t, kSlots> spill_bytes_{};  // slot s: bytes its spill covers from the slot's start, 0 = none
  std::array<std::uint8_t, kSlots> dynptr_{};  // slot s: 0, or kDynptrFirst / kDynptrSecond(Packet)
  std::vector<std::pair<int, std::uint32_t>> dynptr_refs_;  // referenced dynptrs: first slot, reference
  std::vector<Iter> iters_;  // iterators, sorted by slot
  int touched_bytes_ = 0;  // depth of the deepest byte touched (not compared by leq: no safety fact)
};

}  // namespace bpfvm::verifier
