// Hostile objects: crafted relocation errors, and truncated / mutated examples never crash and fail
// with one-line reasons.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>

#include "loader/elf_file.hpp"
#include "loader/object.hpp"
#include "tests/loader/builders.hpp"

using namespace bpfvm;
using namespace bpfvm::loader;
using namespace bpfvm::loader::test;

namespace {

constexpr std::uint8_t kStbGlobal = 1, kSttFunc = 2, kSttObject = 1;

std::string load_error(const std::vector<std::uint8_t>& bytes) {
  auto r = load_object(bytes);
  REQUIRE_FALSE(r);
  const auto msg = r.error().message();
  CHECK(msg.find('\n') == std::string::npos);
  return msg;
}

// xdp: r1 = map ll; r0 = 0; exit — with a relocation at `rel_off` against `sym`.
std::vector<std::uint8_t> object_with_map_ref(std::uint64_t rel_off, bool legacy_map_ok = true) {
  ElfBuilder b;
  std::vector<std::uint8_t> code;
  emit(code, 0x18, 1, 0, 0, 0);
  emit(code, 0x00, 0, 0, 0, 0);
  emit(code, 0xb7, 0, 0, 0, 0);
  emit(code, 0x95, 0, 0, 0, 0);
  const auto sec = b.add_code("xdp", code);
  std::vector<std::uint8_t> def;
  for (std::uint32_t w : {2u, 4u, 8u, 1u, 0u}) put32(def, w);
  if (!legacy_map_ok) def.resize(18);
  const auto maps = b.add_section("maps", 1, 0x3, def);
  b.add_symbol("prog", static_cast<std::uint16_t>(sec), kStbGlobal, kSttFunc, 0, code.size());
  const auto m = b.add_symbol("m", static_cast<std::uint16_t>(maps), kStbGlobal, kSttObject, 0, def.size());
  b.add_rel(sec, rel_off, m);
  return b.build();
}

}  // namespace

TEST_CASE("crafted object: a legacy map reference loads as lddw MapIdx") {
  auto obj = load_object(object_with_map_ref(0));
  REQUIRE(obj);
  REQUIRE(obj->maps.size() == 1);
  CHECK(obj->maps[0].name == "m");
  const auto& insn = obj->programs.at(0).program.insns[0];
  CHECK(insn.src == 5);
  CHECK(insn.imm == 0);
}

TEST_CASE("crafted objects with bad relocations fail naming the section and offset") {
  CHECK(load_error(object_with_map_ref(4)).find("bad insn offset 4") != std::string::npos);
  CHECK(load_error(object_with_map_ref(4096)).find("section 'xdp'") != std::string::npos);
  CHECK(load_error(object_with_map_ref(16)).find("neither call nor lddw") != std::string::npos);
  // A short legacy definition is read as far as it goes, like libbpf does.
  auto short_def = load_object(object_with_map_ref(0, false));
  REQUIRE(short_def);
  CHECK(short_def->maps.at(0).max_entries == 1);
  CHECK(short_def->maps.at(0).map_flags == 0);
}

