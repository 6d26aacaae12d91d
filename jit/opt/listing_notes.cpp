// The optimizing tier's listing annotations (tier header, block starts, per-value source pc and location).
#include "jit/opt/listing_notes.hpp"

#include "jit/opt/moves.hpp"
#include "vm/disassembler.hpp"

namespace bpfvm::jit::opt {

ListingNotes::ListingNotes(const Function& fn, const Allocation& al, const vm::Program& program,
                           std::string (*reg_name)(std::uint32_t))
    : fn_(fn), al_(al), program_(program), reg_name_(reg_name) {}

std::string ListingNotes::header(const char* arch) const {
  std::size_t live = 0, frame_accesses = 0;
  for (const auto& v : fn_.values) {
    live += v.dead ? 0 : 1;
    // Stack slots promotion left in memory (their frame escapes, or they overlap): loads and stores
    // the program itself makes, which the "spilled" count does not include.
    const bool memory_op = v.op == Op::Load || v.op == Op::Store || v.op == Op::Atomic;
    if (!v.dead && memory_op && fn_.values[v.args[0]].op == Op::FramePtr) ++frame_accesses;
  }
  return std::string("tier: optimized (") + arch + "): " + std::to_string(fn_.blocks.size()) + " blocks, " +
         std::to_string(live) + " IR values, " + std::to_string(al_.spilled) + " spilled to " +
         std::to_string(al_.num_slots) + " slots, " + std::to_string(frame_accesses) + " stack accesses kept";
}

std::string ListingNotes::block(BlockId b, bool loop_head) {
  last_pc_ = -1;  // the first value of every block names its pc again
  std::string out = "block " + std::to_string(b);
  const auto& preds = fn_.blocks[b].preds;
  for (std::size_t i = 0; i < preds.size(); ++i) out += (i == 0 ? " <- " : ", ") + std::to_string(preds[i]);
  if (loop_head) out += " (loop head)";
  return out;
}

std::vector<std::string> ListingNotes::value(ValueId id) {
  std::vector<std::string> out;
  const Inst& i = fn_.values[id];
  if (i.op == Op::Const) return out;  // no code: folded into the instructions that use it
  // Entry values and phis have no instruction of their own: they stay under the previous pc line.
  // Jumps the lowering or the allocator added (fallthrough, edge blocks) stay there too: only a
  // jump that is an instruction of the program (ja, exit of a callee, a local call) names its pc.
  bool has_pc = i.op != Op::Phi && i.op != Op::Arg && i.op != Op::FramePtr && i.pc < program_.size();
  if (has_pc && i.op == Op::Jmp) {
    const auto form = program_.ops[i.pc] == isa::kNoOp ? isa::Form::Alu : program_.op(i.pc).form;
    has_pc = form == isa::Form::Ja || form == isa::Form::Ja32 || form == isa::Form::Exit || form == isa::Form::CallLocal;
  }
  if (has_pc && static_cast<std::int64_t>(i.pc) != last_pc_) {
    last_pc_ = i.pc;
    out.push_back("pc " + std::to_string(i.pc) + ": " + vm::disassemble_insn(program_, i.pc));
  }
  std::string line = "  " + inst_text(fn_, id);
  if (needs_location(fn_, id)) {
    const Loc l = location(fn_, al_, id);
    switch (l.kind) {
      case Loc::Kind::Reg: line += " -> " + reg_name_(static_cast<std::uint32_t>(l.v)); break;
      case Loc::Kind::Slot: line += " -> slot " + std::to_string(l.v); break;
      case Loc::Kind::Imm: break;
      case Loc::Kind::Frame: line += " -> frame " + std::to_string(l.v); break;
    }
  }
  out.push_back(std::move(line));
  return out;
}

}  // namespace bpfvm::jit::opt
