// Block-local constant tracking for call sites and the array-lookup inlining decision.
#include "jit/inline_array_lookup.hpp"

namespace bpfvm::jit {

using isa::Form;

namespace {

bool writes(const isa::OpInfo& op, const vm::Insn& insn, int reg) {
  switch (op.form) {
    case Form::Alu: case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::WideImm:
      return insn.dst == reg;
    case Form::Atomic:
      if (op.kind == isa::Kind::CmpXchg) return reg == 0;
      return (insn.imm & isa::enc::kFetch) && insn.src == reg;
    case Form::Call: case Form::CallKfunc: case Form::CallLocal: case Form::CallReg: case Form::PacketLoad:
      return reg <= 5;  // r0 is the result; r1-r5 are clobbered as far as the program may assume
    case Form::Store: case Form::StoreReg: case Form::Jump: case Form::Ja: case Form::Ja32: case Form::Exit:
      return false;
  }
  return true;
}

}  // namespace

std::vector<std::uint8_t> block_starts(const vm::Program& p) {
  std::vector<std::uint8_t> starts(p.size(), 0);
  if (!starts.empty()) starts[0] = 1;
  auto mark = [&](std::int64_t t) {
    if (t >= 0 && static_cast<std::size_t>(t) < starts.size()) starts[static_cast<std::size_t>(t)] = 1;
  };
  for (std::size_t pc = 0; pc < p.size(); ++pc) {
    if (p.ops[pc] == isa::kNoOp) continue;
    const auto& op = p.op(pc);
    const auto& insn = p.insns[pc];
    if (op.form == Form::Jump || op.form == Form::Ja || op.form == Form::Ja32 || op.form == Form::CallLocal)
      mark(vm::branch_target(insn, op, pc));
    if (op.form == Form::WideImm && static_cast<isa::LddwSrc>(insn.src) == isa::LddwSrc::Func)
      mark(static_cast<std::int64_t>(pc) + 1 + insn.imm);
  }
  return starts;
}

std::optional<std::uint64_t> map_handle_at(const vm::Program& p, std::span<const std::uint64_t> lddw_values,
                                           const std::vector<std::uint8_t>& starts, std::uint32_t pc, int reg) {
  if (starts[pc]) return std::nullopt;
  for (std::uint32_t k = pc; k-- > 0;) {
    if (p.ops[k] == isa::kNoOp) continue;  // second slot of an lddw
    const auto& op = p.op(k);
    const auto& insn = p.insns[k];
    if (writes(op, insn, reg)) {
      const auto src = static_cast<isa::LddwSrc>(insn.src);
      if (op.form == Form::WideImm && (src == isa::LddwSrc::MapFd || src == isa::LddwSrc::MapIdx) &&
          k < lddw_values.size())
        return lddw_values[k];
      return std::nullopt;
    }
    if (starts[k]) return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ArrayLookupInliner::handle_at(std::uint32_t pc, bool (*has)(const vm::HelperEntry&)) {
  if (req_.variant == Variant::Checked || req_.helpers.empty()) return std::nullopt;
  const vm::HelperEntry* helper = req_.helpers[pc];
  if (helper == nullptr || !has(*helper)) return std::nullopt;
  if (block_starts_.empty()) block_starts_ = block_starts(*req_.program);
  return map_handle_at(*req_.program, req_.lddw_values, block_starts_, pc, 1);
}

std::optional<vm::DirectArray> ArrayLookupInliner::at(std::uint32_t pc) {
  const auto handle = handle_at(pc, [](const vm::HelperEntry& h) { return h.direct_array != nullptr; });
  if (!handle) return std::nullopt;
  return req_.helpers[pc]->direct_array(*handle);
}

vm::DirectLookupFn ArrayLookupInliner::direct_lookup(std::uint32_t pc) {
  const auto handle = handle_at(pc, [](const vm::HelperEntry& h) { return h.direct_lookup != nullptr; });
  if (!handle) return nullptr;
  return req_.helpers[pc]->direct_lookup(*handle);
}

}  // namespace bpfvm::jit
