// The conformance suite through data_file + assembler + decoder: positives parse and decode,
// negatives are refused at the stage that owns them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "vm/assembler.hpp"
#include "vm/data_file.hpp"
#include "vm/program.hpp"

namespace {

namespace fs = std::filesystem;
using namespace bpfvm::vm;

fs::path suite(const std::string& relative) { return fs::path(BPFVM_CONFORMANCE_DIR) / relative; }

std::vector<fs::path> data_files(const char* folder, const std::string& prefix = {}) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(suite(folder)))
    if (e.path().extension() == ".data" && e.path().filename().string().starts_with(prefix))
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("all 313 positive tests parse, assemble and decode", "[data][conformance]") {
  const auto files = data_files("tests");
  REQUIRE(files.size() == 313);
  std::size_t decoded = 0, with_mem = 0, with_raw = 0;
  for (const auto& path : files) {
    INFO(path.filename().string());
    auto file = read_data_file(path);
    INFO((file ? std::string() : file.error().reason));
    REQUIRE(file);
    CHECK(file->result.has_value());
    CHECK_FALSE(file->error.has_value());
    REQUIRE(file->asm_text.has_value());
    auto assembled = assemble(*file->asm_text, file->asm_first_line);
    INFO((assembled ? std::string() : assembled.error().reason));
    REQUIRE(assembled);
    auto insns = program_of(*file);
    REQUIRE(insns);
    auto p = decode_program(std::move(*insns));
    INFO((p ? std::string() : p.error().message()));
    REQUIRE(p);
    decoded += 1;
    with_mem += !file->mem.empty();
    with_raw += file->raw.has_value();
  }
  // README "Counts": all 313 have result, 40 use mem, 1 has raw.
  CHECK(decoded == 313);
  CHECK(with_mem == 40);
  CHECK(with_raw == 1);
}

TEST_CASE("lddw.data: the raw section equals the assembled asm section", "[data]") {
  auto file = read_data_file(suite("tests/lddw.data"));
  REQUIRE(file);
  REQUIRE(file->raw);
  REQUIRE(file->asm_text);
  auto assembled = assemble(*file->asm_text);
  REQUIRE(assembled);
  CHECK(*assembled == *file->raw);
  REQUIRE(file->raw->size() == 3);
  CHECK((*file->raw)[0] == Insn{.code = 0x18, .imm = 0x55667788});
  CHECK((*file->raw)[1] == Insn{.imm = 0x11223344});
  CHECK(file->result == 0x1122334455667788u);
}

TEST_CASE("sections: mem bytes, decimal results, ignored legacy marker, verbatim C", "[data]") {
  auto mem_len = read_data_file(suite("tests/mem-len.data"));
  REQUIRE(mem_len);
  CHECK(mem_len->mem.size() == 8);
  auto prime = read_data_file(suite("tests/prime.data"));
  REQUIRE(prime);
  CHECK(prime->c_source.find("#include <stdint.h>") != std::string::npos);
  auto parsed = parse_data_file("-- asm\nmov %r0, 0 # zero\nexit\n-- mem\n0a ff\n 1\n-- result\n18446744073709551615\n");
  REQUIRE(parsed);
  CHECK(parsed->mem == std::vector<std::uint8_t>{0x0a, 0xff, 0x01});
  CHECK(parsed->result == ~std::uint64_t{0});
  CHECK(parsed->asm_first_line == 2);
  CHECK(*parsed->asm_text == "mov %r0, 0 \nexit\n");
}

TEST_CASE("all 45 unused-field files parse and decode_program refuses them", "[data][negative]") {
  const auto files = data_files("negative", "unused-");
  REQUIRE(files.size() == 45);
  std::size_t refused = 0;
  for (const auto& path : files) {
    INFO(path.filename().string());
    auto file = read_data_file(path);
    INFO((file ? std::string() : file.error().reason));
    REQUIRE(file);
    REQUIRE(file->raw);
    CHECK(file->raw->size() == 2);
    CHECK(file->error == std::string());
    auto insns = program_of(*file);
    REQUIRE(insns);
    auto p = decode_program(std::move(*insns));
    if (!p) {
      ++refused;
      CHECK(p.error().pc == 0);  // the faulty field is in the first instruction
    }
  }
  CHECK(refused == 45);
}

