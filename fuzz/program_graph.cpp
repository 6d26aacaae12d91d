// ProgramGraph: conditional jumps, compare immediates and basic blocks of decoded bytecode.
#include "fuzz/program_graph.hpp"

#include <algorithm>
#include <set>

#include "vm/program.hpp"

namespace bpfvm::fuzz {

namespace {

using isa::Form;

void add_token(std::set<std::vector<std::uint8_t>>& tokens, std::uint32_t v) {
  // 0 and 1 are cheap for byte mutations to find; the dictionary is for values they rarely hit.
  if (v <= 1) return;
  if (v <= 0xff) {
    tokens.insert({static_cast<std::uint8_t>(v)});
  } else if (v <= 0xffff) {
    tokens.insert({static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)});
    tokens.insert({static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
  } else {
    std::vector<std::uint8_t> le(4);
    for (int i = 0; i < 4; ++i) le[i] = static_cast<std::uint8_t>(v >> (8 * i));
    tokens.insert(le);
    std::reverse(le.begin(), le.end());
    tokens.insert(le);
  }
}

}  // namespace

Result<ProgramGraph> ProgramGraph::build(std::span<const std::uint8_t> bytecode) {
  auto decoded = vm::decode_program(bytecode);
  if (!decoded) return std::move(decoded).error();
  const vm::Program& p = *decoded;
  ProgramGraph g;
  const std::size_t n = p.size();
  g.size_ = n;
  g.insn_.assign(n, false);
  std::vector<bool> leader(n + 1, false);
  leader[0] = true;
  std::set<std::vector<std::uint8_t>> tokens;
  auto target_of = [&](std::size_t pc) {
    return static_cast<std::uint32_t>(vm::branch_target(p.insns[pc], p.op(pc), pc));
  };
  for (std::size_t pc = 0; pc < n; ++pc) {
    if (p.ops[pc] == isa::kNoOp) continue;
    g.insn_[pc] = true;
    const auto& op = p.op(pc);
    switch (op.form) {
      case Form::Jump:
        g.jumps_.push_back(JumpSite{static_cast<std::uint32_t>(pc), target_of(pc)});
        leader[target_of(pc)] = true;
        leader[pc + 1] = true;
        if (op.operand == isa::Operand::Imm) add_token(tokens, static_cast<std::uint32_t>(p.insns[pc].imm));
        break;
      case Form::Ja:
      case Form::Ja32:
        leader[target_of(pc)] = true;
        leader[pc + 1] = true;
        break;
      case Form::Exit:
        leader[pc + 1] = true;
        break;
      case Form::CallLocal:
        leader[target_of(pc)] = true;
        break;
      case Form::WideImm:
        if (static_cast<isa::LddwSrc>(p.insns[pc].src) == isa::LddwSrc::Func)
          leader[static_cast<std::size_t>(static_cast<std::int64_t>(pc) + 1 + p.insns[pc].imm)] = true;
        break;
      case Form::Alu:
        if (op.kind == isa::Kind::Mov && op.operand == isa::Operand::Imm)
          add_token(tokens, static_cast<std::uint32_t>(p.insns[pc].imm));
        break;
      case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::Store: case Form::StoreReg:
      case Form::Atomic: case Form::Call: case Form::CallKfunc: case Form::CallReg: case Form::PacketLoad:
        break;
    }
  }
  g.dictionary_.assign(tokens.begin(), tokens.end());

  // Blocks run from one leader to the next; block_of maps every slot to its block.
  std::vector<std::uint32_t> block_of(n, 0);
  for (std::size_t pc = 0; pc < n; ++pc) {
    if (leader[pc]) g.blocks_.push_back(BasicBlock{static_cast<std::uint32_t>(pc), static_cast<std::uint32_t>(pc), {}});
    g.blocks_.back().end_pc = static_cast<std::uint32_t>(pc + 1);
    block_of[pc] = static_cast<std::uint32_t>(g.blocks_.size() - 1);
  }
  g.blocks_[0].inflows.push_back(BlockInflow{BlockInflow::Kind::Runs, 0});
  for (std::uint32_t b = 0; b < g.blocks_.size(); ++b) {
    const auto& blk = g.blocks_[b];
    for (std::uint32_t pc = blk.first_pc; pc < blk.end_pc; ++pc)
      if (g.insn_[pc] && p.op(pc).form == Form::CallLocal)
        g.blocks_[block_of[target_of(pc)]].inflows.push_back(BlockInflow{BlockInflow::Kind::Block, b});
    std::uint32_t last = blk.end_pc - 1;
    while (last > blk.first_pc && !g.insn_[last]) --last;
    const bool has_next = blk.end_pc < n;
    switch (p.op(last).form) {
      case Form::Jump:
        g.blocks_[b].jump_pc = last;
        g.blocks_[block_of[target_of(last)]].inflows.push_back(BlockInflow{BlockInflow::Kind::Taken, last});
        if (has_next) g.blocks_[block_of[last + 1]].inflows.push_back(BlockInflow{BlockInflow::Kind::NotTaken, last});
        break;
      case Form::Ja:
      case Form::Ja32:
        g.blocks_[block_of[target_of(last)]].inflows.push_back(BlockInflow{BlockInflow::Kind::Block, b});
        break;
      case Form::Exit:
        break;
      case Form::Alu: case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::Store:
      case Form::StoreReg: case Form::Atomic: case Form::WideImm: case Form::Call: case Form::CallKfunc: case Form::CallLocal:
      case Form::CallReg: case Form::PacketLoad:
        if (has_next) g.blocks_[block_of[blk.end_pc]].inflows.push_back(BlockInflow{BlockInflow::Kind::Block, b});
        break;
    }
  }
  return g;
}

std::vector<std::uint64_t> ProgramGraph::block_counts(std::span<const std::uint64_t> edge_totals,
                                                      std::uint64_t runs) const {
  // Every cycle of a terminating program passes a conditional jump, whose counts are known, so
  // repeated passes settle within one pass per block; an endless ja loop is cut off at that bound.
  std::vector<std::uint64_t> count(blocks_.size(), 0);
  for (std::size_t pass = 0; pass <= blocks_.size(); ++pass) {
    bool changed = false;
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      std::uint64_t c = 0;
      if (const auto j = blocks_[b].jump_pc) {
        c = edge_totals[2 * std::size_t{*j}] + edge_totals[2 * std::size_t{*j} + 1];
        if (c != count[b]) {
          count[b] = c;
          changed = true;
        }
        continue;
      }
      for (const auto& in : blocks_[b].inflows) {
        switch (in.kind) {
          case BlockInflow::Kind::Runs: c += runs; break;
          case BlockInflow::Kind::Block: c += count[in.from]; break;
          case BlockInflow::Kind::NotTaken: c += edge_totals[2 * std::size_t{in.from}]; break;
          case BlockInflow::Kind::Taken: c += edge_totals[2 * std::size_t{in.from} + 1]; break;
        }
      }
      if (c != count[b]) {
        count[b] = c;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return count;
}

}  // namespace bpfvm::fuzz
