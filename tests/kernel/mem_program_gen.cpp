// Generator of verifier-acceptable random memory programs; every encoding comes from an isa::kOps row.
#include "tests/kernel/mem_program_gen.hpp"

#include "tests/kernel/insn_builder.hpp"

namespace bpfvm::testing {

using isa::Form;
using isa::Kind;
using isa::Operand;
using isa::Rule;

namespace {

constexpr int kBase = 6;  // r6 = r1: the buffer; r1 itself is never read again
constexpr int kScalars[] = {0, 2, 3, 4, 5, 7, 8, 9};

int scalar(SplitMix64& rng) { return kScalars[rng.below(std::size(kScalars))]; }

std::int32_t imm32(SplitMix64& rng) {
  switch (rng.below(3)) {
    case 0: return static_cast<std::int32_t>(rng.below(256)) - 128;
    case 1: return static_cast<std::int32_t>(0x80000000u >> rng.below(32));
    default: return static_cast<std::int32_t>(static_cast<std::uint32_t>(rng.next()));
  }
}

template <class Pred>
std::vector<isa::OpId> rows_where(Pred pred) {
  std::vector<isa::OpId> ids;
  for (std::size_t i = 0; i < isa::kNumOps; ++i)
    if (pred(isa::kOps[i])) ids.push_back(static_cast<isa::OpId>(i));
  return ids;
}

}  // namespace

std::vector<vm::Insn> generate_mem_program(SplitMix64& rng, std::size_t body_items,
                                           std::array<std::uint64_t, isa::kNumOps>* row_uses) {
  static const auto kMemRows = rows_where([](const isa::OpInfo& op) { return mem_gen_uses(op); });
  // ALU rows between the memory rows, so loaded values flow on (constant shifts and divisors kept
  // where the kernel accepts them: kernel_accepts_imm).
  static const auto kAluRows = rows_where([](const isa::OpInfo& op) {
    return op.form == Form::Alu || op.form == Form::AluUnary;
  });
  const isa::OpId mov_reg = op_id("mov", Operand::Reg), mov_imm = op_id("mov", Operand::Imm),
                  lddw = op_id("lddw", Operand::Imm), stdw = op_id("stdw", Operand::Imm),
                  ldxdw = op_id("ldxdw", Operand::Reg), mul = op_id("mul", Operand::Imm),
                  xor_reg = op_id("xor", Operand::Reg), exit = op_id("exit", Operand::None);
  std::vector<vm::Insn> out;
  auto emit = [&](isa::OpId id, int dst, int src, int off, std::int32_t imm) {
    if (row_uses) ++(*row_uses)[id];
    out.push_back(make_insn(id, dst, src, off, imm));
  };

  emit(mov_reg, kBase, 1, 0, 0);
  for (int r : kScalars) {
    if (rng.percent(50)) {
      if (row_uses) ++(*row_uses)[lddw];
      push_lddw(out, lddw, r, rng.next());
    } else {
      emit(mov_imm, r, 0, 0, imm32(rng));
    }
  }
  for (std::size_t off = 8; off <= kMemProgramStackBytes; off += 8)
    emit(stdw, isa::kFramePointer, 0, -static_cast<int>(off), imm32(rng));

  for (std::size_t k = 0; k < body_items; ++k) {
    if (rng.percent(30)) {
      const isa::OpId id = kAluRows[rng.below(kAluRows.size())];
      const auto& op = isa::kOps[id];
      std::int32_t imm = imm32(rng);
      if (op.imm.rule == Rule::Any && !kernel_accepts_imm(op, imm)) imm = op.kind == Kind::Lsh || op.kind == Kind::Rsh ||
                                                                                 op.kind == Kind::Arsh ? 1 : 3;
      emit(id, scalar(rng), scalar(rng), 0, imm);
      continue;
    }
    const isa::OpId id = kMemRows[rng.below(kMemRows.size())];
    const auto& op = isa::kOps[id];
    const int size = op.width / 8;
    const bool on_stack = rng.percent(30);
    const int base = on_stack ? isa::kFramePointer : kBase;
    const int slots = static_cast<int>((on_stack ? kMemProgramStackBytes : kMemProgramBufferBytes) / size);
    const int index = static_cast<int>(rng.below(static_cast<std::uint64_t>(slots)));
    const int off = on_stack ? -(index + 1) * size : index * size;  // naturally aligned, in bounds
    switch (op.form) {
      case Form::Load:
      case Form::LoadSx: emit(id, scalar(rng), base, off, 0); break;
      case Form::Store: emit(id, base, 0, off, imm32(rng)); break;
      case Form::StoreReg:
      case Form::Atomic: emit(id, base, scalar(rng), off, 0); break;
      default: break;
    }
  }

  // r0 = (r0 * odd) ^ word for every buffer and stack word, and every scalar register.
  const auto fold = [&](int src) {
    emit(mul, 0, 0, 0, static_cast<std::int32_t>(0x9e3779b1u));
    emit(xor_reg, 0, src, 0, 0);
  };
  for (std::size_t off = 0; off < kMemProgramBufferBytes; off += 8) {
    emit(ldxdw, 2, kBase, static_cast<int>(off), 0);
    fold(2);
  }
  for (std::size_t off = 8; off <= kMemProgramStackBytes; off += 8) {
    emit(ldxdw, 2, isa::kFramePointer, -static_cast<int>(off), 0);
    fold(2);
  }
  for (int r : kScalars)
    if (r != 0 && r != 2) fold(r);
  emit(exit, 0, 0, 0, 0);
  return out;
}

}  // namespace bpfvm::testing
