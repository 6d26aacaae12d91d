// ElfFile: parsing of crafted objects and refusal of malformed headers.
#include <catch2/catch.hpp>

#include "loader/elf_file.hpp"
#include "tests/loader/builders.hpp"

using namespace bpfvm;
using namespace bpfvm::loader;
using namespace bpfvm::loader::test;

namespace {

std::vector<std::uint8_t> minimal_object() {
  ElfBuilder b;
  std::vector<std::uint8_t> code;
  emit(code, 0xb7, 0, 0, 0, 7);  // r0 = 7
  emit(code, 0x95, 0, 0, 0, 0);  // exit
  const auto sec = b.add_code("xdp", code);
  b.add_symbol("prog", static_cast<std::uint16_t>(sec), 1, 2, 0, 16);
  return b.build();
}

std::string parse_error(const std::vector<std::uint8_t>& bytes) {
  auto r = ElfFile::parse(bytes);
  REQUIRE_FALSE(r);
  return r.error().message();
}

std::size_t shdr(const std::vector<std::uint8_t>& f, std::size_t i) { return static_cast<std::size_t>(peek64(f, 40)) + i * 64; }

}  // namespace

TEST_CASE("ElfFile parses sections and symbols of a crafted object") {
  const auto bytes = minimal_object();
  auto elf = ElfFile::parse(bytes);
  REQUIRE(elf);
  const auto* xdp = elf->find("xdp");
  REQUIRE(xdp);
  CHECK(xdp->data.size() == 16);
  REQUIRE(elf->symbols().size() == 2);
  CHECK(elf->symbols()[1].name == "prog");
  CHECK(elf->symbols()[1].shndx == xdp->index);
  CHECK(elf->find("nope") == nullptr);
}

TEST_CASE("ElfFile refuses malformed headers with one-line reasons") {
  auto bytes = minimal_object();
  SECTION("short") { CHECK(parse_error({bytes.begin(), bytes.begin() + 20}).find("shorter than an ELF header") != std::string::npos); }
  SECTION("magic") { bytes[1] = 'X'; CHECK(parse_error(bytes).find("magic") != std::string::npos); }
  SECTION("32-bit") {
    bytes[4] = 1;
    auto r = ElfFile::parse(bytes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::Unsupported);
    CHECK(r.error().reason.find("32-bit") != std::string::npos);
  }
  SECTION("big-endian") { bytes[5] = 2; CHECK(parse_error(bytes).find("big-endian") != std::string::npos); }
  SECTION("wrong machine") { bytes[18] = 62; CHECK(parse_error(bytes).find("wrong machine 62") != std::string::npos); }
  SECTION("not relocatable") { bytes[16] = 2; CHECK(parse_error(bytes).find("ET_REL") != std::string::npos); }
  SECTION("section data outside the file") {
    poke64(bytes, shdr(bytes, 1) + 24, 1u << 30);
    CHECK(parse_error(bytes).find("outside the file") != std::string::npos);
  }
  SECTION("overlapping sections") {
    poke64(bytes, shdr(bytes, 2) + 24, peek64(bytes, shdr(bytes, 1) + 24));  // .strtab on top of xdp
    CHECK(parse_error(bytes).find("overlaps") != std::string::npos);
  }
  SECTION("section header table truncated") {
    bytes.erase(bytes.end() - 10, bytes.end());
    CHECK(parse_error(bytes).find("truncated") != std::string::npos);
  }
  SECTION("shstrndx out of range") {
    bytes[62] = 200;
    CHECK(parse_error(bytes).find("e_shstrndx") != std::string::npos);
  }
  SECTION("section name outside the name table") {
    poke32(bytes, shdr(bytes, 1), 100000);
    CHECK(parse_error(bytes).find("name offset") != std::string::npos);
  }
  SECTION("symbol table entry size") {
    poke64(bytes, shdr(bytes, 3) + 56, 16);
    CHECK(parse_error(bytes).find("Elf64_Sym") != std::string::npos);
  }
}

TEST_CASE("ElfFile checks relocation symbol indices") {
  ElfBuilder b;
  std::vector<std::uint8_t> code;
  emit(code, 0x18, 1, 0, 0, 0);
  emit(code, 0x00, 0, 0, 0, 0);
  emit(code, 0x95, 0, 0, 0, 0);
  const auto sec = b.add_code("xdp", code);
  b.add_symbol("prog", static_cast<std::uint16_t>(sec), 1, 2, 0, 24);
  b.add_rel(sec, 0, 99);
  const auto bytes = b.build();
  auto elf = ElfFile::parse(bytes);
  REQUIRE(elf);
  const auto* rel = elf->find(".relxdp");
  REQUIRE(rel);
  auto rels = elf->relocations(*rel);
  REQUIRE_FALSE(rels);
  CHECK(rels.error().reason.find("names symbol 99") != std::string::npos);
}
