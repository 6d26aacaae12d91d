// CoreTarget: one pass over the target's types hashes each essential name; the sorted
// (hash, id) array answers a lookup with a binary search, checking names against collisions.
#include "loader/core_target.hpp"

#include <algorithm>
#include <functional>

#include "loader/core_spec.hpp"

namespace bpfvm::loader {

namespace {
std::string_view essential_name(std::string_view name) { return name.substr(0, core_essential_name_len(name)); }
std::uint64_t hash_of(std::string_view s) { return std::hash<std::string_view>{}(s); }
}  // namespace

CoreTarget::CoreTarget(Btf btf) : btf_(std::move(btf)) {
  by_hash_.reserve(btf_.type_count());
  for (std::uint32_t id = 1; id < btf_.type_count(); ++id) {
    const auto name = btf_.name(id);
    if (!name.empty()) by_hash_.push_back({hash_of(essential_name(name)), id});
  }
  std::sort(by_hash_.begin(), by_hash_.end());
}

Result<std::shared_ptr<const CoreTarget>> CoreTarget::parse(std::span<const std::uint8_t> bytes) {
  auto btf = Btf::parse(bytes);
  if (!btf) return std::move(btf).error();
  return std::shared_ptr<const CoreTarget>(std::make_shared<CoreTarget>(std::move(*btf)));
}

std::vector<std::uint32_t> CoreTarget::named(std::string_view essential) const {
  const std::uint64_t h = hash_of(essential);
  auto it = std::lower_bound(by_hash_.begin(), by_hash_.end(), Entry{h, 0});
  std::vector<std::uint32_t> ids;
  for (; it != by_hash_.end() && it->hash == h; ++it)
    if (essential_name(btf_.name(it->id)) == essential) ids.push_back(it->id);
  return ids;
}

}  // namespace bpfvm::loader
