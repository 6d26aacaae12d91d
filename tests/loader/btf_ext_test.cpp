// BtfExt: record parsing and refusal of malformed .BTF.ext sections.
#include <catch2/catch.hpp>

#include "loader/btf_ext.hpp"
#include "tests/loader/builders.hpp"

using namespace bpfvm;
using namespace bpfvm::loader;
using namespace bpfvm::loader::test;

namespace {

struct Fixture {
  BtfBuilder b;
  std::uint32_t sec_name = 0, file = 0, line = 0, access = 0, func = 0, strct = 0;
  Fixture() {
    const auto i = b.add_int("int", 4, 1);
    strct = b.add_struct("s", 8, {{"a", i, 0}, {"b", i, 32}});
    func = b.add_func("prog", b.add_func_proto(i, {}));
    sec_name = b.str("xdp");
    file = b.str("prog.c");
    line = b.str("  return 0;");
    access = b.str("0:1");
  }
  // header (32 bytes) + func_info + line_info + core_relo.
  std::vector<std::uint8_t> ext(std::uint32_t func_records = 1) const {
    std::vector<std::uint8_t> fi, li, cr;
    put32(fi, 8);
    put32(fi, sec_name);
    put32(fi, func_records);
    for (std::uint32_t k = 0; k < func_records; ++k) { put32(fi, 0); put32(fi, func); }
    put32(li, 16);
    put32(li, sec_name);
    put32(li, 1);
    put32(li, 8);
    put32(li, file);
    put32(li, line);
    put32(li, (12u << 10) | 3);
    put32(cr, 16);
    put32(cr, sec_name);
    put32(cr, 1);
    put32(cr, 16);
    put32(cr, strct);
    put32(cr, access);
    put32(cr, 0);
    std::vector<std::uint8_t> out;
    put16(out, 0xeB9F);
    out.push_back(1);
    out.push_back(0);
    put32(out, 32);
    put32(out, 0);
    put32(out, static_cast<std::uint32_t>(fi.size()));
    put32(out, static_cast<std::uint32_t>(fi.size()));
    put32(out, static_cast<std::uint32_t>(li.size()));
    put32(out, static_cast<std::uint32_t>(fi.size() + li.size()));
    put32(out, static_cast<std::uint32_t>(cr.size()));
    out.insert(out.end(), fi.begin(), fi.end());
    out.insert(out.end(), li.begin(), li.end());
    out.insert(out.end(), cr.begin(), cr.end());
    return out;
  }
};

}  // namespace

TEST_CASE("BtfExt parses func info, line info and CO-RE records") {
  Fixture f;
  auto btf = Btf::parse(f.b.build());
  REQUIRE(btf);
  auto ext = BtfExt::parse(f.ext(), *btf);
  REQUIRE(ext);
  REQUIRE(ext->func_info.size() == 1);
  CHECK(ext->func_info[0].section == "xdp");
  CHECK(ext->func_info[0].records[0].type_id == f.func);
  REQUIRE(ext->line_info.size() == 1);
  const auto& l = ext->line_info[0].records[0];
  CHECK(l.insn_off_bytes == 8);
  CHECK(l.line == 12);
  CHECK(l.column == 3);
  CHECK(btf->string_at(l.line_off) == "  return 0;");
  REQUIRE(ext->core_relos.size() == 1);
  CHECK(ext->core_relos[0].records[0].type_id == f.strct);
  CHECK(btf->string_at(ext->core_relos[0].records[0].access_str_off) == "0:1");
}

TEST_CASE("BtfExt refuses malformed sections") {
  Fixture f;
  auto btf = Btf::parse(f.b.build());
  REQUIRE(btf);
  auto fails = [&](const std::vector<std::uint8_t>& bytes, const char* needle) {
    auto r = BtfExt::parse(bytes, *btf);
    REQUIRE_FALSE(r);
    INFO(r.error().reason);
    CHECK(r.error().reason.find(needle) != std::string::npos);
  };
  SECTION("zero records") { fails(f.ext(0), "zero records"); }
  SECTION("record count runs past the end") {
    auto bytes = f.ext();
    poke32(bytes, 32 + 8, 1000000);
    fails(bytes, "run past the end");
  }
  SECTION("record size too small") {
    auto bytes = f.ext();
    poke32(bytes, 32, 4);
    fails(bytes, "record size 4");
  }
  SECTION("func_info names a non-FUNC type") {
    auto bytes = f.ext();
    poke32(bytes, 32 + 16, f.strct);
    fails(bytes, "is not a FUNC");
  }
  SECTION("info outside the section") {
    auto bytes = f.ext();
    poke32(bytes, 12, 1u << 20);
    fails(bytes, "outside the section");
  }
  SECTION("truncated header") { fails({0x9f, 0xeb, 1, 0}, "shorter than its header"); }
}
