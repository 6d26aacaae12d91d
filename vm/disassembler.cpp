// The disassembler: spells each decoded row in the conformance dialect, the inverse of assemble().
#include "vm/disassembler.hpp"

#include <cstdio>
#include <optional>
#include <vector>

namespace bpfvm::vm {
namespace {

using isa::Form;
using isa::Operand;

std::string reg(unsigned r) { return "%r" + std::to_string(r); }

std::string mem(unsigned r, std::int16_t off) {
  return "[" + reg(r) + (off < 0 ? "-" : "+") + std::to_string(off < 0 ? -int(off) : int(off)) + "]";
}

std::string relative(std::int64_t rel) { return (rel < 0 ? "" : "+") + std::to_string(rel); }

std::string hex64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Target of a jump, local call or lddw_func at pc, when it has one.
std::optional<std::int64_t> target_of(const Program& p, std::size_t pc) {
  const auto& op = p.op(pc);
  const auto& insn = p.insns[pc];
  switch (op.form) {
    case Form::Jump: case Form::Ja: case Form::Ja32: case Form::CallLocal:
      return branch_target(insn, op, pc);
    case Form::WideImm:
      if (static_cast<isa::LddwSrc>(insn.src) == isa::LddwSrc::Func)
        return static_cast<std::int64_t>(pc) + 1 + insn.imm;  // BPF_PSEUDO_FUNC: imm is relative
      return std::nullopt;
    case Form::Alu: case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::Store:
    case Form::StoreReg: case Form::Atomic: case Form::Call: case Form::CallReg: case Form::CallKfunc:
    case Form::Exit: case Form::PacketLoad:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string label_name(std::int64_t slot) { return "L" + std::to_string(slot); }

// Instruction text; targets as labels when `use_labels`, otherwise as `+N`/`-N`.
std::string insn_text(const Program& p, std::size_t pc, bool use_labels) {
  if (p.ops[pc] == isa::kNoOp) return {};
  const auto& op = p.op(pc);
  const auto& i = p.insns[pc];
  const std::string m(op.mnemonic);
  auto target = [&] {
    const auto t = target_of(p, pc);
    return use_labels ? label_name(*t) : relative(*t - static_cast<std::int64_t>(pc) - 1);
  };
  auto source = [&] { return op.operand == Operand::Reg ? reg(i.src) : std::to_string(i.imm); };
  switch (op.form) {
    case Form::Alu: return m + " " + reg(i.dst) + ", " + source();
    case Form::AluUnary: return m + " " + reg(i.dst);
    case Form::Load: case Form::LoadSx: return m + " " + reg(i.dst) + ", " + mem(i.src, i.off);
    case Form::Store: return m + " " + mem(i.dst, i.off) + ", " + std::to_string(i.imm);
    case Form::StoreReg: return m + " " + mem(i.dst, i.off) + ", " + reg(i.src);
    // Dialect: `lock [fetch] OP` plus `32` on the operation for the 32-bit width.
    case Form::Atomic:
      return "lock " + m + (op.width == 32 ? "32 " : " ") + mem(i.dst, i.off) + ", " + reg(i.src);
    case Form::WideImm:
      switch (static_cast<isa::LddwSrc>(i.src)) {
        case isa::LddwSrc::Imm64: {
          const auto v = p.wide_imm(pc);
          const auto as_signed = static_cast<std::int64_t>(v);
          const bool small = as_signed >= -(std::int64_t{1} << 31) && as_signed < (std::int64_t{1} << 31);
          return m + " " + reg(i.dst) + ", " + (small ? std::to_string(as_signed) : hex64(v));
        }
        case isa::LddwSrc::Func: return m + " " + reg(i.dst) + ", " + target();
        case isa::LddwSrc::MapValue: case isa::LddwSrc::MapIdxValue:
          return m + " " + reg(i.dst) + ", " + std::to_string(i.imm) + ", " + std::to_string(p.insns[pc + 1].imm);
        case isa::LddwSrc::MapFd: case isa::LddwSrc::BtfId: case isa::LddwSrc::MapIdx:
          return m + " " + reg(i.dst) + ", " + std::to_string(i.imm);
      }
      return m;
    case Form::Jump: return m + " " + reg(i.dst) + ", " + source() + ", " + target();
    case Form::Ja: case Form::Ja32: return m + " " + target();
    case Form::Call: return m + " " + std::to_string(i.imm);
    case Form::CallLocal: return m + " " + target();
    case Form::CallKfunc: {  // the BTF id the kernel sees; the name, when the program has it, as a comment
      const std::string* name = p.kfunc_name(i.imm);
      return m + " " + std::to_string(i.imm) + (i.off != 0 ? ", " + std::to_string(i.off) : "") +
             (name ? " # " + *name : "");
    }
    // The table names the row "callx"; the dialect spells it `call %rN` (README, calls).
    case Form::CallReg: return "call " + reg(i.dst);
    case Form::Exit: return m;
    // Not in the conformance dialect; spelled as binutils does: `ldabsw 12`, `ldindb %r2, 14`.
    case Form::PacketLoad:
      return op.kind == isa::Kind::LdInd ? m + " " + reg(i.src) + ", " + std::to_string(i.imm)
                                         : m + " " + std::to_string(i.imm);
  }
  return m;
}

std::string listing_line(const Program& p, std::size_t pc) {
  const auto bytes = encode_program(std::span<const Insn>(&p.insns[pc], 1));
  char head[64];
  std::snprintf(head, sizeof head, "%6zu:  %02x %02x %02x %02x %02x %02x %02x %02x", pc, bytes[0], bytes[1],
                bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]);
  std::string line = head;
  const auto text = insn_text(p, pc, false);
  if (!text.empty()) line += "  " + text;
  if (p.ops[pc] != isa::kNoOp)
    if (const auto t = target_of(p, pc)) line += "  # -> " + std::to_string(*t);
  return line + "\n";
}

}  // namespace

std::string disassemble_insn(const Program& program, std::size_t pc) { return insn_text(program, pc, false); }

std::string disassemble(const Program& program, DisasmStyle style) {
  std::string out;
  if (style == DisasmStyle::Listing) {
    for (std::size_t pc = 0; pc < program.size(); ++pc) out += listing_line(program, pc);
    return out;
  }
  std::vector<bool> labelled(program.size() + 1, false);
  for (std::size_t pc = 0; pc < program.size(); ++pc)
    if (program.ops[pc] != isa::kNoOp)
      if (const auto t = target_of(program, pc); t && *t >= 0 && *t <= static_cast<std::int64_t>(program.size()))
        labelled[static_cast<std::size_t>(*t)] = true;
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    if (labelled[pc]) out += label_name(static_cast<std::int64_t>(pc)) + ":\n";
    if (program.ops[pc] != isa::kNoOp) out += insn_text(program, pc, true) + "\n";
  }
  if (labelled[program.size()]) out += label_name(static_cast<std::int64_t>(program.size())) + ":\n";
  return out;
}

}  // namespace bpfvm::vm
