// Object reports: text, JSON and the source-interleaved disassembly.
#include <catch2/catch.hpp>

#include "loader/elf_file.hpp"
#include "loader/object_report.hpp"
#include "tests/loader/builders.hpp"

using namespace bpfvm;
using namespace bpfvm::loader;
using namespace bpfvm::loader::test;

namespace {

Object load_globals() {
  const auto bytes = slurp(std::string(BPFVM_EXAMPLES_DIR) + "/globals_subprog.bpf.o");
  auto obj = load_object(bytes, {});
  REQUIRE(obj);
  return std::move(*obj);
}

}  // namespace

TEST_CASE("object_report_text lists programs, maps, relocations and BTF") {
  const auto obj = load_globals();
  const auto text = object_report_text(obj);
  CHECK(text.find("license: GPL") != std::string::npos);
  CHECK(text.find("xdp_main  section xdp  type xdp  insns 59") != std::string::npos);
  CHECK(text.find("tc_optional  section tc  type sched_cls") != std::string::npos);
  CHECK(text.find("(no autoload)") != std::string::npos);
  CHECK(text.find(".rodata  type array  key 4  value 4  max_entries 1") != std::string::npos);
  CHECK(text.find("reloc insn 6: func_addr sum_cb") != std::string::npos);
  CHECK(text.find("btf: ") != std::string::npos);
  CHECK(text.find("FUNC_PROTO") != std::string::npos);
}

TEST_CASE("object_report_json is one JSON object with stable keys") {
  const auto obj = load_globals();
  const auto json = object_report_json(obj);
  CHECK(json.front() == '{');
  CHECK(json.back() == '}');
  for (const char* key : {"\"programs\":[", "\"maps\":[", "\"btf\":{", "\"name\":\"xdp_main\"", "\"autoload\":false",
                          "\"kind\":\"call\"", "\"frozen\":true"})
    CHECK(json.find(key) != std::string::npos);
  // Braces and brackets balance (strings in this object hold none).
  int depth = 0;
  for (const char c : json) depth += (c == '{' || c == '[') - (c == '}' || c == ']');
  CHECK(depth == 0);
}

TEST_CASE("disassemble_with_source interleaves line info") {
  const auto obj = load_globals();
  const auto& p = *obj.find_program("xdp_main");
  const auto listing = disassemble_with_source(p, [](const vm::Program& prog, std::size_t pc) {
    return std::string(prog.op(pc).mnemonic);
  });
  CHECK(listing.find("; ") != std::string::npos);
  CHECK(listing.find("bpf_loop(4, sum_cb, &acc, 0);") != std::string::npos);
  CHECK(listing.find("globals_subprog.bpf.c:") != std::string::npos);
  CHECK(listing.find("0: ") != std::string::npos);
  CHECK(listing.find("\n7: ") == std::string::npos);  // second slot of the lddw at 6
}

TEST_CASE("json_string: well-formed UTF-8 passes, every other byte >= 0x80 is escaped, so the JSON stays valid") {
  CHECK(json_string("GPL") == "\"GPL\"");
  CHECK(json_string("a\"b\\c\n\x01\x7f") == "\"a\\\"b\\\\c\\n\\u0001\\u007f\"");
  CHECK(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9d") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9d\"");
  CHECK(json_string("G\xffL") == "\"G\\u00ffL\"");               // not UTF-8 at all
  CHECK(json_string("\xc3") == "\"\\u00c3\"");                  // truncated sequence
  CHECK(json_string("\xc0\xaf") == "\"\\u00c0\\u00af\"");       // overlong '/'
  CHECK(json_string("\xed\xa0\x80") == "\"\\u00ed\\u00a0\\u0080\"");  // UTF-16 surrogate
  CHECK(json_string("\xf4\x90\x80\x80") == "\"\\u00f4\\u0090\\u0080\\u0080\"");  // above U+10FFFF
}

TEST_CASE("object_report_json escapes a license string that is not UTF-8") {
  auto bytes = slurp(std::string(BPFVM_EXAMPLES_DIR) + "/globals_subprog.bpf.o");
  auto elf = ElfFile::parse(bytes);
  REQUIRE(elf);
  std::size_t at = 0;
  for (const auto& s : elf->sections())
    if (s.name == "license") at = static_cast<std::size_t>(s.offset);
  REQUIRE(at != 0);
  bytes[at + 1] = 0xff;  // "G\xffL"
  auto obj = load_object(bytes, {});
  REQUIRE(obj);
  CHECK(object_report_json(*obj).find("\"license\":\"G\\u00ffL\"") != std::string::npos);
}