namespace {

// xdp: r1 = &m (a static map, through the section symbol) ll; call sub (static, in .text); exit — and
// .text: sub at insn 1. With `rela`, the addends travel in SHT_RELA entries and the fields hold junk.
std::vector<std::uint8_t> object_with_static_refs(bool rela, std::int64_t map_addend = 20, std::int64_t call_addend = 8) {
  ElfBuilder b;
  if (rela) b.use_rela();
  std::vector<std::uint8_t> code, text;
  const std::int32_t junk = 0x5a5a5a5a;
  emit(code, 0x18, 1, 0, 0, rela ? junk : static_cast<std::int32_t>(map_addend));
  emit(code, 0x00, 0, 0, 0, 0);
  emit(code, 0x85, 0, 1, 0, rela ? junk : static_cast<std::int32_t>(call_addend / 8 - 1));
  emit(code, 0x95, 0, 0, 0, 0);
  emit(text, 0xb7, 0, 0, 0, 1);
  emit(text, 0xb7, 0, 0, 0, 2);
  emit(text, 0x95, 0, 0, 0, 0);
  const auto sec = b.add_code("xdp", code);
  const auto txt = b.add_code(".text", text);
  std::vector<std::uint8_t> defs;
  for (int m = 0; m < 2; ++m)
    for (std::uint32_t w : {2u, 4u, 8u, 1u, 0u}) put32(defs, w);
  const auto maps = b.add_section("maps", 1, 0x3, defs);
  b.add_symbol("prog", static_cast<std::uint16_t>(sec), kStbGlobal, kSttFunc, 0, code.size());
  b.add_symbol("sub", static_cast<std::uint16_t>(txt), 0, kSttFunc, 8, 16);
  b.add_symbol("m0", static_cast<std::uint16_t>(maps), 0, kSttObject, 0, 20);
  b.add_symbol("m1", static_cast<std::uint16_t>(maps), 0, kSttObject, 20, 20);
  const auto maps_sym = b.add_symbol("", static_cast<std::uint16_t>(maps), 0, 3, 0, 0);  // STT_SECTION
  const auto text_sym = b.add_symbol("", static_cast<std::uint16_t>(txt), 0, 3, 0, 0);
  b.add_rel(sec, 0, maps_sym, 1, map_addend);    // R_BPF_64_64
  b.add_rel(sec, 16, text_sym, 10, call_addend);  // R_BPF_64_32
  return b.build();
}

}  // namespace

TEST_CASE("crafted object: SHT_RELA takes its addends from the entries, and loads as the SHT_REL twin") {
  auto rel = load_object(object_with_static_refs(false));
  auto rela = load_object(object_with_static_refs(true));
  REQUIRE(rel);
  REQUIRE(rela);
  const auto& a = rel->programs.at(0).program.insns;
  const auto& b = rela->programs.at(0).program.insns;
  REQUIRE(a.size() == 6);  // main (4) + sub (2)
  REQUIRE(b.size() == a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("insn " << i);
    CHECK(a[i].code == b[i].code);
    CHECK(a[i].src == b[i].src);
    CHECK(a[i].imm == b[i].imm);
  }
  CHECK(b[0].src == 5);  // lddw MapIdx
  CHECK(b[0].imm == 1);  // m1, at offset 20
  CHECK(b[2].imm == 1);  // call to insn 4 = sub's second instruction (offset 8 of .text)
}

TEST_CASE("crafted object: SHT_RELA addends that do not fit the instruction are refused in one line") {
  CHECK(load_error(object_with_static_refs(true, 20, 12)).find("section 'xdp': relocation #1 at insn 2: addend 12 does not fit a call relocation") !=
        std::string::npos);
  CHECK(load_error(object_with_static_refs(true, std::int64_t(1) << 32)).find("addend 4294967296 does not fit a lddw relocation") !=
        std::string::npos);
  // An SHT_REL section relabelled SHT_RELA: 16-byte entries are not Elf64_Rela.
  auto bytes = object_with_map_ref(0);
  auto elf = ElfFile::parse(bytes);
  REQUIRE(elf);
  const auto* rel = elf->find(".relxdp");
  REQUIRE(rel != nullptr);
  bytes[static_cast<std::size_t>(peek64(bytes, 40)) + 64 * rel->index + 4] = 4;  // sh_type = SHT_RELA
  const auto msg = load_error(bytes);
  INFO(msg);
  CHECK(msg.find("do not fit 24-byte Elf64_Rela") != std::string::npos);
}

