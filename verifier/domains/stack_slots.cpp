// StackSlots bookkeeping and ordering.
#include "verifier/domains/stack_slots.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace bpfvm::verifier {

bool StackSlots::initialised(int off, int size) const {
  for (int b = off + kBytes; b < off + kBytes + size; ++b)
    if (!(init_[b / 8] & (1u << (b % 8)))) return false;
  return true;
}

bool StackSlots::zero(int off, int size) const {
  for (int b = off + kBytes; b < off + kBytes + size; ++b)
    if (!(zero_[b / 8] & (1u << (b % 8)))) return false;
  return true;
}

void StackSlots::clear_zero(int off, int size) {
  for (int b = std::max(off + kBytes, 0); b < std::min(off + kBytes + size, kBytes); ++b)
    zero_[b / 8] &= static_cast<std::uint8_t>(~(1u << (b % 8)));
}

void StackSlots::write_zero_bytes(int off, int size) {
  write_bytes(off, size);
  for (int b = off + kBytes; b < off + kBytes + size; ++b) zero_[b / 8] |= static_cast<std::uint8_t>(1u << (b % 8));
}

void StackSlots::drop_spill(int slot) {
  spills_.erase(std::remove_if(spills_.begin(), spills_.end(), [slot](const auto& e) { return e.first == slot; }),
                spills_.end());
  spill_bytes_[static_cast<std::size_t>(slot)] = 0;
}

void StackSlots::destroy_dynptrs(int off, int size) {
  for (int s = slot_of(off); s <= slot_of(off + size - 1); ++s) {
    if (dynptr_[s] == 0) continue;
    const int first = dynptr_[s] == kDynptrFirst ? s : s - 1;
    std::erase_if(dynptr_refs_, [first](const auto& e) { return e.first == first; });
    for (int k = first; k <= first + 1; ++k) {
      dynptr_[k] = 0;
      init_[k] = 0;
      zero_[k] = 0;
    }
  }
}

void StackSlots::destroy_iters(int off, int size) {
  std::erase_if(iters_, [&](const Iter& it) { return it.slot >= slot_of(off) && it.slot <= slot_of(off + size - 1); });
}

void StackSlots::mark_iter(int off, std::uint32_t ref) {
  touch(off);
  destroy_dynptrs(off, 8);
  destroy_iters(off, 8);
  const int s = slot_of(off);
  drop_spill(s);
  init_[s] = 0xff;
  zero_[s] = 0;
  const auto it = std::lower_bound(iters_.begin(), iters_.end(), s, [](const Iter& e, int k) { return e.slot < k; });
  iters_.insert(it, Iter{s, ref, IterState::Active, 0});
}

const StackSlots::Iter* StackSlots::iter_at(int off) const {
  if (off % 8 != 0 || !in_frame(off, 8)) return nullptr;
  for (const auto& it : iters_)
    if (it.slot == slot_of(off)) return &it;
  return nullptr;
}

bool StackSlots::touches_iter(int off, int size) const {
  return std::any_of(iters_.begin(), iters_.end(),
                     [&](const Iter& it) { return it.slot >= slot_of(off) && it.slot <= slot_of(off + size - 1); });
}

void StackSlots::unmark_iter(int off) {
  destroy_iters(off, 8);
  init_[static_cast<std::size_t>(slot_of(off))] = 0;
  zero_[static_cast<std::size_t>(slot_of(off))] = 0;
}

void StackSlots::mark_dynptr(int off, std::uint32_t ref, bool packet) {
  touch(off);
  destroy_dynptrs(off, 16);
  const int s = slot_of(off);
  for (int k = s; k <= s + 1; ++k) {
    drop_spill(k);
    init_[k] = 0xff;
    zero_[k] = 0;
  }
  dynptr_[s] = kDynptrFirst;
  dynptr_[s + 1] = packet ? kDynptrSecondPacket : kDynptrSecond;
  if (ref != 0) {
    const auto it = std::lower_bound(dynptr_refs_.begin(), dynptr_refs_.end(), s,
                                     [](const auto& e, int k) { return e.first < k; });
    dynptr_refs_.insert(it, {s, ref});
  }
}

std::uint32_t StackSlots::dynptr_ref(int off) const {
  if (!dynptr_at(off)) return 0;
  for (const auto& [slot, ref] : dynptr_refs_)
    if (slot == slot_of(off)) return ref;
  return 0;
}

bool StackSlots::touches_referenced_dynptr(int off, int size) const {
  for (const auto& [slot, ref] : dynptr_refs_)
    if (slot * 8 - kBytes < off + size && slot * 8 - kBytes + 16 > off) return true;
  return false;
}

void StackSlots::unmark_dynptr(int off) { destroy_dynptrs(off, 16); }

bool StackSlots::holds_dynptr_ref(std::uint32_t ref) const {
  return std::any_of(dynptr_refs_.begin(), dynptr_refs_.end(), [ref](const auto& e) { return e.second == ref; });
}

void StackSlots::unmark_dynptrs_holding(std::uint32_t ref) {
  std::vector<int> firsts;
  for (const auto& [slot, held] : dynptr_refs_)
    if (held == ref) firsts.push_back(slot);
  for (const int slot : firsts) destroy_dynptrs(slot * 8 - kBytes, 16);
}

bool StackSlots::dynptr_at(int off) const {
  if (off % 8 != 0 || !in_frame(off, 16)) return false;
  const int s = slot_of(off);
  return dynptr_[s] == kDynptrFirst && (dynptr_[s + 1] == kDynptrSecond || dynptr_[s + 1] == kDynptrSecondPacket);
}

bool StackSlots::dynptr_packet(int off) const { return dynptr_at(off) && dynptr_[slot_of(off) + 1] == kDynptrSecondPacket; }

