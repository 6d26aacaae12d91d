// Property: assemble(disassemble(p)) == p.insns, for every ISA table row and every conformance test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "vm/assembler.hpp"
#include "vm/data_file.hpp"
#include "vm/disassembler.hpp"
#include "vm/program.hpp"

namespace {

namespace fs = std::filesystem;
using namespace bpfvm::vm;
using bpfvm::isa::Form;
using bpfvm::isa::Rule;

std::vector<fs::path> data_files(const char* folder, const std::string& prefix = {}) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(BPFVM_CONFORMANCE_DIR) / folder))
    if (e.path().extension() == ".data" && e.path().filename().string().starts_with(prefix))
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// A sample value for a field under its rule: distinct non-zero values so swapped fields show up.
std::int64_t sample(bpfvm::isa::FieldRule rule, std::int64_t any, std::int64_t reg) {
  switch (rule.rule) {
    case Rule::Zero: return 0;
    case Rule::Reg: case Rule::RegWrite: return reg;
    case Rule::Any: return any;
    case Rule::Fixed: return rule.value;
  }
  return 0;
}

void check_round_trip(const Program& p) {
  const auto text = disassemble(p, DisasmStyle::Assembly);
  INFO("disassembly:\n" << text);
  const auto again = assemble(text);
  INFO((again ? std::string() : again.error().reason));
  REQUIRE(again);
  CHECK(*again == p.insns);
}

}  // namespace

TEST_CASE("every ISA table row survives disassemble then assemble", "[asm][roundtrip]") {
  for (std::size_t id = 0; id < bpfvm::isa::kNumOps; ++id) {
    const auto& op = bpfvm::isa::kOps[id];
    INFO("row " << id << " '" << op.mnemonic << "' width " << int(op.width));
    Insn insn;
    insn.code = op.code;
    insn.dst = static_cast<std::uint8_t>(sample(op.dst, 0, 3));
    insn.src = static_cast<std::uint8_t>(sample(op.src, 0, 7));
    // Jumps and local calls need a target inside the program: the exit that follows.
    const bool branches = op.form == Form::Jump || op.form == Form::Ja || op.form == Form::Ja32 ||
                          op.form == Form::CallLocal;
    insn.off = static_cast<std::int16_t>(sample(op.off, branches ? 0 : -12, 0));
    insn.imm = static_cast<std::int32_t>(sample(op.imm, branches ? 0 : -123456, 0));
    std::vector<Insn> insns = {insn};
    if (bpfvm::isa::is_wide(op)) {
      const auto src = static_cast<bpfvm::isa::LddwSrc>(insn.src);
      if (src == bpfvm::isa::LddwSrc::Func) insns[0].imm = 1;  // to the exit after the second slot
      const bool high_used = src == bpfvm::isa::LddwSrc::Imm64 || src == bpfvm::isa::LddwSrc::MapValue ||
                             src == bpfvm::isa::LddwSrc::MapIdxValue;
      insns.push_back(Insn{.imm = high_used ? 0x7654321 : 0});
    }
    insns.push_back(Insn{.code = 0x95});  // exit: decoded, so its row is checked too
    auto p = decode_program(insns);
    INFO((p ? std::string() : p.error().message()));
    REQUIRE(p);
    CHECK(disassemble_insn(*p, 0).starts_with(op.form == Form::Atomic ? "lock " : std::string(op.mnemonic.substr(0, 4))));
    check_round_trip(*p);
  }
}

TEST_CASE("disassemble_insn writes targets as slot offsets", "[asm]") {
  auto insns = assemble("jeq %r1, 0x10, exit\nlddw %r0, 0xfedcba9876543210\nja -4\nexit\ncall local -1\nexit\n");
  REQUIRE(insns);
  auto p = decode_program(*insns);
  REQUIRE(p);
  CHECK(disassemble_insn(*p, 0) == "jeq %r1, 16, +3");
  CHECK(disassemble_insn(*p, 1) == "lddw %r0, 0xfedcba9876543210");
  CHECK(disassemble_insn(*p, 2).empty());
  CHECK(disassemble_insn(*p, 3) == "ja -4");
  CHECK(disassemble_insn(*p, 5) == "call local -1");
  CHECK(disassemble(*p, DisasmStyle::Assembly) ==
        "L0:\njeq %r1, 16, L4\nlddw %r0, 0xfedcba9876543210\nja L0\nL4:\nexit\nL5:\ncall local L5\nexit\n");
  CHECK(disassemble(*p, DisasmStyle::Listing) ==
        "     0:  15 01 03 00 10 00 00 00  jeq %r1, 16, +3  # -> 4\n"
        "     1:  18 00 00 00 10 32 54 76  lddw %r0, 0xfedcba9876543210\n"
        "     2:  00 00 00 00 98 ba dc fe\n"
        "     3:  05 00 fc ff 00 00 00 00  ja -4  # -> 0\n"
        "     4:  95 00 00 00 00 00 00 00  exit\n"
        "     5:  85 10 00 00 ff ff ff ff  call local -1  # -> 5\n"
        "     6:  95 00 00 00 00 00 00 00  exit\n");
}

TEST_CASE("every conformance test program round-trips through the disassembler", "[asm][roundtrip][conformance]") {
  const auto files = data_files("tests");
  REQUIRE(files.size() == 313);
  std::size_t round_tripped = 0;
  for (const auto& path : files) {
    INFO(path.filename().string());
    auto file = read_data_file(path);
    REQUIRE(file);
    auto insns = program_of(*file);
    REQUIRE(insns);
    auto p = decode_program(std::move(*insns), path.filename().string());
    REQUIRE(p);
    check_round_trip(*p);
    // The listing has one line per slot.
    const auto listing = disassemble(*p, DisasmStyle::Listing);
    CHECK(static_cast<std::size_t>(std::count(listing.begin(), listing.end(), '\n')) == p->size());
    ++round_tripped;
  }
  CHECK(round_tripped == 313);
}