TEST_CASE("crafted object: a call to nowhere and an unknown extern") {
  SECTION("call outside any function") {
    ElfBuilder b;
    std::vector<std::uint8_t> code;
    emit(code, 0x85, 0, 1, 0, 100);
    emit(code, 0x95, 0, 0, 0, 0);
    const auto sec = b.add_code("xdp", code);
    b.add_symbol("prog", static_cast<std::uint16_t>(sec), kStbGlobal, kSttFunc, 0, code.size());
    CHECK(load_error(b.build()).find("in no function") != std::string::npos);
  }
  SECTION("kfunc") {
    ElfBuilder b;
    std::vector<std::uint8_t> code;
    emit(code, 0x85, 0, 1, 0, -1);
    emit(code, 0x95, 0, 0, 0, 0);
    const auto sec = b.add_code("xdp", code);
    b.add_symbol("prog", static_cast<std::uint16_t>(sec), kStbGlobal, kSttFunc, 0, code.size());
    const auto ext = b.add_symbol("bpf_kfunc_thing", 0, kStbGlobal, 0, 0, 0);
    b.add_rel(sec, 0, ext, 10);
    BtfBuilder btf;
    btf.add_int("int", 4);
    b.add_section(".BTF", 1, 0, btf.build());
    const auto object = b.build();
    // Without a target BTF the call becomes BPF_PSEUDO_KFUNC_CALL with an id of bpfvm's own (negative),
    // and the program names the kfunc, so engines find it by name.
    auto r = load_object(object);
    INFO((r ? std::string() : r.error().message()));
    REQUIRE(r);
    REQUIRE(r->programs.size() == 1);
    const auto& p = r->programs[0];
    CHECK(p.unresolved_extern.empty());
    REQUIRE_FALSE(p.relocations.empty());
    CHECK(p.relocations[0].kind == AppliedReloc::Kind::Kfunc);
    CHECK(p.program.insns[0].src == 2);
    CHECK(p.program.insns[0].imm == -1);
    CHECK(p.program.op(0).form == isa::Form::CallKfunc);
    REQUIRE(p.program.kfunc_name(-1) != nullptr);
    CHECK(*p.program.kfunc_name(-1) == "bpf_kfunc_thing");
    // A target BTF without that function: the program carries it unresolved, as libbpf fails the load
    // ("not found in kernel BTF"); the API refuses loading just that program.
    BtfBuilder target;
    target.add_int("int", 4);
    const auto target_bytes = target.build();
    LoadOptions with_target;
    with_target.target_btf = target_bytes;
    auto t = load_object(object, with_target);
    INFO((t ? std::string() : t.error().message()));
    REQUIRE(t);
    REQUIRE(t->programs.size() == 1);
    CHECK(t->programs[0].unresolved_extern ==
          "extern kfunc 'bpf_kfunc_thing' (the kernel's BTF has no function of that name) at insn 0");
    REQUIRE_FALSE(t->programs[0].relocations.empty());
    CHECK(t->programs[0].relocations[0].kind == AppliedReloc::Kind::ExternUnresolved);
    // A target BTF with it: imm = the kernel FUNC's id, what the kernel's verifier would see.
    BtfBuilder kernel;
    const auto int_id = kernel.add_int("int", 4);
    const auto func_id = kernel.add_func("bpf_kfunc_thing", kernel.add_func_proto(int_id, {}));
    const auto kernel_bytes = kernel.build();
    LoadOptions with_kernel;
    with_kernel.target_btf = kernel_bytes;
    auto k = load_object(object, with_kernel);
    REQUIRE(k);
    REQUIRE(k->programs.size() == 1);
    CHECK(k->programs[0].unresolved_extern.empty());
    CHECK(k->programs[0].program.insns[0].imm == static_cast<std::int32_t>(func_id));
    REQUIRE(k->programs[0].program.kfunc_name(static_cast<std::int32_t>(func_id)) != nullptr);
    CHECK(*k->programs[0].program.kfunc_name(static_cast<std::int32_t>(func_id)) == "bpf_kfunc_thing");
  }
  SECTION("static program: loaded, as older libbpf and iproute2 did") {
    ElfBuilder b;
    std::vector<std::uint8_t> code;
    emit(code, 0xb7, 0, 0, 0, 2);
    emit(code, 0x95, 0, 0, 0, 0);
    const auto sec = b.add_code("xdp", code);
    b.add_symbol("prog", static_cast<std::uint16_t>(sec), 0, kSttFunc, 0, code.size());
    auto r = load_object(b.build());
    REQUIRE(r);
    REQUIRE(r->programs.size() == 1);
    CHECK(r->programs[0].name == "prog");
    CHECK(r->programs[0].program.size() == 2);
  }
  SECTION("code without a function symbol: one program named after the section") {
    ElfBuilder b;
    std::vector<std::uint8_t> code;
    emit(code, 0xb7, 0, 0, 0, 2);
    emit(code, 0x95, 0, 0, 0, 0);
    b.add_code("socket7", code);
    auto r = load_object(b.build());
    REQUIRE(r);
    REQUIRE(r->programs.size() == 1);
    CHECK(r->programs[0].name == "socket7");
    CHECK(r->programs[0].whole_section);
    CHECK(r->programs[0].prog_type == 1);  // BPF_PROG_TYPE_SOCKET_FILTER by the pre-1.0 prefix "socket"
  }
}