bool StackSlots::touches_dynptr(int off, int size) const {
  for (int s = slot_of(off); s <= slot_of(off + size - 1); ++s)
    if (dynptr_[s] != 0) return true;
  return false;
}

void StackSlots::write_bytes(int off, int size) {
  destroy_dynptrs(off, size);
  destroy_iters(off, size);
  clear_zero(off, size);
  for (int b = off + kBytes; b < off + kBytes + size; ++b) {
    init_[b / 8] |= static_cast<std::uint8_t>(1u << (b % 8));
  }
  for (int s = slot_of(off); s <= slot_of(off + size - 1); ++s) drop_spill(s);
}

void StackSlots::clobber(int off, int size) {
  touch(off);
  destroy_dynptrs(off, size);
  destroy_iters(off, size);
  clear_zero(off, size);
  for (int s = slot_of(off); s <= slot_of(off + size - 1); ++s) drop_spill(s);
}

void StackSlots::spill(int off, const RegValue& value, int size_bytes) {
  destroy_dynptrs(off, 8);
  destroy_iters(off, 8);
  const int s = slot_of(off);
  clear_zero(off, size_bytes);
  init_[s] |= static_cast<std::uint8_t>((1u << size_bytes) - 1u);  // the slot's first size_bytes bytes
  spill_bytes_[static_cast<std::size_t>(s)] = static_cast<std::uint8_t>(size_bytes);
  auto it = std::lower_bound(spills_.begin(), spills_.end(), s, [](const auto& e, int k) { return e.first < k; });
  if (it != spills_.end() && it->first == s)
    it->second = value;
  else
    spills_.insert(it, {s, value});
}

const RegValue* StackSlots::spilled(int off) const {
  const int s = slot_of(off);
  for (const auto& [slot, value] : spills_)
    if (slot == s) return &value;
  return nullptr;
}

void StackSlots::touch(int off) {
  if (-off > touched_bytes_) touched_bytes_ = -off;
}

int StackSlots::depth_bytes() const {
  for (int s = 0; s < kSlots; ++s)
    if (init_[s]) return std::max(kBytes - s * 8, touched_bytes_);
  return touched_bytes_;
}

bool StackSlots::leq(const StackSlots& old, IdMap& ids, std::uint64_t precise_slots) const {
  // A dynptr is used (or refused) the same way on both paths only where both hold the same ones.
  if (dynptr_ != old.dynptr_ || dynptr_refs_.size() != old.dynptr_refs_.size()) return false;
  for (std::size_t i = 0; i < dynptr_refs_.size(); ++i)
    if (dynptr_refs_[i].first != old.dynptr_refs_[i].first ||
        !ids.pair(old.dynptr_refs_[i].second | IdMap::kRefTag, dynptr_refs_[i].second | IdMap::kRefTag))
      return false;
  // Iterators: the same slots in the same state holding paired references (the kernel's stacksafe for
  // STACK_ITER; the depth is not compared).
  if (iters_.size() != old.iters_.size()) return false;
  for (std::size_t i = 0; i < iters_.size(); ++i)
    if (iters_[i].slot != old.iters_[i].slot || iters_[i].state != old.iters_[i].state ||
        !ids.pair(old.iters_[i].ref | IdMap::kRefTag, iters_[i].ref | IdMap::kRefTag))
      return false;
  // Initialised bytes, eight slots at a time.
  for (int w = 0; w < kSlots / 8; ++w) {
    std::uint64_t mine, theirs;
    std::memcpy(&mine, &init_[static_cast<std::size_t>(w) * 8], 8);
    std::memcpy(&theirs, &old.init_[static_cast<std::size_t>(w) * 8], 8);
    if ((theirs & mine) != theirs) return false;
    // Bytes the explored path read as 0 must read as 0 here too.
    std::memcpy(&mine, &zero_[static_cast<std::size_t>(w) * 8], 8);
    std::memcpy(&theirs, &old.zero_[static_cast<std::size_t>(w) * 8], 8);
    if ((theirs & mine) != theirs) return false;
  }
  // Each slot's spill on this side, looked up once: a scan per slot made a comparison of two stacks
  // full of spills 64 x 64 steps (a loop of fills and prune points spent 79% of a 57 s run here).
  std::array<const RegValue*, kSlots> mine_at{};
  for (const auto& [s, v] : spills_) mine_at[static_cast<std::size_t>(s)] = &v;
  std::uint64_t old_spilled = 0;
  for (const auto& [slot, old_value] : old.spills_) {
    const auto at = static_cast<std::size_t>(slot);
    old_spilled |= std::uint64_t{1} << at;
    const RegValue* mine = mine_at[at];
    if (mine != nullptr && spill_bytes_[at] != old.spill_bytes_[at] && !(old_value.is_scalar() && old_value.value.is_top()))
      return false;  // a fill reads a spill of another width differently
    if (mine != nullptr) {
      const bool precise = (precise_slots >> slot) & 1u;
      if (!precise && mine->is_scalar() && old_value.is_scalar()) continue;
      if (!mine->leq(old_value, ids)) return false;
    } else if (!(old_value.is_scalar() && old_value.value.is_top())) {
      // Plain bytes here; the explored path relied on a spilled pointer or a bounded scalar.
      return false;
    }
  }
  // A pointer filled from here where the explored path read plain bytes would be used differently.
  for (const auto& [slot, value] : spills_) {
    if (!value.is_pointer()) continue;
    const int s = slot;
    const bool old_has = (old_spilled >> s) & 1u;
    if (!old_has && old.init_[s] != 0) return false;
  }
  return true;
}

}  // namespace bpfvm::verifier
