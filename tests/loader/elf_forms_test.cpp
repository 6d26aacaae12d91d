// The example and legacy-style objects in the other ELF forms the loader reads (built by
// tests/loader/CMakeLists.txt into BPFVM_ELF_FORMS_DIR): SHT_RELA relocations, compressed DWARF, compressed
// .BTF/.BTF.ext, and the other byte order. Each must load into the same Object and get the same verdicts
// as the clang object it came from, or be refused with one line; damaged compressed sections too.
#include <elf.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bpfvm/bpfvm.hpp"
#include "loader/elf_file.hpp"
#include "loader/object.hpp"
#include "loader/object_report.hpp"
#include "tests/loader/builders.hpp"

using namespace bpfvm;
using loader::test::peek64;
using loader::test::poke32;
using loader::test::poke64;
using loader::test::slurp;

namespace {

constexpr const char* kExamples[] = {"core_task", "globals_subprog", "large_unrolled", "maps", "socket_filter", "xdp_off_by_two", "xdp_parse"};
constexpr const char* kLegacy[] = {"legacy_elf_maps", "legacy_load_maps", "legacy_nosym", "legacy_sections", "legacy_tail_calls", "legacy_text_only"};

std::string original_path(std::string_view name) {
  const bool legacy = name.starts_with("legacy_");
  return std::string(legacy ? BPFVM_LEGACY_OBJECTS_DIR : BPFVM_EXAMPLES_DIR) + "/" + std::string(name) + ".bpf.o";
}
std::string form_path(std::string_view name, std::string_view form) {
  return std::string(BPFVM_ELF_FORMS_DIR) + "/" + std::string(name) + "." + std::string(form) + ".o";
}

std::vector<std::uint8_t> read_object(const std::string& path) {
  auto bytes = slurp(path);
  INFO(path);
  REQUIRE_FALSE(bytes.empty());
  return bytes;
}

loader::LoadOptions report_options() {
  loader::LoadOptions o;
  o.core_without_target = true;  // core_task: CO-RE relocations recorded, as `bpfvm objdump` shows them
  o.kconfig["LINUX_KERNEL_VERSION"] = "393216";
  return o;
}

// Everything the loader made of an object: the report, each program's instructions field by field with
// its line info, its func info and relocations, and each map's initial bytes.
std::string describe(const loader::Object& obj) {
  std::ostringstream out;
  out << loader::object_report_text(obj);
  const auto raw = [](const vm::Program& p, std::size_t pc) {
    const auto& i = p.insns[pc];
    return std::to_string(i.code) + " " + std::to_string(i.dst) + " " + std::to_string(i.src) + " " + std::to_string(i.off) + " " +
           std::to_string(i.imm);
  };
  for (const auto& p : obj.programs) {
    out << "program " << p.name << "\n" << loader::disassemble_with_source(p, raw);
    for (const auto& f : p.func_info) out << "func_info " << f.insn << " " << f.type_id << "\n";
    for (const auto& r : p.relocations) out << "reloc " << r.insn << " " << loader::reloc_kind_name(r.kind) << " " << r.target << " " << r.value << "\n";
  }
  for (const auto& m : obj.maps) {
    out << "map " << m.name << " initial";
    for (auto b : m.initial_value) out << " " << int(b);
    out << "\n";
  }
  return out.str();
}

std::string load_and_describe(const std::string& path) {
  const auto bytes = read_object(path);
  auto obj = loader::load_object(bytes, report_options());
  INFO(path << ": " << (obj ? std::string() : obj.error().message()));
  REQUIRE(obj.has_value());
  return describe(*obj);
}

// The verdict on each program, through the embedding API as a host would open the file: "accept" or the
// one-line error. Programs whose section names no type are verified as socket filters (`--type socket`).
std::string verdicts(const std::string& path) {
  Vm vm;
  LoadOptions options;
  options.target_btf = slurp("/sys/kernel/btf/vmlinux");  // core_task; without it both forms fail alike
  options.kconfig["LINUX_KERNEL_VERSION"] = "393216";
  auto obj = vm.open_elf_file(path, options);
  if (!obj) return "open: " + obj.error().message() + "\n";
  std::string out;
  for (const auto& info : obj->programs()) {
    ProgramOptions po;
    if (info.type == "unspec") po.type = *ProgramType::kernel(1);  // BPF_PROG_TYPE_SOCKET_FILTER
    auto prog = obj->load(info.name, po);
    out += info.name + ": " + (prog ? std::string("accept") : prog.error().message()) + "\n";
  }
  return out;
}

const loader::ElfSection& section(const loader::ElfFile& elf, std::string_view name) {
  const auto* s = elf.find(name);
  INFO(name);
  REQUIRE(s != nullptr);
  return *s;
}

std::string load_error(const std::vector<std::uint8_t>& bytes) {
  auto r = loader::load_object(bytes, report_options());
  REQUIRE_FALSE(r.has_value());
  const auto msg = r.error().message();
  CHECK(msg.find('\n') == std::string::npos);
  return msg;
}

}  // namespace

