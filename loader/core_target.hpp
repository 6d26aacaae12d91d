// CoreTarget: the target (kernel) BTF that CO-RE relocations resolve against, parsed once and
// indexed by essential name (the name without a "___flavor" suffix), so finding a local type's
// candidates is a binary search instead of a scan of every target type (vmlinux has ~100k).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "loader/btf.hpp"

namespace bpfvm::loader {

class CoreTarget {
 public:
  /// Parses a BTF blob (e.g. /sys/kernel/btf/vmlinux) and indexes it; shareable across loads.
  static Result<std::shared_ptr<const CoreTarget>> parse(std::span<const std::uint8_t> bytes);

  explicit CoreTarget(Btf btf);

  const Btf& btf() const { return btf_; }
  /// Ids of the named target types whose essential name is `essential`, ascending; any kind.
  std::vector<std::uint32_t> named(std::string_view essential) const;

 private:
  struct Entry {
    std::uint64_t hash;  // of the essential name
    std::uint32_t id;
    friend bool operator<(const Entry& a, const Entry& b) { return a.hash != b.hash ? a.hash < b.hash : a.id < b.id; }
  };
  Btf btf_;
  std::vector<Entry> by_hash_;  // every named type, sorted: one allocation, no per-name buckets
};

}  // namespace bpfvm::loader
