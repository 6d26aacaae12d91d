// Legacy-style objects (tests/loader/legacy/*.bpf.c, built without -g): what the loader and the API make
// of program sections without function symbols, static programs, pre-1.0 section names, iproute2's
// struct bpf_elf_map and samples/bpf's map definitions. Kernel verdicts: test_kernel_legacy.cpp.
#include <catch2/catch.hpp>

#include <linux/bpf.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <tuple>
#include <utility>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"
#include "loader/elf_file.hpp"
#include "loader/object.hpp"
#include "loader/section_names.hpp"
#include "tests/loader/builders.hpp"

using namespace bpfvm;

namespace {

std::string object_path(std::string_view name) {
  return std::string(BPFVM_LEGACY_OBJECTS_DIR) + "/" + std::string(name) + ".bpf.o";
}

std::vector<std::uint8_t> read_object(std::string_view name) {
  std::ifstream in(object_path(name), std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

loader::Object load(std::string_view name) {
  const auto bytes = read_object(name);
  auto obj = loader::load_object(bytes);
  INFO((obj ? std::string() : obj.error().message()));
  REQUIRE(obj.has_value());
  return std::move(*obj);
}

const loader::ProgramSpec& program(const loader::Object& obj, std::string_view name) {
  const auto* p = obj.find_program(name);
  INFO(name);
  REQUIRE(p != nullptr);
  return *p;
}

// The byte offset in the file of a map symbol's definition in SEC("maps").
std::size_t map_def_offset(const std::vector<std::uint8_t>& bytes, std::string_view map) {
  auto elf = loader::ElfFile::parse(bytes);
  REQUIRE(elf.has_value());
  const auto* maps = elf->find("maps");
  REQUIRE(maps != nullptr);
  for (const auto& s : elf->symbols())
    if (s.name == map && s.shndx == maps->index) return static_cast<std::size_t>(maps->offset + s.value);
  FAIL("no map symbol " << map);
  return 0;
}

// Runs the CLI; returns its exit status and (stdout + stderr) output.
std::pair<int, std::string> cli(const std::string& args) {
  std::string out;
  FILE* p = popen((std::string(BPFVM_CLI) + " " + args + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

void put_u32(std::vector<std::uint8_t>& bytes, std::size_t off, std::uint32_t v) { std::memcpy(bytes.data() + off, &v, 4); }

}  // namespace

TEST_CASE("legacy section names: the longest pre-1.0 prefix gives the type, libbpf 1.x's table first") {
  struct Case { const char* sec; std::uint32_t type; bool legacy; };
  const Case cases[] = {
      {"socket1", BPF_PROG_TYPE_SOCKET_FILTER, true},   {"socket/0", BPF_PROG_TYPE_SOCKET_FILTER, true},
      {"cgroup/sock1", BPF_PROG_TYPE_CGROUP_SOCK, true}, {"xdp_prog", BPF_PROG_TYPE_XDP, true},
      {"xdp_prog/0", BPF_PROG_TYPE_XDP, true},          {"classifier", BPF_PROG_TYPE_SCHED_CLS, false},
      {"classifier/ingress", BPF_PROG_TYPE_SCHED_CLS, true}, {"action", BPF_PROG_TYPE_SCHED_ACT, false},
      {"cgroup/skb1", BPF_PROG_TYPE_CGROUP_SKB, true},  {"kprobe/sys_write", BPF_PROG_TYPE_KPROBE, false},
      {"sk_skb/stream_parser2", BPF_PROG_TYPE_SK_SKB, true}, {"xdp", BPF_PROG_TYPE_XDP, false},
      {"tc_mark", BPF_PROG_TYPE_SCHED_CLS, true},       {"tc/ingress", BPF_PROG_TYPE_SCHED_CLS, true},
  };
  for (const auto& c : cases) {
    INFO(c.sec);
    const auto def = loader::find_program_section_def(c.sec);
    REQUIRE(def);
    CHECK(def->prog_type == c.type);
    CHECK(def->legacy == c.legacy);
  }
  // sk_skb/stream_parser2: the longest prefix, not the first ("sk_skb") decides the attach type.
  CHECK(loader::find_program_section_def("sk_skb/stream_parser2")->expected_attach_type == BPF_SK_SKB_STREAM_PARSER);
  for (const char* sec : {"test", "tail-32", "2/1", "prog", "kprobex", ""}) {
    INFO(sec);
    CHECK_FALSE(loader::find_program_section_def(sec));
  }
}

TEST_CASE("legacy_sections: static and global programs in old-named sections get their types") {
  const auto obj = load("legacy_sections");
  struct Want { const char* name; const char* section; std::uint32_t type; };
  const Want want[] = {
      {"sock_len", "socket1", BPF_PROG_TYPE_SOCKET_FILTER}, {"sock_static", "socket/0", BPF_PROG_TYPE_SOCKET_FILTER},
      {"sock_create", "cgroup/sock1", BPF_PROG_TYPE_CGROUP_SOCK}, {"xdp_pass", "xdp_prog", BPF_PROG_TYPE_XDP},
      {"xdp_static", "xdp_prog/0", BPF_PROG_TYPE_XDP}, {"cls_unchecked", "classifier", BPF_PROG_TYPE_SCHED_CLS},
      {"act_mark", "action", BPF_PROG_TYPE_SCHED_ACT}, {"tc_set_mark", "tc_mark", BPF_PROG_TYPE_SCHED_CLS}, {"test_prog", "test", 0}, {"tail_prog", "tail-32", 0},
      {"numbered_prog", "2/1", 0},
  };
  CHECK(obj.programs.size() == std::size(want));
  for (const auto& w : want) {
    const auto& p = program(obj, w.name);
    CHECK(p.section == w.section);
    CHECK(p.prog_type == w.type);
    CHECK_FALSE(p.whole_section);
    CHECK(p.attach_target.empty());
  }
}

TEST_CASE("legacy_sections through the API: --type (ProgramOptions::type) where the name says nothing") {
  Vm vm;
  auto obj = vm.open_elf_file(object_path("legacy_sections"));
  REQUIRE(obj.has_value());
  CHECK(obj->load("sock_len").has_value());
  CHECK(obj->load("sock_static").has_value());
  CHECK(obj->load("xdp_pass").has_value());
  CHECK(obj->load("act_mark").has_value());
  auto unchecked = obj->load("cls_unchecked");
  REQUIRE_FALSE(unchecked.has_value());
  CHECK(unchecked.error().code == Errc::Rejected);

  auto untyped = obj->load("test_prog");
  REQUIRE_FALSE(untyped.has_value());
  CHECK(untyped.error().reason.find("give one with --type") != std::string::npos);
  ProgramOptions options;
  auto socket = ProgramType::from_section("socket");
  REQUIRE(socket.has_value());
  options.type = *socket;
  for (const char* name : {"test_prog", "tail_prog", "numbered_prog"}) {
    INFO(name);
    auto p = obj->load(name, options);
    INFO((p ? std::string() : p.error().message()));
    REQUIRE(p.has_value());
    CHECK(p->type().kernel_type == BPF_PROG_TYPE_SOCKET_FILTER);
  }
  // test_prog returns skb->len > 100.
  const std::vector<std::uint8_t> packet(120, 0);
  auto prog = obj->load("test_prog", options);
  REQUIRE(prog.has_value());
  auto out = prog->run(packet);
  REQUIRE(out.has_value());
  CHECK(out->r0 == 1);
  // The override also replaces a type the section does give: xdp_pass as a socket filter is refused
  // for its xdp_md accesses.
  auto wrong = obj->load("xdp_pass", options);
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code == Errc::Rejected);
}

TEST_CASE("legacy_nosym: sections with code and no function symbol are one program named after the section") {
  const auto obj = load("legacy_nosym");
  REQUIRE(obj.programs.size() == 3);
  const auto& sock = program(obj, "socket/1");
  CHECK(sock.whole_section);
  CHECK(sock.prog_type == BPF_PROG_TYPE_SOCKET_FILTER);
  CHECK(sock.program.size() == 13);
  REQUIRE(sock.relocations.size() == 1);
  CHECK(sock.relocations[0].kind == loader::AppliedReloc::Kind::Map);
  CHECK(sock.relocations[0].target == "hits");
  CHECK(program(obj, "xdp/nosym").prog_type == BPF_PROG_TYPE_XDP);
  CHECK(program(obj, "classifier").prog_type == BPF_PROG_TYPE_SCHED_CLS);
  REQUIRE(obj.maps.size() == 1);
  CHECK(obj.maps[0].pinning == 2);

  Vm vm;
  auto api = vm.open_elf_file(object_path("legacy_nosym"));
  REQUIRE(api.has_value());
  auto p = api->load("socket/1");
  INFO((p ? std::string() : p.error().message()));
  REQUIRE(p.has_value());
  const std::vector<std::uint8_t> packet(64, 0xab);
  auto out = p->run(packet);
  REQUIRE(out.has_value());
  CHECK(out->r0 == 50);  // skb->len: the packet after the 14-byte Ethernet header, as the kernel test-run
  auto hits = api->map("hits");
  REQUIRE(hits.has_value());
  std::uint64_t n = 0;
  CHECK(hits->lookup(std::uint32_t{0}, n).has_value());
  CHECK(n == 1);
  auto cls = api->load("classifier");
  REQUIRE_FALSE(cls.has_value());
  CHECK(cls.error().code == Errc::Rejected);
}

TEST_CASE("legacy_elf_maps: iproute2 bpf_elf_map with pinning, map-in-map by id, per-CPU perf array, ringbuf") {
  const auto obj = load("legacy_elf_maps");
  auto map = [&](std::string_view name) -> const loader::MapSpec& {
    const auto* m = obj.find_map(name);
    INFO(name);
    REQUIRE(m != nullptr);
    return *m;
  };
  CHECK(map("flows").pinning == 2);
  CHECK(map("flows").legacy.layout == loader::LegacyMapDef::Layout::BpfElfMap);
  CHECK(map("per_ns").pinning == 1);
  CHECK(map("custom_pin").pinning == 5);
  CHECK(map("inner").legacy.id == 42);
  CHECK(map("inner").legacy.inner_idx == 1);
  const auto& outer = map("outer");
  REQUIRE(outer.inner != nullptr);
  CHECK(outer.inner->type == BPF_MAP_TYPE_ARRAY);
  CHECK(outer.inner->value_size == 4);
  REQUIRE(outer.initial_slots.size() == 1);
  CHECK(outer.initial_slots[0].slot == 1);
  CHECK(obj.maps[outer.initial_slots[0].index].name == "inner");
  // `drops` is static: its lddw is relocated against the section symbol with the offset in imm.
  const auto& count = program(obj, "cls_count");
  const auto drops = std::find_if(count.relocations.begin(), count.relocations.end(),
                                  [](const loader::AppliedReloc& r) { return r.target == "drops"; });
  REQUIRE(drops != count.relocations.end());
  CHECK(obj.maps[static_cast<std::size_t>(drops->value)].name == "drops");
  CHECK(map("events").max_entries == 0);  // the CPU count is the runtime's (as libbpf: at creation)
  CHECK(map("rb").max_entries == 16384);  // 10000 rounded up to a power-of-2 number of pages

  VmOptions vo;
  vo.nr_cpus = 3;
  Vm vm(vo);
  auto api = vm.open_elf_file(object_path("legacy_elf_maps"));
  INFO((api ? std::string() : api.error().message()));
  REQUIRE(api.has_value());
  CHECK(api->map("events")->max_entries() == 3);
  auto inner = api->map("inner");
  REQUIRE(inner.has_value());
  REQUIRE(inner->update(std::uint32_t{0}, std::uint32_t{9}).has_value());
  auto p = api->load("cls_inner");
  INFO((p ? std::string() : p.error().message()));
  REQUIRE(p.has_value());
  const std::vector<std::uint8_t> packet(60, 0);
  auto out = p->run(packet);
  REQUIRE(out.has_value());
  CHECK(out->r0 == 9);  // outer[1] holds `inner`, whose [0] is 9
  CHECK(api->load("cls_count").has_value());
  CHECK(api->load("act_events").has_value());

  const std::string report = api->report(false);
  CHECK(report.find("pinning 2 bpf_elf_map id 0 inner_id 0 inner_idx 0") != std::string::npos);
  CHECK(report.find("bpf_elf_map id 42 inner_id 0 inner_idx 1") != std::string::npos);
  CHECK(report.find("inner=array [1]=inner") != std::string::npos);
}

TEST_CASE("legacy_elf_maps: broken map-in-map links are named") {
  const auto good = read_object("legacy_elf_maps");
  {
    auto bytes = good;
    put_u32(bytes, map_def_offset(bytes, "outer") + 28, 43);  // inner_id naming no map
    auto obj = loader::load_object(bytes);
    REQUIRE_FALSE(obj.has_value());
    CHECK(obj.error().reason.find("map-in-map 'outer': no map has id 43") != std::string::npos);
  }
  {
    auto bytes = good;
    put_u32(bytes, map_def_offset(bytes, "inner") + 32, 2);  // inner_idx past the outer's 2 slots
    auto obj = loader::load_object(bytes);
    REQUIRE_FALSE(obj.has_value());
    CHECK(obj.error().reason.find("inner_idx 2 of 'inner' is past max_elem 2") != std::string::npos);
  }
  {
    auto bytes = good;
    put_u32(bytes, map_def_offset(bytes, "inner") + 32, 0xffffffffu);  // not placed anywhere
    auto obj = loader::load_object(bytes);
    REQUIRE(obj.has_value());
    CHECK(obj->find_map("outer")->initial_slots.empty());
    CHECK(obj->find_map("outer")->inner != nullptr);
  }
}

TEST_CASE("legacy_load_maps: samples/bpf 28-byte definitions, inner_map_idx, static programs") {
  const auto obj = load("legacy_load_maps");
  const auto* tables = obj.find_map("tables");
  REQUIRE(tables != nullptr);
  CHECK(tables->legacy.layout == loader::LegacyMapDef::Layout::BpfLoad);
  REQUIRE(tables->inner != nullptr);
  CHECK(tables->inner->type == BPF_MAP_TYPE_HASH);  // map #1 in section order: templ
  CHECK(tables->inner->max_entries == 16);
  CHECK(tables->value_size == 4);  // left 0 in the definition; bpf_load.c's bpf_create_map_in_map_node passes 4
  CHECK(program(obj, "count_proto").prog_type == BPF_PROG_TYPE_SOCKET_FILTER);

  Vm vm;
  auto api = vm.open_elf_file(object_path("legacy_load_maps"));
  INFO((api ? std::string() : api.error().message()));
  REQUIRE(api.has_value());
  CHECK(api->load("count_proto").has_value());
  CHECK(api->load("lookup_nested").has_value());
  auto oob = api->load("out_of_bounds");
  REQUIRE_FALSE(oob.has_value());
  CHECK(oob.error().code == Errc::Rejected);
}

TEST_CASE("legacy_text_only: with no SEC() at all, .text's functions are the programs (type by --type)") {
  const auto obj = load("legacy_text_only");
  REQUIRE(obj.programs.size() == 2);
  CHECK(program(obj, "filter_short").section == ".text");
  CHECK(program(obj, "filter_proto").prog_type == 0);
  Vm vm;
  auto api = vm.open_elf_file(object_path("legacy_text_only"));
  REQUIRE(api.has_value());
  ProgramOptions options;
  options.type = *ProgramType::from_section("socket");
  auto p = api->load("filter_short", options);
  REQUIRE(p.has_value());
  auto out = p->run(std::vector<std::uint8_t>(40, 0));  // 26 bytes after the Ethernet header
  REQUIRE(out.has_value());
  CHECK(out->r0 == 0);
}

TEST_CASE("legacy objects: truncated and mutated copies fail with one line, never crash, through loader and API") {
  std::uint64_t state = 0x2545f4914f6cdd1dull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  Vm vm;
  std::size_t opened = 0, refused = 0;
  for (const char* name : {"legacy_sections", "legacy_nosym", "legacy_elf_maps", "legacy_load_maps", "legacy_text_only",
                           "legacy_tail_calls"}) {
    const auto bytes = read_object(name);
    auto check = [&](std::span<const std::uint8_t> m) {
      loader::LoadOptions lo;
      lo.core_without_target = true;
      auto r = loader::load_object(m, lo);
      if (!r) {
        ++refused;
        CHECK(r.error().message().find('\n') == std::string::npos);
        return;
      }
      // What the loader accepts, the API must create (maps, inner templates, slots) or refuse cleanly.
      auto api = vm.open_elf(m, LoadOptions{}, "mutant");
      if (!api) {
        ++refused;
        CHECK(api.error().message().find('\n') == std::string::npos);
        return;
      }
      ++opened;
      for (const auto& p : api->programs()) (void)api->load(p.name);
    };
    for (std::size_t len = 0; len < bytes.size(); len += 37) check(std::span(bytes.data(), len));
    for (int iter = 0; iter < 400; ++iter) {
      auto m = bytes;
      const int flips = 1 + static_cast<int>(next() % 8);
      for (int f = 0; f < flips; ++f) m[next() % m.size()] ^= static_cast<std::uint8_t>(1u << (next() % 8));
      check(m);
    }
  }
  CHECK(opened > 0);
  CHECK(refused > 0);
}

TEST_CASE("legacy_tail_calls: iproute2 \"<id>/<key>\" sections fill the prog_array with that id, typed as the caller") {
  const auto obj = load("legacy_tail_calls");
  const auto* jmp = obj.find_map("jmp_tc");
  REQUIRE(jmp != nullptr);
  REQUIRE(jmp->initial_slots.size() == 2);
  CHECK(jmp->initial_slots[0].slot == 0);
  CHECK(obj.programs[jmp->initial_slots[0].index].name == "tail_zero");
  CHECK(jmp->initial_slots[1].slot == 3);
  CHECK(obj.programs[jmp->initial_slots[1].index].name == "tail_three");

  Vm vm;
  auto api = vm.open_elf_file(object_path("legacy_tail_calls"));
  REQUIRE(api.has_value());
  auto entry = api->load("cls_entry");  // its targets have no type of their own: they take sched_cls
  INFO((entry ? std::string() : entry.error().message()));
  REQUIRE(entry.has_value());
  const std::vector<std::uint8_t> packet(64, 0);
  // __sk_buff.mark (offset 8) picks the slot: 0 -> tail_zero (40), 3 -> tail_three (43), 1 -> empty (1).
  for (const auto& [mark, want] : {std::pair{0u, 40u}, std::pair{3u, 43u}, std::pair{1u, 1u}}) {
    INFO("mark " << mark);
    std::vector<std::uint8_t> ctx(sizeof(__sk_buff), 0);
    std::memcpy(ctx.data() + offsetof(__sk_buff, mark), &mark, 4);
    auto out = entry->run(RunInput{packet, ctx, 1, nullptr});
    INFO((out ? std::string() : out.error().message()));
    REQUIRE(out.has_value());
    CHECK(out->r0 == want);
  }
}

TEST_CASE("legacy_load_tail_calls: samples/bpf \"socket/<N>\", \"kprobe/<N>\" sections fill the last prog_array at N") {
  const auto obj = load("legacy_load_tail_calls");
  const auto* jmp = obj.find_map("jmp_table");
  const auto* other = obj.find_map("other_progs");
  REQUIRE(jmp != nullptr);
  REQUIRE(other != nullptr);
  CHECK(other->initial_slots.empty());  // bpf_load.c fills only the last prog_array it created
  std::vector<std::pair<std::uint32_t, std::string>> slots;
  for (const auto& s : jmp->initial_slots) {
    CHECK(s.target == loader::MapSlotInit::Target::Program);
    slots.emplace_back(s.slot, obj.programs[s.index].name);
  }
  std::sort(slots.begin(), slots.end());
  // socket/9 is past max_entries 8: bpf_load.c's update fails, the program stays unplaced.
  const std::vector<std::pair<std::uint32_t, std::string>> want{
      {0, "main_prog"}, {2, "parse_two"}, {7, "parse_seven"}};
  CHECK(slots == want);

  Vm vm;
  auto api = vm.open_elf_file(object_path("legacy_load_tail_calls"));
  REQUIRE(api.has_value());
  auto entry = api->load("main_prog");
  INFO((entry ? std::string() : entry.error().message()));
  REQUIRE(entry.has_value());
  for (const auto& [len, want_r0] : {std::pair{std::size_t{64}, 22u}, std::pair{std::size_t{200}, 77u}}) {
    INFO("packet of " << len);
    const std::vector<std::uint8_t> packet(len, 0);
    auto out = entry->run(RunInput{packet, {}, 1, nullptr});
    INFO((out ? std::string() : out.error().message()));
    REQUIRE(out.has_value());
    CHECK(out->r0 == want_r0);
  }
}

TEST_CASE("legacy_subprog_ld_abs: without BTF func info, LD_ABS in a subprogram is refused as the kernel refuses it") {
  Vm vm;
  auto api = vm.open_elf_file(object_path("legacy_subprog_ld_abs"));
  REQUIRE(api.has_value());
  auto refused = api->load("with_subprog");
  REQUIRE_FALSE(refused.has_value());
  CHECK_THAT(refused.error().message(), Catch::Contains("LD_ABS is not allowed in subprogs without BTF"));
  auto inline_one = api->load("inline_ld_abs");
  INFO((inline_one ? std::string() : inline_one.error().message()));
  CHECK(inline_one.has_value());
}

TEST_CASE("CLI: --type applies to ELF programs, objdump needs no target BTF, verify falls back to vmlinux") {
  const std::string sections = object_path("legacy_sections");
  auto [rc, out] = cli("verify " + sections + " --prog test_prog");
  CHECK(rc == 1);
  CHECK(out.find("give one with --type") != std::string::npos);
  std::tie(rc, out) = cli("verify " + sections + " --prog test_prog --type socket");
  CHECK(rc == 0);
  CHECK(out.find("test_prog: accepted") != std::string::npos);
  std::tie(rc, out) = cli("verify " + sections + " --prog numbered_prog --type xdp");  // __sk_buff reads as xdp: rejected
  CHECK(rc == 1);
  std::tie(rc, out) = cli("verify " + sections + " --prog test_prog --type no_such_type");
  CHECK(rc != 0);
  CHECK(out.find("names no program type") != std::string::npos);

  const std::string core = std::string(BPFVM_EXAMPLES_DIR) + "/core_task.bpf.o";
  std::tie(rc, out) = cli("objdump " + core);
  CHECK(rc == 0);
  CHECK(out.find("core_unresolved byte_off struct task_struct.pid") != std::string::npos);
  if (std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
    std::tie(rc, out) = cli("verify " + core);
    CHECK(out.find("CO-RE relocations resolved against /sys/kernel/btf/vmlinux") != std::string::npos);
    CHECK(out.find("set LoadOptions::target_btf") == std::string::npos);
  }
}

// `bpfvm run --packet` feeds the packet to a program from assembly, bytecode or a .data file too, not
// only to an ELF object's (it used to run them on the empty --mem buffer: r0 = the packet length 0).
TEST_CASE("CLI: run --packet gives the packet to a program from assembly") {
  const auto dir = std::filesystem::temp_directory_path() / ("bpfvm_cli_packet_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string s = (dir / "len.s").string(), packet = (dir / "packet.bin").string();
  // xdp: r0 = data_end - data.
  std::ofstream(s) << "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r0, %r3\nsub %r0, %r2\nexit\n";
  std::ofstream(packet, std::ios::binary) << std::string(42, 'x');
  auto [rc, out] = cli("run " + s + " --type xdp --packet " + packet);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("r0 = 0x2a") != std::string::npos);
  std::filesystem::remove_all(dir);
}

// A 20-byte struct bpf_map_def names no inner map: the object opens; the map-in-map is created once
// the host names a template (LoadOptions::inner_map_templates, as bpf_map__set_inner_map_fd before
// libbpf 1.0); until then only the programs that use it are refused, naming it.
TEST_CASE("legacy_map_def_inner: a map-in-map from a 20-byte bpf_map_def takes the host's template") {
  const auto obj = load("legacy_map_def_inner");
  const auto* outer = obj.find_map("outer");
  REQUIRE(outer != nullptr);
  CHECK(outer->type == BPF_MAP_TYPE_ARRAY_OF_MAPS);
  CHECK(outer->inner == nullptr);

  Vm vm;
  auto bare = vm.open_elf_file(object_path("legacy_map_def_inner"));
  INFO((bare ? std::string() : bare.error().message()));
  REQUIRE(bare.has_value());
  CHECK_FALSE(bare->map("outer").has_value());
  CHECK(bare->maps().size() == 2);
  auto plain = bare->load("plain");
  INFO((plain ? std::string() : plain.error().message()));
  REQUIRE(plain.has_value());
  auto doubled = plain->run(RunInput{std::vector<std::uint8_t>(64, 0), {}, 1, nullptr});
  REQUIRE(doubled.has_value());
  CHECK(doubled->retval == 2 * (64 - 14));  // twice(skb->len), called across sections
  auto refused = bare->load("nested");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message().find("uses map 'outer', a map-in-map whose definition names no inner map template") !=
        std::string::npos);

  LoadOptions with;
  with.inner_map_templates = {{"outer", "inner_template"}};
  auto opened = vm.open_elf_file(object_path("legacy_map_def_inner"), with);
  INFO((opened ? std::string() : opened.error().message()));
  REQUIRE(opened.has_value());
  REQUIRE(opened->map("outer").has_value());
  auto nested = opened->load("nested");
  INFO((nested ? std::string() : nested.error().message()));
  REQUIRE(nested.has_value());
  const std::vector<std::uint8_t> packet(64, 0);
  auto run = [&] {
    auto out = nested->run(RunInput{packet, {}, 1, nullptr});
    REQUIRE(out.has_value());
    return out->retval;
  };
  CHECK(run() == 1);  // slot 0 empty
  // Put inner_template itself in slot 0 and a value in it: the program reads it through the outer map.
  const std::uint32_t zero = 0, value = 77;
  auto templ = opened->map("inner_template");
  REQUIRE(templ.has_value());
  REQUIRE(templ->update(std::span(reinterpret_cast<const std::uint8_t*>(&zero), 4),
                        std::span(reinterpret_cast<const std::uint8_t*>(&value), 4)) == 0);
  // A host update of a map-in-map carries the inner map's index in the object's map table (bpfvm's
  // stand-in for an fd): inner_template is the third map created (symbol order: counts, outer, it).
  const std::uint32_t inner_fd = 2;
  REQUIRE(opened->map("outer")->update(std::span(reinterpret_cast<const std::uint8_t*>(&zero), 4),
                                       std::span(reinterpret_cast<const std::uint8_t*>(&inner_fd), 4)) == 0);
  CHECK(run() == 77);

  // libbpf 0.x's bpf_map__set_inner_map_fd refused these: the open fails naming the map.
  for (const auto& [bad, why] : std::vector<std::pair<std::pair<std::string, std::string>, std::string>>{
           {{"counts", "inner_template"}, "'counts' is not a map-in-map"},
           {{"outer", "missing"}, "the object has no map 'missing'"},
           {{"nowhere", "inner_template"}, "the object has no map 'nowhere'"}}) {
    LoadOptions o;
    o.inner_map_templates = {bad};
    auto r = vm.open_elf_file(object_path("legacy_map_def_inner"), o);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message().find(why) != std::string::npos);
  }

  auto [verify_bare, out_bare] = cli("verify " + object_path("legacy_map_def_inner") + " --prog nested");
  CHECK(verify_bare == 1);
  CHECK(out_bare.find("--inner-map outer=MAP") != std::string::npos);
  auto [verify_with, out_with] = cli("verify " + object_path("legacy_map_def_inner") + " --prog nested --inner-map outer=inner_template");
  INFO(out_with);
  CHECK(verify_with == 0);
  auto [objdump_rc, report] = cli("objdump " + object_path("legacy_map_def_inner"));
  CHECK(objdump_rc == 0);
  CHECK(report.find("inner=none") != std::string::npos);
}

TEST_CASE("unresolved extern: only the program using it is refused, in one line, the others load and run") {
  // cilium/ebpf's loader fixture shape: `r0 = MY_CONST ll` from inline asm in one program, a plain one
  // beside it. libbpf refuses the whole object; bpfvm refuses just the user of the extern.
  using namespace bpfvm::loader::test;
  constexpr std::uint8_t kStbGlobal = 1, kSttFunc = 2;  // STB_GLOBAL, STT_FUNC
  ElfBuilder b;
  std::vector<std::uint8_t> uses, plain;
  emit(uses, 0x18, 0, 0, 0, 0);
  emit(uses, 0x00, 0, 0, 0, 0);
  emit(uses, 0x95, 0, 0, 0, 0);
  emit(plain, 0xb7, 0, 0, 0, 7);
  emit(plain, 0x95, 0, 0, 0, 0);
  const auto s1 = b.add_code("socket", uses);
  const auto s2 = b.add_code("xdp", plain);
  b.add_symbol("uses_extern", static_cast<std::uint16_t>(s1), kStbGlobal, kSttFunc, 0, uses.size());
  b.add_symbol("plain", static_cast<std::uint16_t>(s2), kStbGlobal, kSttFunc, 0, plain.size());
  const auto ext = b.add_symbol("MY_CONST", 0, kStbGlobal, 0, 0, 0);
  b.add_rel(s1, 0, ext, 1);
  BtfBuilder btf;
  btf.add_int("int", 4);
  b.add_section(".BTF", 1, 0, btf.build());
  const auto bytes = b.build();
  Vm vm;
  auto object = vm.open_elf(bytes, LoadOptions{}, "ext");
  INFO((object ? std::string() : object.error().message()));
  REQUIRE(object.has_value());
  auto refused = object->load("uses_extern");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == Errc::Unsupported);
  CHECK(refused.error().message().find("program 'uses_extern': not supported yet: extern ksym 'MY_CONST' at insn 0") !=
        std::string::npos);
  CHECK(refused.error().message().find('\n') == std::string::npos);
  auto loaded = object->load("plain");
  INFO((loaded ? std::string() : loaded.error().message()));
  REQUIRE(loaded.has_value());
  std::vector<std::uint8_t> packet(64, 0);
  auto ran = loaded->run(RunInput{packet});
  REQUIRE(ran.has_value());
  CHECK(ran->r0 == 7);
}
