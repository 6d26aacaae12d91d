// HelperRegistry: the helpers one VM instance offers, keyed by any u32 id (sparse).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpfvm/helper_signature.hpp"
#include "bpfvm/kfunc_signature.hpp"
#include "vm/direct_array.hpp"
#include "vm/direct_lookup.hpp"
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
  /// Lookup helpers only: the map's own lookup entry for the handle `r1` (nullptr: none), which a
  /// fast or counted build may call directly when that constant handle reaches the call.
  DirectLookupFn (*direct_lookup)(std::uint64_t map_handle) = nullptr;
};

/// A kernel function (kfunc) an engine calls like a helper, found by name (a program's `call kfunc`
/// names it through Program::kfuncs). `call.id` is 0 (no helper); `call.signature` is unused.
struct KfuncEntry {
  HelperEntry call;           // name, fn, user: the implementation, called with r1..r5 as a helper is
  KfuncSignature signature;   // what the verifier checks at call sites
  /// The program types that may call it (verifier ProgramTypeInfo::name: "xdp", "sched_cls", ...), as
  /// the kernel registers kfunc sets per type; empty: every type (the kernel's generic/common set).
  std::vector<std::string> program_types;
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

  /// Kfuncs, by name. Adding a name that exists replaces it (an embedder's own implementation).
  void add_kfunc(KfuncEntry entry) {
    entry.call.id = 0;
    const std::string name = entry.call.name;
    kfuncs_[name] = std::move(entry);
  }
  void remove_kfunc(const std::string& name) { kfuncs_.erase(name); }
  /// The kfunc called `name`, or nullptr. Pointers stay valid until that name is replaced or removed.
  const KfuncEntry* find_kfunc(const std::string& name) const {
    auto it = kfuncs_.find(name);
    return it == kfuncs_.end() ? nullptr : &it->second;
  }
  const std::unordered_map<std::string, KfuncEntry>& all_kfuncs() const { return kfuncs_; }

  /// The legacy packet loads (LD_ABS/LD_IND) read the packet through this entry, the way the
  /// kernel rewrites them into calls of bpf_skb_load_helper_{8,16,32}: engines know no context
  /// layout, helpers/ does (register_kernel_helpers sets it). Engines call
  /// fn(ctx = r6, offset, size_bytes 1/2/4, 0, 0, run), offset being imm or src + imm in 64 bits like
  /// the kernel's r2, of which the entry reads the low 32 bits as a signed int (the kernel helper's
  /// `int offset`). The result is the value converted from network byte order, or negative when the
  /// bytes lie outside the packet.
  /// Its id and signature are unused. The pointer stays valid until the next set_packet_load.
  void set_packet_load(HelperEntry entry) { packet_load_ = std::move(entry); }
  const HelperEntry* packet_load() const { return packet_load_ ? &*packet_load_ : nullptr; }

 private:
  std::unordered_map<std::uint32_t, HelperEntry> helpers_;
  std::optional<HelperEntry> packet_load_;
  std::unordered_map<std::string, KfuncEntry> kfuncs_;
};

}  // namespace bpfvm::vm
