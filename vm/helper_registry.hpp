// HelperRegistry: the helpers one VM instance offers, keyed by any u32 id (sparse).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "bpfvm/helper_signature.hpp"
#include "vm/direct_array.hpp"
#include "vm/run_context.hpp"

namespace bpfvm::vm {

/// Every helper has the kernel's shape: five u64 arguments (r1..r5), a u64 result (r0). The last
/// argument is the run's context; `run->current_helper->user` is the registrant's pointer.
using HelperFn = std::uint64_t (*)(std::uint64_t r1, std::uint64_t r2, std::uint64_t r3,
                                   std::uint64_t r4, std::uint64_t r5, RunContext* run);

struct HelperEntry {
  std::uint32_t id = 0;
  std::string name;       // kernel spelling, e.g. "bpf_map_lookup_elem"
  HelperFn fn = nullptr;
  void* user = nullptr;   // registrant's data, reachable from the helper through RunContext
  HelperSignature signature;  // what the verifier checks at call sites
  /// Lookup helpers only: the layout behind the map handle `r1`, when a call with that constant
  /// handle may be replaced by inline address arithmetic (as the kernel's JIT does for arrays).
  /// Only the helper that interprets the handle knows what it is, hence a hook here.
  std::optional<DirectArray> (*direct_array)(std::uint64_t map_handle) = nullptr;
};

/// A registry per VM instance; no global state. Adding an id that exists replaces it.
class HelperRegistry {
 public:
  void add(HelperEntry entry) { helpers_[entry.id] = std::move(entry); }
  void remove(std::uint32_t id) { helpers_.erase(id); }
  /// The entry for id, or nullptr. Pointers stay valid until that id is replaced or removed.
  const HelperEntry* find(std::uint32_t id) const {
    auto it = helpers_.find(id);
    return it == helpers_.end() ? nullptr : &it->second;
  }
  const std::unordered_map<std::uint32_t, HelperEntry>& all() const { return helpers_; }

 private:
  std::unordered_map<std::uint32_t, HelperEntry> helpers_;
};

}  // namespace bpfvm::vm
