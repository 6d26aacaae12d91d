// The clang-built examples: the loader's view checked by hand and against llvm-objdump, llvm-readelf
// and bpftool.
#include <catch2/catch.hpp>

#include <linux/bpf.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "loader/object.hpp"
#include "tests/loader/builders.hpp"
#include "tests/skip.hpp"

using namespace bpfvm;
using namespace bpfvm::loader;
using namespace bpfvm::loader::test;

namespace {

const char* const kExamples[] = {"globals_subprog", "maps", "core_task", "xdp_parse", "socket_filter", "large_unrolled"};

std::string example_path(std::string_view name) { return std::string(BPFVM_EXAMPLES_DIR) + "/" + std::string(name) + ".bpf.o"; }

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

bool have(const char* tool) { return tool[0] != '\0' && std::filesystem::exists(tool); }

std::string readelf() {
  const std::string objdump = BPFVM_LLVM_OBJDUMP;
  const auto pos = objdump.rfind("objdump");
  return objdump.substr(0, pos) + "readelf" + objdump.substr(pos + 7);
}

// Instruction slots per section, as llvm-objdump -d prints them.
std::map<std::string, std::size_t> objdump_slots(const std::string& path) {
  std::map<std::string, std::size_t> slots;
  std::istringstream in(run(std::string(BPFVM_LLVM_OBJDUMP) + " -d " + path));
  std::string line, sec;
  const std::regex header("^Disassembly of section (.*):$");
  const std::regex insn("^\\s*([0-9]+):\\t([0-9a-f]{2}(?: [0-9a-f]{2})*)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, header)) sec = m[1];
    else if (std::regex_search(line, m, insn)) {
      const std::size_t bytes = (m[2].length() + 1) / 3;
      slots[sec] = std::max(slots[sec], std::stoul(m[1]) + bytes / 8);
    }
  }
  return slots;
}

// FUNC symbol sizes in instructions, from llvm-readelf -s.
std::map<std::string, std::size_t> func_sizes(const std::string& path) {
  std::map<std::string, std::size_t> sizes;
  std::istringstream in(run(readelf() + " -s --wide " + path));
  std::string line;
  const std::regex sym("^\\s*\\d+: [0-9a-f]+\\s+(\\d+) FUNC\\s+\\w+\\s+\\w+\\s+\\d+ (\\S+)$");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, sym)) sizes[m[2]] = std::stoul(m[1]) / 8;
  return sizes;
}

Object load(std::string_view name, const std::vector<std::uint8_t>& target = {}) {
  const auto bytes = slurp(example_path(name));
  REQUIRE_FALSE(bytes.empty());
  LoadOptions o;
  o.target_btf = target;
  o.kconfig["LINUX_KERNEL_VERSION"] = "393472";
  o.object_name = std::string(name);
  auto obj = load_object(bytes, o);
  INFO(name << ": " << (obj ? "" : obj.error().message()));
  REQUIRE(obj);
  return std::move(*obj);
}

std::vector<std::uint8_t> some_target_btf() {
  if (std::filesystem::exists("/sys/kernel/btf/vmlinux")) return slurp("/sys/kernel/btf/vmlinux");
  BtfBuilder b;
  const auto i = b.add_int("int", 4, 1);
  b.add_struct("task_struct", 16, {{"pid", i, 0}, {"tgid", i, 32}});
  b.add_enum("pid_type", 4, {{"PIDTYPE_TGID", 1}});
  return b.build();
}

}  // namespace

TEST_CASE("examples: instruction counts agree with llvm-objdump and llvm-readelf") {
  if (!have(BPFVM_LLVM_OBJDUMP)) bpfvm::testing::skip_test(std::string(BPFVM_LLVM_OBJDUMP) + " not found (tools/setup installs llvm)");
  const auto target = some_target_btf();
  for (const auto* name : kExamples) {
    INFO(name);
    const auto obj = load(name, target);
    const auto path = example_path(name);
    const auto slots = objdump_slots(path);
    const auto sizes = func_sizes(path);
    std::map<std::string, std::size_t> main_slots;
    for (const auto& p : obj.programs) {
      INFO(p.name);
      REQUIRE(sizes.count(p.name));
      main_slots[(p.autoload ? "" : "?") + p.section] += sizes.at(p.name);
      // The program is its main function plus each reached subprogram, once.
      std::set<std::string> subs;
      for (const auto& r : p.relocations)
        if (r.kind == AppliedReloc::Kind::SubprogCall || r.kind == AppliedReloc::Kind::SubprogAddr) subs.insert(r.target);
      std::size_t expected = sizes.at(p.name);
      for (const auto& s : subs) expected += sizes.at(s);
      CHECK(p.program.size() == expected);
    }
    for (const auto& [sec, n] : main_slots) {
      INFO(sec);
      CHECK(slots.at(sec) == n);
    }
  }
}

