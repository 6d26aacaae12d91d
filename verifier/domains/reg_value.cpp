// RegValue ordering: the test state pruning relies on.
#include "verifier/domains/reg_value.hpp"

namespace bpfvm::verifier {

bool IdMap::pair(std::uint32_t old_id, std::uint32_t cur_id) {
  for (const auto& [o, c] : pairs_) {
    if (o == old_id || c == cur_id) return o == old_id && c == cur_id;
  }
  pairs_.emplace_back(old_id, cur_id);
  return true;
}

std::uint32_t IdMap::cur_of(std::uint32_t old_id) const {
  for (const auto& [o, c] : pairs_)
    if (o == old_id) return c;
  return 0;
}

bool IdMap::pair_scalar(std::uint32_t old_id, std::uint32_t cur_id) {
  if (old_id == 0) return true;  // nothing the explored path learned through a link
  if (cur_id == 0) cur_id = kUnlinkedTag | ++unlinked_;
  return pair(old_id | kScalarTag, cur_id | kScalarTag);
}

bool RegValue::leq(const RegValue& old, IdMap& ids) const {
  // An explored path that never initialised the register never read it.
  if (old.type == RegType::NotInit) return true;
  if (type != old.type) return false;
  if (type == RegType::Scalar) {
    // The explored path may have narrowed this register through a linked copy.
    if (old.id != 0 && (aux != old.aux || !ids.pair_scalar(old.id, id))) return false;
    return value.leq(old.value);
  }
  if (aux != old.aux || frame != old.frame || read_only != old.read_only || untrusted != old.untrusted ||
      percpu != old.percpu || packet_slice != old.packet_slice)
    return false;
  if (maybe_null && !old.maybe_null) return false;
  if (!value.leq(old.value)) return false;
  if (maybe_null && old.maybe_null && !ids.pair(old.id, id)) return false;
  // Map values keep the lookup's id after the null check: it names the bpf_spin_lock a path holds.
  if (type == RegType::MapValue && !maybe_null && (old.id != 0 || id != 0) && !ids.pair(old.id, id)) return false;
  if ((old.ref != 0 || ref != 0) && !ids.pair(old.ref | IdMap::kRefTag, ref | IdMap::kRefTag)) return false;
  if ((type == RegType::Packet || type == RegType::PacketMeta) && old.id != 0) {
    // The explored path may have relied on a range proven for its variable part.
    if (id == 0 || !ids.pair(old.id | IdMap::kPacketTag, id | IdMap::kPacketTag)) return false;
  }
  return true;
}

}  // namespace bpfvm::verifier