TEST_CASE("truncated and mutated examples never crash") {
  BtfBuilder tb;
  const auto i = tb.add_int("int", 4, 1);
  tb.add_struct("task_struct", 16, {{"pid", i, 0}, {"tgid", i, 32}});
  const auto target = tb.build();
  LoadOptions o;
  o.target_btf = target;
  o.kconfig["LINUX_KERNEL_VERSION"] = "1";
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::size_t truncated = 0, flipped = 0, flips_refused = 0;
  for (const auto* name : {"globals_subprog", "maps", "core_task", "xdp_parse", "socket_filter", "large_unrolled"}) {
    const auto bytes = slurp(std::string(BPFVM_EXAMPLES_DIR) + "/" + name + ".bpf.o");
    REQUIRE_FALSE(bytes.empty());
    // clang puts the section header table at the end of the file: every truncation cuts it, so every
    // truncated object must be refused, with a one-line reason.
    for (std::size_t len = 0; len < bytes.size(); len += 61) {
      auto r = load_object(std::span(bytes.data(), len), o);
      ++truncated;
      INFO(name << " truncated to " << len << " of " << bytes.size() << " bytes");
      REQUIRE_FALSE(r.has_value());
      CHECK_FALSE(r.error().reason.empty());
      CHECK(r.error().message().find('\n') == std::string::npos);
    }
    for (int iter = 0; iter < 600; ++iter) {
      auto m = bytes;
      const int flips = 1 + static_cast<int>(next() % 8);
      for (int f = 0; f < flips; ++f) m[next() % m.size()] ^= static_cast<std::uint8_t>(1u << (next() % 8));
      auto r = load_object(m, o);
      ++flipped;
      if (!r) {
        ++flips_refused;
        CHECK_FALSE(r.error().reason.empty());
        CHECK(r.error().message().find('\n') == std::string::npos);
      }
    }
  }
  // A flipped bit may land where nothing checks it (code, padding, strings): some flips load, and a
  // loader that refused none, or all, would not be reading these bytes as an ELF reader must.
  INFO(truncated << " truncations refused; " << flips_refused << " of " << flipped << " bit-flipped objects refused");
  CHECK(flips_refused > 0);
  CHECK(flips_refused < flipped);
}

TEST_CASE("crafted object: a program that does not decode is refused alone, its section's others load") {
  // Two programs in one section, as the kernel selftests write them: `bad` jumps past its last insn.
  // libbpf loads the one asked for; the loader keeps bad's reason and gives `good` its instructions.
  ElfBuilder b;
  std::vector<std::uint8_t> code;
  emit(code, 0xb7, 0, 0, 0, 2);  // good: r0 = 2
  emit(code, 0x95, 0, 0, 0, 0);  //       exit
  emit(code, 0x05, 0, 0, 3, 0);  // bad:  ja +3 (past the end)
  emit(code, 0x95, 0, 0, 0, 0);  //       exit
  const auto sec = b.add_code("xdp", code);
  b.add_symbol("good", static_cast<std::uint16_t>(sec), kStbGlobal, kSttFunc, 0, 16);
  b.add_symbol("bad", static_cast<std::uint16_t>(sec), kStbGlobal, kSttFunc, 16, 16);
  auto r = load_object(b.build());
  INFO((r ? std::string() : r.error().message()));
  REQUIRE(r);
  REQUIRE(r->programs.size() == 2);
  const auto by_name = [&](std::string_view n) {
    return *std::find_if(r->programs.begin(), r->programs.end(), [&](const ProgramSpec& p) { return p.name == n; });
  };
  const ProgramSpec good = by_name("good"), bad = by_name("bad");
  CHECK(good.decode_error.empty());
  CHECK(good.program.size() == 2);
  CHECK(bad.program.size() == 0);
  CHECK(bad.decode_error.find("program 'bad'") != std::string::npos);
  CHECK(bad.decode_error.find("out of range") != std::string::npos);
}
