// The ISA table: every row decodes back to itself, and decode refuses what the rules forbid.
#include <catch2/catch.hpp>

#include "vm/isa.hpp"
#include "vm/program.hpp"

using namespace bpfvm;
using isa::Rule;

namespace {
// A field value each rule accepts (registers pick r1 so "must be zero" differs from "register").
std::int32_t sample(isa::FieldRule rule, std::int32_t any_value) {
  switch (rule.rule) {
    case Rule::Zero: return 0;
    case Rule::Reg: case Rule::RegWrite: return 1;
    case Rule::Any: return any_value;
    case Rule::Fixed: return rule.value;
  }
  return 0;
}
}  // namespace

TEST_CASE("every table row decodes to itself") {
  for (std::size_t i = 0; i < isa::kNumOps; ++i) {
    const auto& op = isa::kOps[i];
    vm::Insn insn{op.code, static_cast<std::uint8_t>(sample(op.dst, 0)), static_cast<std::uint8_t>(sample(op.src, 0)),
                  static_cast<std::int16_t>(sample(op.off, 0)), sample(op.imm, 7)};
    INFO("row " << i << " " << op.mnemonic);
    auto id = vm::decode_insn(insn, 0);
    REQUIRE(id.has_value());
    CHECK(*id == i);
    // Byte round trip.
    std::uint8_t bytes[8];
    vm::insn_to_bytes(insn, bytes);
    CHECK(vm::insn_from_bytes(bytes) == insn);
  }
}

TEST_CASE("RFC 9669 opcode bytes of representative rows") {
  struct Row { std::string_view mnemonic; isa::Operand operand; std::uint8_t code; };
  const Row rows[] = {
      {"add", isa::Operand::Imm, 0x07}, {"add", isa::Operand::Reg, 0x0f}, {"add32", isa::Operand::Imm, 0x04},
      {"mov", isa::Operand::Imm, 0xb7}, {"mov32", isa::Operand::Reg, 0xbc}, {"sdiv", isa::Operand::Imm, 0x37},
      {"smod32", isa::Operand::Reg, 0x9c}, {"arsh", isa::Operand::Reg, 0xcf}, {"ldxdw", isa::Operand::Reg, 0x79},
      {"ldxsw", isa::Operand::Reg, 0x81}, {"stb", isa::Operand::Imm, 0x72}, {"stxh", isa::Operand::Reg, 0x6b},
      {"jeq32", isa::Operand::Reg, 0x1e}, {"jsle", isa::Operand::Imm, 0xd5}, {"ja32", isa::Operand::None, 0x06},
      {"call", isa::Operand::Imm, 0x85}, {"callx", isa::Operand::Reg, 0x8d}, {"exit", isa::Operand::None, 0x95},
      {"lddw", isa::Operand::Imm, 0x18}, {"be64", isa::Operand::None, 0xdc}, {"bswap16", isa::Operand::None, 0xd7},
      {"ldabsw", isa::Operand::Imm, 0x20}, {"ldabsh", isa::Operand::Imm, 0x28}, {"ldabsb", isa::Operand::Imm, 0x30},
      {"ldindw", isa::Operand::Reg, 0x40}, {"ldindh", isa::Operand::Reg, 0x48}, {"ldindb", isa::Operand::Reg, 0x50},
  };
  for (const auto& r : rows) {
    INFO(r.mnemonic);
    const auto id = isa::find_op(r.mnemonic, r.operand);
    REQUIRE(id != isa::kNoOp);
    CHECK(isa::kOps[id].code == r.code);
  }
}

TEST_CASE("decode names the instruction and the field") {
  auto p = vm::decode_program(std::vector<vm::Insn>{{0xb7, 0, 0, 0, 1}, {0x07, 0, 0, 1, 1}, {0x95, 0, 0, 0, 0}});
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().pc == 1);
  CHECK(p.error().message() == "insn 1: add (opcode 0x07): off must be 0 (is 1)");
}

