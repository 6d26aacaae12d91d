// The optimizing tier's listing annotations, for any backend: which tier the listing is, where each
// block starts, and per emitted IR value its source instruction and where the allocator put it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jit/opt/ir.hpp"
#include "jit/opt/regalloc.hpp"
#include "vm/program.hpp"

namespace bpfvm::jit::opt {

/// Lines a backend writes as listing comments. "pc N: <insn>" lines keep the baseline listing's
/// format (tools/bpfvm's parser groups native code by them); an inlined or duplicated pc appears
/// once per copy, and the code under it is that copy's.
class ListingNotes {
 public:
  /// `reg_name` spells a host register number as the backend's assembler does.
  ListingNotes(const Function& fn, const Allocation& al, const vm::Program& program,
               std::string (*reg_name)(std::uint32_t));

  /// First line: the tier, the backend, the function's size after the passes, the values spilled, and
  /// the loads/stores/atomics at a frame address that stack promotion kept in memory.
  std::string header(const char* arch) const;
  /// "block B <- P, Q (loop head)".
  std::string block(BlockId b, bool loop_head);
  /// Before value `id`'s code: "pc N: ..." when its source instruction differs from the previous
  /// value's, then "  vK = <ir> -> <location>".
  std::vector<std::string> value(ValueId id);

 private:
  const Function& fn_;
  const Allocation& al_;
  const vm::Program& program_;
  std::string (*reg_name_)(std::uint32_t);
  std::int64_t last_pc_ = -1;
};

}  // namespace bpfvm::jit::opt
