// ProgramGraph: what fuzzing needs to know about a program's bytecode — its conditional jumps (the
// edges coverage counts), the immediates they compare against, and the basic blocks through which
// line counts derive from edge counts.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "bpfvm/result.hpp"

namespace bpfvm::fuzz {

struct JumpSite {
  std::uint32_t pc = 0;
  std::uint32_t taken_pc = 0;  ///< where it goes when the condition holds; pc + 1 otherwise
};

/// How a block's run count follows from the counts before it.
struct BlockInflow {
  enum class Kind : std::uint8_t {
    Runs,       ///< program entry: once per run
    Block,      ///< falls through, jumps (ja) or calls into this block: the source block's count
    NotTaken,   ///< a conditional jump at `from` fell through: its not-taken edge count
    Taken,      ///< a conditional jump at `from` jumped here: its taken edge count
  };
  Kind kind = Kind::Runs;
  std::uint32_t from = 0;  ///< block index (Block) or jump pc (NotTaken, Taken)
};

struct BasicBlock {
  std::uint32_t first_pc = 0;
  std::uint32_t end_pc = 0;  ///< one past the last slot
  std::vector<BlockInflow> inflows;
  /// The conditional jump ending the block, if one does: its two edges count the block exactly,
  /// also where no inflow is known (bpf_loop callbacks).
  std::optional<std::uint32_t> jump_pc;
};

class ProgramGraph {
 public:
  /// Decodes little-endian bytecode (Program::bytecode()).
  static Result<ProgramGraph> build(std::span<const std::uint8_t> bytecode);

  std::size_t size() const { return size_; }  ///< instruction slots
  const std::vector<JumpSite>& jumps() const { return jumps_; }
  const std::vector<BasicBlock>& blocks() const { return blocks_; }
  /// Immediates of compares and moves, as byte strings (1, 2 or 4 bytes, both byte orders).
  const std::vector<std::vector<std::uint8_t>>& dictionary() const { return dictionary_; }
  /// True for slots that hold an instruction (not lddw's second half).
  bool is_insn(std::uint32_t pc) const { return insn_[pc]; }

  /// Run count of every block, given per-edge totals ([2 * pc + taken]) and the number of runs.
  std::vector<std::uint64_t> block_counts(std::span<const std::uint64_t> edge_totals, std::uint64_t runs) const;

 private:
  std::size_t size_ = 0;
  std::vector<JumpSite> jumps_;
  std::vector<BasicBlock> blocks_;
  std::vector<bool> insn_;
  std::vector<std::vector<std::uint8_t>> dictionary_;
};

}  // namespace bpfvm::fuzz
