// Inlining bpf_map_lookup_elem on arrays, as the kernel's JIT does: when the map handle in r1 is
// known at the call site (an lddw earlier in the same basic block), and the helper says the map is
// a plain array, the backends emit `index < max_entries ? base + index * stride : NULL` instead of
// the call. Shared by both backends; only the few instructions differ. Other maps that offer a
// direct lookup entry (hash maps) get a plain call of it instead of the helper dispatch.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "jit/native_code.hpp"
#include "vm/direct_array.hpp"
#include "vm/direct_lookup.hpp"
#include "vm/program.hpp"

namespace bpfvm::jit {

/// Per slot: 1 where some jump, call or fall-through from a jump lands (a basic block starts).
std::vector<std::uint8_t> block_starts(const vm::Program& program);

/// The constant `reg` holds when the insn at `pc` runs, when that value comes from a map lddw
/// earlier in pc's basic block and nothing in between writes `reg`; nullopt otherwise.
std::optional<std::uint64_t> map_handle_at(const vm::Program& program, std::span<const std::uint64_t> lddw_values,
                                           const std::vector<std::uint8_t>& block_starts, std::uint32_t pc, int reg);

/// One per compile: decides, call by call, whether a backend inlines an array lookup. The block
/// starts are computed on the first call whose helper could be inlined, so programs without
/// array lookups pay nothing.
class ArrayLookupInliner {
 public:
  explicit ArrayLookupInliner(const CompileRequest& req) : req_(req) {}
  /// The array layout to inline at the `call` at pc, or nullopt to call the helper. Checked builds
  /// always call (the helper checks the key pointer against the run's regions).
  std::optional<vm::DirectArray> at(std::uint32_t pc);
  /// When the call at pc is not inlined: the map's own lookup entry to call instead of the helper
  /// dispatch (hash maps), or nullptr. Same conditions as at(): fast/counted builds, a map lddw in r1.
  vm::DirectLookupFn direct_lookup(std::uint32_t pc);

 private:
  /// The helper at pc when it has the hook `has` and r1 holds a map handle from an lddw in pc's block.
  std::optional<std::uint64_t> handle_at(std::uint32_t pc, bool (*has)(const vm::HelperEntry&));

  const CompileRequest& req_;
  std::vector<std::uint8_t> block_starts_;  // empty until needed
};

}  // namespace bpfvm::jit
