// Decoding and structural validation of eBPF bytecode against the ISA table.
#include "vm/program.hpp"

#include <cstring>

namespace bpfvm::vm {

using isa::Form;
using isa::OpInfo;
using isa::Rule;

Insn insn_from_bytes(std::span<const std::uint8_t, kInsnBytes> b) {
  Insn i;
  i.code = b[0];
  i.dst = b[1] & 0x0f;
  i.src = b[1] >> 4;
  std::uint16_t off;
  std::uint32_t imm;
  std::memcpy(&off, &b[2], 2);
  std::memcpy(&imm, &b[4], 4);
  i.off = static_cast<std::int16_t>(off);
  i.imm = static_cast<std::int32_t>(imm);
  return i;
}

void insn_to_bytes(const Insn& i, std::span<std::uint8_t, kInsnBytes> out) {
  out[0] = i.code;
  out[1] = static_cast<std::uint8_t>((i.src << 4) | (i.dst & 0x0f));
  const auto off = static_cast<std::uint16_t>(i.off);
  const auto imm = static_cast<std::uint32_t>(i.imm);
  std::memcpy(&out[2], &off, 2);
  std::memcpy(&out[4], &imm, 4);
}

namespace {

std::string hex8(unsigned v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string{"0x"} + kDigits[(v >> 4) & 15] + kDigits[v & 15];
}

// Why a field fails its rule, or empty when it passes.
std::string field_problem(const char* field, isa::FieldRule rule, std::int64_t v) {
  if (rule.accepts(v)) return {};
  const std::string is = " (is " + std::to_string(v) + ")";
  switch (rule.rule) {
    case Rule::Zero: return std::string(field) + " must be 0" + is;
    case Rule::Reg: case Rule::RegWrite: return std::string(field) + " is not a register r0-r10" + is;
    case Rule::Any: return {};
    case Rule::Fixed: return std::string(field) + " must be " + std::to_string(rule.value) + is;
  }
  return {};
}

bool fields_accepted(const OpInfo& op, const Insn& i) {
  return op.dst.accepts(i.dst) && op.src.accepts(i.src) && op.off.accepts(i.off) && op.imm.accepts(i.imm);
}

std::string problems_of(const OpInfo& op, const Insn& i) {
  for (auto p : {field_problem("dst", op.dst, i.dst), field_problem("src", op.src, i.src),
                 field_problem("off", op.off, i.off), field_problem("imm", op.imm, i.imm)})
    if (!p.empty()) return p;
  return {};
}

}  // namespace

Result<isa::OpId> decode_insn(const Insn& insn, std::uint32_t pc) {
  const auto& idx = isa::kCodeIndex[insn.code];
  if (idx.count == 0)
    return make_error(Errc::Malformed, "unknown opcode " + hex8(insn.code), pc);
  // Rows sharing an opcode differ in a fixed field; the first whose every rule holds wins.
  for (unsigned k = 0; k < idx.count; ++k) {
    const auto id = static_cast<isa::OpId>(idx.first + k);
    if (fields_accepted(isa::kOps[id], insn)) return id;
  }
  // Name every row the opcode could have been, then the first field that ruled out the first one.
  const std::string first_problem = problems_of(isa::kOps[idx.first], insn);
  std::string names;
  for (unsigned k = 0; k < idx.count; ++k) {
    const auto m = isa::kOps[idx.first + k].mnemonic;
    if (names.find(m) == std::string::npos) names += (names.empty() ? "" : "|") + std::string(m);
  }
  return make_error(Errc::Malformed, names + " (opcode " + hex8(insn.code) + "): " + first_problem, pc);
}
bool writes_frame_pointer(const OpInfo& op, const Insn& insn) {
  if (op.dst.rule == Rule::RegWrite && insn.dst == isa::kFramePointer) return true;
  // BPF_FETCH loads the old value into src (xchg carries it too); cmpxchg loads r0 instead.
  return op.form == Form::Atomic && (insn.imm & isa::enc::kFetch) && op.kind != isa::Kind::CmpXchg &&
         insn.src == isa::kFramePointer;
}

std::optional<Error> frame_pointer_write_error(const Program& program) {
  for (std::size_t pc = 0; pc < program.size(); ++pc)
    if (program.ops[pc] != isa::kNoOp && writes_frame_pointer(program.op(pc), program.insns[pc]))
      return Error{Errc::Malformed, static_cast<std::uint32_t>(pc),
                   std::string(program.op(pc).mnemonic) + ": r10 is the read-only frame pointer (an unverified program may not write it)"};
  return std::nullopt;
}

std::int64_t branch_target(const Insn& insn, const OpInfo& op, std::size_t pc) {
  const std::int64_t rel = op.form == Form::Ja32 || op.form == Form::CallLocal ? insn.imm : insn.off;
  return static_cast<std::int64_t>(pc) + 1 + rel;
}

Result<Program> decode_program(std::vector<Insn> insns, std::string name) {
  Program p;
  p.name = std::move(name);
  if (insns.empty()) return make_error(Errc::Malformed, "empty program");
  if (insns.size() > (1u << 20))
    return make_error(Errc::Malformed, "program has " + std::to_string(insns.size()) +
                                           " instructions; the limit is 1048576");
  p.ops.assign(insns.size(), isa::kNoOp);
  for (std::size_t pc = 0; pc < insns.size(); ++pc) {
    auto id = decode_insn(insns[pc], static_cast<std::uint32_t>(pc));
    if (!id) return std::move(id).error();
    p.ops[pc] = *id;
    const auto& op = isa::kOps[*id];
    if (isa::is_wide(op)) {
      if (pc + 1 >= insns.size())
        return make_error(Errc::Malformed, "lddw is missing its second slot", static_cast<std::uint32_t>(pc));
      const auto& hi = insns[pc + 1];
      if (hi.code != 0 || hi.dst != 0 || hi.src != 0 || hi.off != 0)
        return make_error(Errc::Malformed, "second slot of lddw must have code, regs and off 0",
                          static_cast<std::uint32_t>(pc + 1));
      const auto src = static_cast<isa::LddwSrc>(insns[pc].src);
      const bool hi_imm_used = src == isa::LddwSrc::Imm64 || src == isa::LddwSrc::MapValue ||
                               src == isa::LddwSrc::MapIdxValue;
      if (!hi_imm_used && hi.imm != 0)
        return make_error(Errc::Malformed, std::string(op.mnemonic) + ": second slot imm must be 0",
                          static_cast<std::uint32_t>(pc + 1));
      ++pc;  // ops[pc] stays kNoOp: nothing may jump here
    }
  }
  const auto n = static_cast<std::int64_t>(insns.size());
  for (std::size_t pc = 0; pc < insns.size(); ++pc) {
    if (p.ops[pc] == isa::kNoOp) continue;
    const auto& op = isa::kOps[p.ops[pc]];
    const auto at = static_cast<std::uint32_t>(pc);
    switch (op.form) {
      case Form::Jump: case Form::Ja: case Form::Ja32: case Form::CallLocal: {
        const auto target = branch_target(insns[pc], op, pc);
        const char* what = op.form == Form::CallLocal ? "call" : "jump";
        if (target < 0 || target >= n)
          return make_error(Errc::Malformed, std::string(what) + " out of range to insn " + std::to_string(target), at);
        if (p.ops[static_cast<std::size_t>(target)] == isa::kNoOp)
          return make_error(Errc::Malformed, std::string(what) + " into the middle of lddw at insn " +
                                                 std::to_string(target - 1), at);
        break;
      }
      case Form::WideImm:
        if (static_cast<isa::LddwSrc>(insns[pc].src) == isa::LddwSrc::Func) {
          const auto target = static_cast<std::int64_t>(pc) + 1 + insns[pc].imm;
          if (target < 0 || target >= n || p.ops[static_cast<std::size_t>(target)] == isa::kNoOp)
            return make_error(Errc::Malformed, "lddw_func target insn " + std::to_string(target) + " is not an instruction", at);
        }
        break;
      case Form::Alu: case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::Store:
      case Form::StoreReg: case Form::Atomic: case Form::Call: case Form::CallReg: case Form::CallKfunc:
      case Form::Exit: case Form::PacketLoad:
        break;
    }
  }
  // The last instruction must end control flow (kernel: "last insn is not an exit or jmp").
  std::size_t last = insns.size() - 1;
  if (p.ops[last] == isa::kNoOp) --last;
  const auto last_form = isa::kOps[p.ops[last]].form;
  if (last_form != Form::Exit && last_form != Form::Ja && last_form != Form::Ja32)
    return make_error(Errc::Malformed, "last instruction is not exit or ja: control falls off the end",
                      static_cast<std::uint32_t>(last));
  p.insns = std::move(insns);
  return p;
}

Result<Program> decode_program(std::span<const std::uint8_t> bytes, std::string name) {
  if (bytes.size() % kInsnBytes != 0)
    return make_error(Errc::Malformed, "bytecode length " + std::to_string(bytes.size()) +
                                           " is not a multiple of 8");
  std::vector<Insn> insns(bytes.size() / kInsnBytes);
  for (std::size_t i = 0; i < insns.size(); ++i)
    insns[i] = insn_from_bytes(std::span<const std::uint8_t, kInsnBytes>(bytes.data() + i * kInsnBytes, kInsnBytes));
  return decode_program(std::move(insns), std::move(name));
}

std::vector<std::uint8_t> encode_program(std::span<const Insn> insns) {
  std::vector<std::uint8_t> out(insns.size() * kInsnBytes);
  for (std::size_t i = 0; i < insns.size(); ++i)
    insn_to_bytes(insns[i], std::span<std::uint8_t, kInsnBytes>(out.data() + i * kInsnBytes, kInsnBytes));
  return out;
}

}  // namespace bpfvm::vm