TEST_CASE("examples: BTF type counts agree with bpftool") {
  if (!have(BPFVM_BPFTOOL)) bpfvm::testing::skip_test(std::string(BPFVM_BPFTOOL) + " not found (tools/setup installs bpftool)");
  const auto target = some_target_btf();
  for (const auto* name : kExamples) {
    INFO(name);
    const auto obj = load(name, target);
    REQUIRE(obj.btf);
    const auto n = std::stoul(run(std::string(BPFVM_BPFTOOL) + " btf dump file " + example_path(name) + " | grep -c '^\\['"));
    CHECK(obj.btf->type_count() - 1 == n);
  }
}

TEST_CASE("globals_subprog: subprograms, function pointers and global data maps") {
  const auto obj = load("globals_subprog");
  CHECK(obj.license == "GPL");
  REQUIRE(obj.programs.size() == 2);
  const auto* xdp = obj.find_program("xdp_main");
  REQUIRE(xdp);
  CHECK(xdp->prog_type == BPF_PROG_TYPE_XDP);
  CHECK(xdp->expected_attach_type == BPF_XDP);
  CHECK(xdp->autoload);
  const auto* tc = obj.find_program("tc_optional");
  REQUIRE(tc);
  CHECK_FALSE(tc->autoload);
  CHECK(tc->section == "tc");
  CHECK(tc->prog_type == BPF_PROG_TYPE_SCHED_CLS);

  const auto* data = obj.find_map(".data");
  const auto* rodata = obj.find_map(".rodata");
  const auto* bss = obj.find_map(".bss");
  const auto* tuning = obj.find_map(".data.tuning");
  REQUIRE((data && rodata && bss && tuning));
  CHECK(data->initial_value == std::vector<std::uint8_t>{1, 0, 0, 0});
  CHECK(rodata->initial_value == std::vector<std::uint8_t>{3, 0, 0, 0});
  CHECK(rodata->frozen);
  CHECK((rodata->map_flags & BPF_F_RDONLY_PROG));
  CHECK(bss->initial_value.empty());  // all zero: nothing is allocated from the section header's size
  CHECK(bss->value_size == 8);
  CHECK(tuning->initial_value == std::vector<std::uint8_t>{42, 0, 0, 0});
  CHECK(data->kernel_name == "globals_.data");
  CHECK(tuning->kernel_name == ".data.tuning");
  for (const auto* m : {data, rodata, bss, tuning}) {
    CHECK(m->type == BPF_MAP_TYPE_ARRAY);
    CHECK(m->max_entries == 1);
  }

  // Every call and function pointer lands on the start of an appended subprogram; map references
  // are lddw MapIdx/MapIdxValue naming a map of the object.
  const auto& prog = xdp->program;
  bool saw_func = false, saw_call = false;
  for (const auto& r : xdp->relocations) {
    const auto& insn = prog.insns[r.insn];
    switch (r.kind) {
      case AppliedReloc::Kind::SubprogCall:
        saw_call = true;
        CHECK(insn.code == 0x85);
        CHECK(std::int64_t(r.insn) + 1 + insn.imm == r.value);
        break;
      case AppliedReloc::Kind::SubprogAddr:
        saw_func = true;
        CHECK(insn.src == 4);
        CHECK(std::int64_t(r.insn) + 1 + insn.imm == r.value);
        break;
      case AppliedReloc::Kind::MapValue:
        CHECK(insn.src == 6);
        CHECK(obj.maps.at(static_cast<std::size_t>(insn.imm)).name == r.target.substr(0, r.target.find(' ')));
        CHECK(prog.insns[r.insn + 1].imm == r.value);
        break;
      default: break;
    }
  }
  CHECK(saw_call);
  CHECK(saw_func);
  // Line info: the xdp program's lines come from the example's source.
  REQUIRE_FALSE(xdp->line_info.empty());
  CHECK(xdp->line_info.front().file.find("globals_subprog.bpf.c") != std::string_view::npos);
  bool saw_loop_line = false;
  for (const auto& l : xdp->line_info) saw_loop_line |= l.source.find("bpf_loop") != std::string_view::npos;
  CHECK(saw_loop_line);
  CHECK(xdp->func_info.size() == 4);  // xdp_main, sum_cb, add_scaled, accumulate
  CHECK(xdp->func_info.front().insn == 0);
  CHECK(xdp->func_info.front().name == "xdp_main");
}