TEST_CASE("legacy packet loads: B/H/W only, reserved fields refused with pc and field") {
  using V = std::vector<vm::Insn>;
  auto reason = [](V insns) {
    auto p = vm::decode_program(std::move(insns));
    REQUIRE_FALSE(p.has_value());
    return p.error().message();
  };
  for (std::uint8_t code : {0x20, 0x28, 0x30, 0x40, 0x48, 0x50}) {
    INFO(int(code));
    const auto id = vm::decode_insn(vm::Insn{code, 0, std::uint8_t(code >= 0x40 ? 3 : 0), 0, 14}, 0);
    REQUIRE(id.has_value());
    CHECK(isa::kOps[*id].form == isa::Form::PacketLoad);
    const int bits = (code & 0x18) == 0 ? 32 : (code & 0x18) == 0x08 ? 16 : 8;
    CHECK(isa::kOps[*id].width == bits);
  }
  // BPF_DW has no legacy packet load (the kernel: "uses reserved fields").
  CHECK(reason(V{{0x38}, {0x95}}) == "insn 0: unknown opcode 0x38");
  CHECK(reason(V{{0x58}, {0x95}}) == "insn 0: unknown opcode 0x58");
  CHECK(reason(V{{0xb7}, {0x20, 1, 0, 0, 12}, {0x95}}) == "insn 1: ldabsw (opcode 0x20): dst must be 0 (is 1)");
  CHECK(reason(V{{0x30, 0, 2, 0, 12}, {0x95}}) == "insn 0: ldabsb (opcode 0x30): src must be 0 (is 2)");
  CHECK(reason(V{{0x28, 0, 0, 4, 12}, {0x95}}) == "insn 0: ldabsh (opcode 0x28): off must be 0 (is 4)");
  CHECK(reason(V{{0x40, 0, 11, 0, 0}, {0x95}}) == "insn 0: ldindw (opcode 0x40): src is not a register r0-r10 (is 11)");
  CHECK(reason(V{{0x48, 0, 2, -1, 0}, {0x95}}) == "insn 0: ldindh (opcode 0x48): off must be 0 (is -1)");
  CHECK(reason(V{{0x50, 5, 2, 0, 0}, {0x95}}) == "insn 0: ldindb (opcode 0x50): dst must be 0 (is 5)");
}

TEST_CASE("decode refuses structural errors") {
  using V = std::vector<vm::Insn>;
  auto reason = [](V insns) {
    auto p = vm::decode_program(std::move(insns));
    REQUIRE_FALSE(p.has_value());
    return p.error().message();
  };
  CHECK(reason(V{{0xb7, 0, 0, 0, 1}}) == "insn 0: last instruction is not exit or ja: control falls off the end");
  CHECK(reason(V{{0x05, 0, 0, 5, 0}, {0x95}}) == "insn 0: jump out of range to insn 6");
  CHECK(reason(V{{0x05, 0, 0, 1, 0}, {0x18, 0, 0, 0, 1}, {0, 0, 0, 0, 2}, {0x95}}) ==
        "insn 0: jump into the middle of lddw at insn 1");
  CHECK(reason(V{{0x18, 0, 0, 0, 1}}) == "insn 0: lddw is missing its second slot");
  CHECK(reason(V{{0xff}, {0x95}}) == "insn 0: unknown opcode 0xff");
  CHECK(reason(V{{0xb7, 11, 0, 0, 1}, {0x95}}) == "insn 0: mov (opcode 0xb7): dst is not a register r0-r10 (is 11)");
  CHECK(reason(V{{0x85, 0, 1, 0, 5}, {0x95}}) == "insn 0: call out of range to insn 6");
  CHECK(reason(V{}) == "empty program");
  CHECK(vm::decode_program(std::vector<std::uint8_t>{1, 2, 3}).error().reason ==
        "bytecode length 3 is not a multiple of 8");
}