TEST_CASE("all 10 invalid assembly files are refused by the assembler with a message", "[data][negative]") {
  // File name -> the message program_of() gives, numbered by file line.
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"invalid_imm32_dec_range.data", "line 5: immediate '2147483648' does not fit in 32 bits"},
      {"invalid_imm32_hex_range.data", "line 5: immediate '0x100000000' does not fit in 32 bits"},
      {"invalid_label.data", "line 4: undefined label 'NOT_A_LABEL'"},
      {"invalid_lock.data", "line 4: lock or expects 2 operands ([%rN+off], %rM), got 1"},
      {"invalid_lock2.data",
       "line 4: malformed lock: expected 'lock [fetch] add|and|or|xor|xchg|cmpxchg[32] [%rN+off], %rM'"},
      {"invalid_mnemonic.data", "line 5: unknown mnemonic 'ldxq'"},
      {"invalid_offset.data", "line 4: expected a memory operand [%rN+off], got '%r1'"},
      {"invalid_offset_range.data", "line 5: offset '+0x10000' does not fit in 16 bits"},
      {"invalid_operand_count.data", "line 4: lddw expects 2 operands, got 1"},
      {"invalid_register.data", "line 4: invalid register '%r50' (registers are %r0-%r10)"},
  };
  auto files = data_files("negative", "invalid_");
  std::erase_if(files, [](const fs::path& p) { return p.filename() == "invalid_unknown_directive.data"; });
  REQUIRE(files.size() == expected.size());
  for (const auto& [name, message] : expected) {
    INFO(name);
    auto file = read_data_file(suite("negative/" + name));
    REQUIRE(file);
    auto insns = program_of(*file);
    REQUIRE_FALSE(insns);
    CHECK(insns.error().code == bpfvm::Errc::Malformed);
    CHECK(insns.error().reason == message);
  }
}

TEST_CASE("malformed test files are refused by the parser", "[data][negative]") {
  auto unknown = read_data_file(suite("negative/invalid_unknown_directive.data"));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().reason.ends_with("invalid_unknown_directive.data: line 4: unknown section 'Unknown directive'"));
  auto empty = read_data_file(suite("negative/empty.data"));
  REQUIRE_FALSE(empty);
  CHECK(empty.error().reason.ends_with("no '-- result' or '-- error' section"));
  auto no_code = read_data_file(suite("negative/empty_instructions.data"));
  REQUIRE_FALSE(no_code);
  CHECK(no_code.error().reason.ends_with("no code: needs a non-empty '-- asm' or '-- raw' section"));
  auto missing = read_data_file(suite("negative/does-not-exist.data"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == bpfvm::Errc::Io);

  CHECK(parse_data_file("stray\n-- asm\nexit\n-- result\n0\n").error().reason ==
        "line 1: text before the first section: 'stray'");
  CHECK(parse_data_file("-- asm\nexit\n-- asm\nexit\n-- result\n0\n").error().reason ==
        "line 3: duplicate section 'asm' (first on line 1)");
  CHECK(parse_data_file("-- asm\nexit\n-- result\n1 2\n").error().reason ==
        "line 4: result must be a single number, found another '2'");
  CHECK(parse_data_file("-- raw\n95 00 00 zz 00 00 00 00\n-- error\n").error().reason ==
        "line 2: bad raw byte 'zz'");
  CHECK(parse_data_file("-- raw\n0x95 0xq\n-- error\n").error().reason == "line 2: bad raw instruction word '0xq'");
  CHECK(parse_data_file("-- asm\nexit\n-- mem\n123\n-- result\n0\n").error().reason ==
        "line 4: bad mem byte '123' (expected two hex digits)");
}

TEST_CASE("the remaining negative files parse and assemble", "[data][negative]") {
  for (const char* name : {"error.data", "incorrect_return_value_high_bits.data"}) {
    INFO(name);
    auto file = read_data_file(suite(std::string("negative/") + name));
    REQUIRE(file);
    auto insns = program_of(*file);
    REQUIRE(insns);
    CHECK(decode_program(std::move(*insns)));
  }
}