TEST_CASE("SHT_RELA: every object rewritten with explicit addends loads and verifies as its SHT_REL original") {
  std::vector<std::string> names(std::begin(kExamples), std::end(kExamples));
  names.insert(names.end(), std::begin(kLegacy), std::end(kLegacy));
  std::size_t rela_sections = 0;
  for (const auto& name : names) {
    INFO(name);
    const auto rela = form_path(name, "rela");
    auto elf = loader::ElfFile::parse(read_object(rela));
    REQUIRE(elf.has_value());
    for (const auto& s : elf->sections()) {
      CHECK(s.type != SHT_REL);
      rela_sections += s.type == SHT_RELA;
    }
    CHECK(load_and_describe(rela) == load_and_describe(original_path(name)));
    CHECK(verdicts(rela) == verdicts(original_path(name)));
  }
  CHECK(rela_sections > 20);
}

TEST_CASE("compressed sections: DWARF is left compressed, .BTF and .BTF.ext are inflated, and the objects load as before") {
  for (const char* name : kExamples) {
    INFO(name);
    const auto want = load_and_describe(original_path(name));
    const auto zdebug = form_path(name, "zdebug"), zbtf = form_path(name, "zbtf");
    auto elf = loader::ElfFile::parse(read_object(zbtf));
    REQUIRE(elf.has_value());
    for (const char* sec : {".BTF", ".BTF.ext"}) {
      const auto& s = section(*elf, sec);
      CHECK((s.flags & SHF_COMPRESSED) != 0);  // llvm-objcopy really compressed it
      CHECK(s.data.size() == s.size);
      CHECK(s.size > 24);
    }
    const auto& dwarf = section(*elf, ".debug_info");
    CHECK((dwarf.flags & SHF_COMPRESSED) != 0);
    CHECK(dwarf.data.empty());  // never read, never inflated
    CHECK(load_and_describe(zdebug) == want);
    CHECK(load_and_describe(zbtf) == want);
    CHECK(verdicts(zbtf) == verdicts(original_path(name)));
  }
}

TEST_CASE("a big-endian object (clang -target bpfeb) is refused in one line naming the byte order") {
  const auto bytes = read_object(form_path("xdp_parse", "bpfeb"));
  auto r = loader::load_object(bytes, report_options());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::Unsupported);
  CHECK(r.error().message().find("big-endian object (clang -target bpfeb)") != std::string::npos);
  CHECK(r.error().message().find('\n') == std::string::npos);
}

TEST_CASE("damaged compressed sections are refused naming the section and the reason") {
  auto bytes = read_object(form_path("globals_subprog", "zbtf"));
  std::size_t chdr = 0, btf_index = 0, text_index = 0;
  {
    auto elf = loader::ElfFile::parse(bytes);
    REQUIRE(elf.has_value());
    chdr = static_cast<std::size_t>(section(*elf, ".BTF").offset);
    btf_index = section(*elf, ".BTF").index;
    text_index = section(*elf, ".text").index;
  }
  // Elf64_Chdr: ch_type (4), ch_reserved (4), ch_size (8), ch_addralign (8), then the zlib stream.
  const std::string btf = "section '.BTF' (#" + std::to_string(btf_index) + ")";
  SECTION("inflated size above the bound") {
    poke64(bytes, chdr + 8, loader::ElfFile::kMaxInflatedBytes + 1);
    CHECK(load_error(bytes).find(btf + ": inflates to 16777217 bytes, more than the 16777216 allowed") != std::string::npos);
  }
  SECTION("inflated size smaller than the stream") {
    poke64(bytes, chdr + 8, 16);
    CHECK(load_error(bytes).find(btf + ": cannot inflate") != std::string::npos);
  }
  SECTION("not zlib") {
    poke32(bytes, chdr, 2);  // ELFCOMPRESS_ZSTD
    CHECK(load_error(bytes).find(btf + ": compression type 2 is not supported") != std::string::npos);
  }
  SECTION("corrupt stream") {
    for (std::size_t i = 24; i < 40; ++i) bytes[chdr + i] ^= 0x5a;
    CHECK(load_error(bytes).find(btf + ": cannot inflate") != std::string::npos);
  }
  SECTION("a loaded (SHF_ALLOC) section marked compressed") {
    const std::size_t flags_at = static_cast<std::size_t>(peek64(bytes, 40)) + text_index * 64 + 8;
    poke64(bytes, flags_at, peek64(bytes, flags_at) | SHF_COMPRESSED);
    CHECK(load_error(bytes).find("section '.text' (#" + std::to_string(text_index) + "): SHF_ALLOC and SHF_COMPRESSED") !=
          std::string::npos);
  }
}

TEST_CASE("a damaged compressed DWARF section does not matter: bpfvm never reads it") {
  auto bytes = read_object(form_path("globals_subprog", "zdebug"));
  auto elf = loader::ElfFile::parse(bytes);
  REQUIRE(elf.has_value());
  const auto& info = section(*elf, ".debug_info");
  poke64(bytes, static_cast<std::size_t>(info.offset) + 8, std::uint64_t(1) << 40);  // ch_size 1 TiB
  CHECK(loader::load_object(bytes, report_options()).has_value());
}