TEST_CASE("maps: legacy and BTF-defined maps with initialisers") {
  const auto obj = load("maps");
  CHECK(obj.kern_version == 0x060100);
  const auto* legacy = obj.find_map("legacy_counts");
  REQUIRE(legacy);
  CHECK(legacy->origin == MapOrigin::LegacyMaps);
  CHECK((legacy->type == BPF_MAP_TYPE_ARRAY && legacy->key_size == 4 && legacy->value_size == 8 && legacy->max_entries == 16));
  CHECK(&obj.maps.front() == legacy);  // libbpf order: legacy maps first
  const auto* flows = obj.find_map("flows");
  REQUIRE(flows);
  CHECK((flows->type == BPF_MAP_TYPE_HASH && flows->key_size == 12 && flows->value_size == 8 && flows->max_entries == 1024));
  CHECK(flows->map_flags == BPF_F_NO_PREALLOC);
  CHECK(obj.btf->name(flows->key_type_id) == "flow_key");
  const auto* stats = obj.find_map("stats");
  REQUIRE(stats);
  CHECK(stats->pinning == 1);
  const auto* outer = obj.find_map("outer");
  REQUIRE(outer);
  CHECK(outer->type == BPF_MAP_TYPE_ARRAY_OF_MAPS);
  REQUIRE(outer->inner);
  CHECK((outer->inner->type == BPF_MAP_TYPE_ARRAY && outer->inner->value_size == 4));
  REQUIRE(outer->initial_slots.size() == 2);
  CHECK(outer->initial_slots[0].slot == 0);
  CHECK(obj.maps[outer->initial_slots[0].index].name == "inner_a");
  CHECK(outer->initial_slots[1].slot == 3);
  CHECK(obj.maps[outer->initial_slots[1].index].name == "inner_b");
  const auto* jt = obj.find_map("jump_table");
  REQUIRE(jt);
  CHECK(jt->type == BPF_MAP_TYPE_PROG_ARRAY);
  REQUIRE(jt->initial_slots.size() == 2);
  CHECK(jt->initial_slots[0].target == MapSlotInit::Target::Program);
  CHECK(jt->initial_slots[0].slot == 1);
  CHECK(obj.programs[jt->initial_slots[0].index].name == "tail_a");
  CHECK(jt->initial_slots[1].slot == 5);
  CHECK(obj.programs[jt->initial_slots[1].index].name == "tail_b");

  const auto* classify = obj.find_program("classify");
  REQUIRE(classify);
  std::set<std::string> referenced;
  for (const auto& r : classify->relocations) {
    if (r.kind != AppliedReloc::Kind::Map) continue;
    const auto& insn = classify->program.insns[r.insn];
    CHECK(insn.code == 0x18);
    CHECK(insn.src == 5);
    CHECK(obj.maps.at(static_cast<std::size_t>(insn.imm)).name == r.target);
    referenced.insert(r.target);
  }
  CHECK(referenced == std::set<std::string>{"flows", "legacy_counts", "outer", "jump_table"});
}

TEST_CASE("core_task: CO-RE against the running kernel's BTF matches bpftool") {
  const char* vmlinux = "/sys/kernel/btf/vmlinux";
  if (!std::filesystem::exists(vmlinux)) bpfvm::testing::skip_test("no /sys/kernel/btf/vmlinux (kernel built without CONFIG_DEBUG_INFO_BTF)");
  if (!have(BPFVM_BPFTOOL)) bpfvm::testing::skip_test(std::string(BPFVM_BPFTOOL) + " not found (tools/setup installs bpftool)");
  const auto obj = load("core_task", slurp(vmlinux));
  const auto& p = obj.programs.at(0);
  CHECK(p.prog_type == BPF_PROG_TYPE_KPROBE);
  CHECK(p.attach_target == "do_nanosleep");
  const auto line = run(std::string(BPFVM_BPFTOOL) + " btf dump file " + vmlinux +
                        " | awk \"/STRUCT 'task_struct' size/{f=1} f&&/'pid' type_id/{print; exit}\"");
  std::smatch m;
  REQUIRE(std::regex_search(line, m, std::regex("bits_offset=(\\d+)")));
  const auto expected = std::stol(m[1]) / 8;
  bool found = false;
  for (const auto& r : p.relocations)
    if (r.target.find("byte_off struct task_struct.pid") != std::string::npos) {
      found = true;
      CHECK(r.value == expected);
      CHECK(p.program.insns[r.insn].imm == expected);
    }
  CHECK(found);
  // .kconfig: LINUX_KERNEL_VERSION filled, weak CONFIG_HZ left 0.
  const auto* kc = obj.find_map(".kconfig");
  REQUIRE(kc);
  CHECK(kc->frozen);
  std::uint32_t version = 0;
  bool kconfig_reloc = false;
  for (const auto& r : p.relocations)
    if (r.kind == AppliedReloc::Kind::Kconfig && r.target == "LINUX_KERNEL_VERSION") {
      kconfig_reloc = true;
      std::memcpy(&version, kc->initial_value.data() + r.value, 4);
    }
  CHECK(kconfig_reloc);
  CHECK(version == 393472u);
}

TEST_CASE("samples-style xdp and socket filter programs") {
  const auto xdp = load("xdp_parse");
  REQUIRE(xdp.programs.size() == 1);
  CHECK(xdp.programs[0].prog_type == BPF_PROG_TYPE_XDP);
  CHECK(xdp.maps.at(0).type == BPF_MAP_TYPE_PERCPU_ARRAY);
  CHECK(xdp.maps.at(0).max_entries == 256);
  const auto sock = load("socket_filter");
  REQUIRE(sock.programs.size() == 1);
  CHECK(sock.programs[0].prog_type == BPF_PROG_TYPE_SOCKET_FILTER);
  CHECK(sock.programs[0].name == "bpf_prog1");
  CHECK(sock.maps.at(0).name == "my_map");
}
