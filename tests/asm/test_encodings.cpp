// Assembler encodings checked against bytes written out from RFC 9669, and its error messages.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "vm/assembler.hpp"
#include "vm/program.hpp"

namespace {

using bpfvm::vm::assemble;
using bpfvm::vm::encode_program;

std::vector<std::uint8_t> bytes_of(const std::string& text) {
  auto insns = assemble(text);
  INFO(text << " -> " << (insns ? std::string("ok") : insns.error().reason));
  REQUIRE(insns);
  return encode_program(*insns);
}

struct Encoding {
  const char* text;
  std::vector<std::uint8_t> bytes;  // RFC 9669 section 3: code, src<<4|dst, off (LE16), imm (LE32)
};

std::string error_of(const std::string& text) {
  auto insns = assemble(text);
  REQUIRE_FALSE(insns);
  CHECK(insns.error().code == bpfvm::Errc::Malformed);
  return insns.error().reason;
}

}  // namespace

TEST_CASE("assembler encodes each instruction class as RFC 9669 specifies", "[asm]") {
  const std::vector<Encoding> table = {
      // ALU64 / ALU32, K and X sources (4.1)
      {"mov %r0, 1", {0xb7, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}},
      {"mov %r0, -2147483648", {0xb7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80}},
      {"mov32 %r0, 0xffffffff", {0xb4, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff}},
      {"add32 %r1, %r2", {0x0c, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"arsh32 %r1, %r2", {0xcc, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"neg %r1", {0x87, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"neg32 %r9", {0x84, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      // sdiv/smod: div/mod with off 1; movsx: mov with off = source bits
      {"sdiv %r1, 3", {0x37, 0x01, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00}},
      {"smod32 %r1, %r2", {0x9c, 0x21, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"movsx864 %r1, %r2", {0xbf, 0x21, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"movsx3264 %r1, %r2", {0xbf, 0x21, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"movsx1632 %r1, %r2", {0xbc, 0x21, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00}},
      // Byte order (4.2): END, source bit = to-BE, imm = width; ALU64 END = bswap
      {"le16 %r1", {0xd4, 0x01, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00}},
      {"be64 %r1", {0xdc, 0x01, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00}},
      {"bswap32 %r1", {0xd7, 0x01, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00}},
      {"swap32 %r1", {0xd7, 0x01, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00}},
      // Loads and stores (5.1, 5.2)
      {"ldxdw %r0, [%r1+8]", {0x79, 0x10, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"ldxh %r0, [%r1]", {0x69, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"ldxsb %r1, [%r2-1]", {0x91, 0x21, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00}},
      {"ldxsw %r1, [%r2+0x10]", {0x81, 0x21, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"stw [%r10-4], 7", {0x62, 0x0a, 0xfc, 0xff, 0x07, 0x00, 0x00, 0x00}},
      {"stdw [%r1+0], -1", {0x7a, 0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff}},
      {"stxb [%r1+2], %r3", {0x73, 0x31, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"stxdw [%r10-32768], %r1", {0x7b, 0x1a, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00}},
      // Atomics (5.3): imm = operation, FETCH = 0x01
      {"lock add [%r1+0], %r2", {0xdb, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"lock or [%r1+0], %r2", {0xdb, 0x21, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00}},
      {"lock and32 [%r1+0], %r2", {0xc3, 0x21, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00}},
      {"lock fetch xor [%r1-8], %r2", {0xdb, 0x21, 0xf8, 0xff, 0xa1, 0x00, 0x00, 0x00}},
      {"lock fetch add32 [%r1+0], %r2", {0xc3, 0x21, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}},
      {"lock xchg32 [%r1+0], %r2", {0xc3, 0x21, 0x00, 0x00, 0xe1, 0x00, 0x00, 0x00}},
      {"lock cmpxchg [%r1+0], %r2", {0xdb, 0x21, 0x00, 0x00, 0xf1, 0x00, 0x00, 0x00}},
      // lddw (5.4) in two slots, and its pseudo sources
      {"lddw %r0, 0x1122334455667788",
       {0x18, 0x00, 0x00, 0x00, 0x88, 0x77, 0x66, 0x55, 0x00, 0x00, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11}},
      {"lddw %r1, -1",
       {0x18, 0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff}},
      {"lddw_map_fd %r1, 3",
       {0x18, 0x11, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"lddw_map_value %r1, 3, 16",
       {0x18, 0x21, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00}},
      // Jumps (4.3): offsets count slots after the next one
      {"jeq %r1, 5, +3", {0x15, 0x01, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00}},
      {"jne32 %r1, %r2, -1", {0x5e, 0x21, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00}},
      {"jsle %r3, -7, +0", {0xd5, 0x03, 0x00, 0x00, 0xf9, 0xff, 0xff, 0xff}},
      {"ja -2", {0x05, 0x00, 0xfe, 0xff, 0x00, 0x00, 0x00, 0x00}},
      {"ja32 +5", {0x06, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00}},
      // Calls: helper (src 0), local (src 1, imm relative), callx (register in dst)
      {"call 5", {0x85, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00}},
      {"call local +2", {0x85, 0x10, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}},
      {"call %r2", {0x8d, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"callx %r2", {0x8d, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {"exit", {0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
  };
  for (const auto& row : table) {
    INFO(row.text);
    CHECK(bytes_of(row.text) == row.bytes);
  }
}

TEST_CASE("labels resolve to slot offsets, counting lddw as two slots", "[asm]") {
  const auto insns = assemble(
      "  jeq %r1, 0, skip   # forward over a two-slot lddw\n"
      "  lddw %r0, 0x100000000\n"
      "skip:\n"
      "  ja exit\n"
      "back:\n"
      "  mov %r0, 1\n"
      "  exit\n"
      "  ja32 back\n"
      "  call local back\n");
  REQUIRE(insns);
  REQUIRE(insns->size() == 8);
  CHECK((*insns)[0].off == 2);   // slot 0 -> slot 3
  CHECK((*insns)[3].off == 1);   // implicit `exit` = first exit, slot 5
  CHECK((*insns)[6].imm == -3);  // slot 6 -> slot 4
  CHECK((*insns)[7].imm == -4);  // slot 7 -> slot 4
}

TEST_CASE("an explicit exit label wins over the implicit one", "[asm]") {
  const auto insns = assemble("ja exit\nexit\nexit:\nexit\n");
  REQUIRE(insns);
  CHECK((*insns)[0].off == 1);
}

TEST_CASE("assembler errors name the line and the reason", "[asm]") {
  CHECK(error_of("mov %r0, 1\nfoo %r1, 2\nexit") == "line 2: unknown mnemonic 'foo'");
  CHECK(error_of("or %r0, %r50") == "line 1: invalid register '%r50' (registers are %r0-%r10)");
  CHECK(error_of("mov32 %r0, 2147483648") == "line 1: immediate '2147483648' does not fit in 32 bits");
  CHECK(error_of("mov32 %r0, -2147483649") == "line 1: immediate '-2147483649' does not fit in 32 bits");
  CHECK(error_of("mov32 %r0, 0x100000000") == "line 1: immediate '0x100000000' does not fit in 32 bits");
  CHECK(error_of("ldxb %r0, [%r1+0x10000]") == "line 1: offset '+0x10000' does not fit in 16 bits");
  CHECK(error_of("ldxb %r0, [%r1+32768]") == "line 1: offset '+32768' does not fit in 16 bits");
  CHECK(error_of("ldxb %r0, %r1") == "line 1: expected a memory operand [%rN+off], got '%r1'");
  CHECK(error_of("ja NOT_A_LABEL\nexit") == "line 1: undefined label 'NOT_A_LABEL'");
  CHECK(error_of("lddw %r0") == "line 1: lddw expects 2 operands, got 1");
  CHECK(error_of("exit %r0") == "line 1: exit expects 0 operands, got 1");
  CHECK(error_of("neg %r1, 2") == "line 1: neg expects 1 operand, got 2");
  CHECK(error_of("lock or [%r10-8]") == "line 1: lock or expects 2 operands ([%rN+off], %rM), got 1");
  CHECK(error_of("lock") ==
        "line 1: malformed lock: expected 'lock [fetch] add|and|or|xor|xchg|cmpxchg[32] [%rN+off], %rM'");
  CHECK(error_of("lock fetch xchg [%r1+0], %r2").find("unknown operation 'fetch xchg'") != std::string::npos);
  CHECK(error_of("movsx864 %r1, 8") == "line 1: movsx864 takes a register source, got '8'");
  CHECK(error_of("ja +32768") == "line 1: offset '+32768' does not fit in 16 bits");
  CHECK(error_of("ja 5") == "line 1: expected a label or +N/-N offset, got '5'");
  CHECK(error_of("a:\nexit\na:\n") == "line 3: label 'a' is already defined on line 1");
  CHECK(error_of("lddw %r0, 0x10000000000000000") == "line 1: immediate '0x10000000000000000' does not fit in 64 bits");
  CHECK(error_of("mov %r0, 1O") == "line 1: expected an immediate, got '1O'");
}

TEST_CASE("first_line numbers messages from a file's asm section", "[asm]") {
  const auto insns = assemble("\n# comment\nldxq %r0, %r1\n", 4);
  REQUIRE_FALSE(insns);
  CHECK(insns.error().reason == "line 6: unknown mnemonic 'ldxq'");
}
