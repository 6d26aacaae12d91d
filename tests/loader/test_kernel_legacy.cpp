// Kernel verdicts on the legacy-style objects (tests/loader/legacy/). libbpf 1.x refuses these objects,
// so the oracle loads them itself, the way iproute2 and samples/bpf's bpf_load.c did, with libelf and
// none of bpfvm's loader: maps from SEC("maps") definitions (size = section size / map symbols; inner
// templates by iproute2 inner_id or bpf_load.c inner_map_idx; perf_event_array max_entries 0 = possible
// CPUs; iproute2 inner maps placed at inner_idx), lddw map references patched to map fds, each
// function of a program section (or the whole section when it has none) loaded with BPF_PROG_LOAD as
// the type kExpected gives. bpfvm must give the same type and the same verdict; kKnownDifferences lists
// where it cannot yet, with the reason. The objects' SHT_RELA forms (elf_forms/) must get the same verdicts.
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "bpfvm/bpfvm.hpp"
#include "loader/section_names.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "vm/program.hpp"

using namespace bpfvm;
using bpfvm::testing::Fd;

namespace {

// What iproute2 / bpf_load.c / old libbpf load each program as (the oracle's own knowledge: "test",
// "tail-32" and "2/1" are loaded as socket filters, as `bpfvm verify --type socket` does).
struct Expected {
  const char* object;
  const char* program;
  bpf_prog_type type;
  bool needs_type_option;  // the section name gives no type: bpfvm gets it from ProgramOptions::type
};
constexpr Expected kExpected[] = {
    {"legacy_sections", "sock_len", BPF_PROG_TYPE_SOCKET_FILTER, false},
    {"legacy_sections", "sock_static", BPF_PROG_TYPE_SOCKET_FILTER, false},
    {"legacy_sections", "sock_create", BPF_PROG_TYPE_CGROUP_SOCK, false},
    {"legacy_sections", "xdp_pass", BPF_PROG_TYPE_XDP, false},
    {"legacy_sections", "xdp_static", BPF_PROG_TYPE_XDP, false},
    {"legacy_sections", "cls_unchecked", BPF_PROG_TYPE_SCHED_CLS, false},
    {"legacy_sections", "act_mark", BPF_PROG_TYPE_SCHED_ACT, false},
    {"legacy_sections", "tc_set_mark", BPF_PROG_TYPE_SCHED_CLS, false},
    {"legacy_sections", "test_prog", BPF_PROG_TYPE_SOCKET_FILTER, true},
    {"legacy_sections", "tail_prog", BPF_PROG_TYPE_SOCKET_FILTER, true},
    {"legacy_sections", "numbered_prog", BPF_PROG_TYPE_SOCKET_FILTER, true},
    {"legacy_nosym", "socket/1", BPF_PROG_TYPE_SOCKET_FILTER, false},
    {"legacy_nosym", "xdp/nosym", BPF_PROG_TYPE_XDP, false},
    {"legacy_nosym", "classifier", BPF_PROG_TYPE_SCHED_CLS, false},
    {"legacy_elf_maps", "cls_count", BPF_PROG_TYPE_SCHED_CLS, false},
    {"legacy_elf_maps", "cls_inner", BPF_PROG_TYPE_SCHED_CLS, false},
    {"legacy_elf_maps", "act_events", BPF_PROG_TYPE_SCHED_ACT, false},
    {"legacy_load_maps", "count_proto", BPF_PROG_TYPE_SOCKET_FILTER, false},
    {"legacy_load_maps", "lookup_nested", BPF_PROG_TYPE_SOCKET_FILTER, false},
    {"legacy_load_maps", "out_of_bounds", BPF_PROG_TYPE_SOCKET_FILTER, false},
    {"legacy_tail_calls", "tail_zero", BPF_PROG_TYPE_SCHED_CLS, true},
    {"legacy_tail_calls", "tail_three", BPF_PROG_TYPE_SCHED_CLS, true},
    {"legacy_tail_calls", "cls_entry", BPF_PROG_TYPE_SCHED_CLS, false},
    {"legacy_text_only", "filter_short", BPF_PROG_TYPE_SOCKET_FILTER, true},
    {"legacy_text_only", "filter_proto", BPF_PROG_TYPE_SOCKET_FILTER, true},
    {"legacy_load_tail_calls", "parse_two", BPF_PROG_TYPE_SOCKET_FILTER, false},
    {"legacy_load_tail_calls", "parse_seven", BPF_PROG_TYPE_SOCKET_FILTER, false},
    {"legacy_load_tail_calls", "past_the_end", BPF_PROG_TYPE_SOCKET_FILTER, false},
    {"legacy_load_tail_calls", "main_prog", BPF_PROG_TYPE_SOCKET_FILTER, false},
};

// Programs bpfvm cannot judge yet (an error that is not a verdict), and why. A listed program that
// bpfvm does judge fails the test: remove it here.
struct KnownDifference {
  const char* program;  // "<object>:<program>"
  const char* reason;
};
// None today: cgroup_sock (legacy_sections:sock_create) was the last, until it had a context.
constexpr std::array<KnownDifference, 0> kKnownDifferences{};

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int sys_map_create(std::uint32_t type, std::uint32_t key, std::uint32_t value, std::uint32_t max,
                   std::uint32_t flags, int inner_fd) {
  bpf_attr attr{};
  attr.map_type = type;
  attr.key_size = key;
  attr.value_size = value;
  attr.max_entries = max;
  attr.map_flags = flags;
  attr.inner_map_fd = inner_fd < 0 ? 0 : static_cast<std::uint32_t>(inner_fd);
  const long fd = syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

struct LegacyMap {
  std::string name;
  std::uint64_t offset = 0;
  std::uint32_t type = 0, key = 0, value = 0, max = 0, flags = 0;
  std::uint32_t id = 0, inner_id = 0, inner_idx = 0, inner_map_idx = 0;
  std::size_t def_size = 0;
  Fd fd;
};

struct LegacyProgram {
  std::string name;
  std::vector<vm::Insn> insns;
};

// The fallback loader: libelf only.
class LegacyObject {
 public:
  explicit LegacyObject(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}
  ~LegacyObject() {
    if (elf_) elf_end(elf_);
  }

  Result<std::vector<LegacyProgram>> load() {
    if (elf_version(EV_CURRENT) == EV_NONE) return fail("libelf: version");
    elf_ = elf_memory(reinterpret_cast<char*>(bytes_.data()), bytes_.size());
    if (!elf_) return fail(std::string("libelf: ") + elf_errmsg(-1));
    std::size_t shstrndx = 0;
    if (elf_getshdrstrndx(elf_, &shstrndx) != 0) return fail("no section name table");
    for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf_, scn)) != nullptr;) {
      GElf_Shdr sh;
      if (!gelf_getshdr(scn, &sh)) return fail("bad section header");
      const char* name = elf_strptr(elf_, shstrndx, sh.sh_name);
      sections_.push_back({elf_ndxscn(scn), name ? name : "", sh, elf_getdata(scn, nullptr)});
      if (sh.sh_type == SHT_SYMTAB) symtab_ = sections_.back();
    }
    if (!symtab_.data) return fail("no symbol table");
    for (std::size_t i = 0; i < symtab_.sh.sh_size / sizeof(Elf64_Sym); ++i) {
      GElf_Sym sym;
      if (!gelf_getsym(symtab_.data, static_cast<int>(i), &sym)) return fail("bad symbol");
      const char* n = elf_strptr(elf_, symtab_.sh.sh_link, sym.st_name);
      symbols_.push_back({n ? n : "", sym});
    }
    if (auto r = create_maps(); !r) return std::move(r).error();
    std::vector<LegacyProgram> programs;
    auto is_code = [](const Section& sec) {
      return sec.sh.sh_type == SHT_PROGBITS && (sec.sh.sh_flags & SHF_EXECINSTR) && sec.sh.sh_size != 0;
    };
    // .text holds programs only when it is the only code (no SEC() anywhere).
    const bool text_only = std::count_if(sections_.begin(), sections_.end(), is_code) == 1 && find(".text") && is_code(*find(".text"));
    for (const auto& sec : sections_) {
      if (!is_code(sec) || (sec.name == ".text" && !text_only)) continue;
      std::vector<vm::Insn> insns(sec.sh.sh_size / 8);
      for (std::size_t i = 0; i < insns.size(); ++i)
        insns[i] = vm::insn_from_bytes(std::span<const std::uint8_t, 8>(static_cast<const std::uint8_t*>(sec.data->d_buf) + 8 * i, 8));
      if (auto r = patch_maps(sec.index, insns); !r) return std::move(r).error();
      bool any = false;
      for (const auto& s : symbols_) {
        if (s.sym.st_shndx != sec.index || GELF_ST_TYPE(s.sym.st_info) != STT_FUNC) continue;
        any = true;
        const auto first = s.sym.st_value / 8, count = s.sym.st_size / 8;
        programs.push_back({s.name, std::vector<vm::Insn>(insns.begin() + first, insns.begin() + first + count)});
      }
      if (!any) programs.push_back({sec.name, insns});
    }
    return programs;
  }

 private:
  struct Section {
    std::size_t index = 0;
    std::string name;
    GElf_Shdr sh{};
    Elf_Data* data = nullptr;
  };
  struct Symbol {
    std::string name;
    GElf_Sym sym;
  };

  static Error fail(std::string reason) { return make_error(Errc::Malformed, "fallback loader: " + reason); }

  const Section* find(std::string_view name) const {
    for (const auto& s : sections_)
      if (s.name == name) return &s;
    return nullptr;
  }

  Result<void> create_maps() {
    const Section* sec = find("maps");
    if (!sec) return {};
    for (const auto& s : symbols_)
      if (s.sym.st_shndx == sec->index && GELF_ST_TYPE(s.sym.st_info) != STT_SECTION) maps_.push_back({s.name, s.sym.st_value});
    if (maps_.empty()) return {};
    const std::size_t def_size = sec->sh.sh_size / maps_.size();
    std::sort(maps_.begin(), maps_.end(), [](const LegacyMap& a, const LegacyMap& b) { return a.offset < b.offset; });
    const auto* d = static_cast<const std::uint8_t*>(sec->data->d_buf);
    auto u32 = [&](const LegacyMap& m, std::size_t field) {
      std::uint32_t v = 0;
      if (field * 4 + 4 <= def_size) std::memcpy(&v, d + m.offset + field * 4, 4);
      return v;
    };
    for (auto& m : maps_) {
      m.def_size = def_size;
      m.type = u32(m, 0), m.key = u32(m, 1), m.value = u32(m, 2), m.max = u32(m, 3), m.flags = u32(m, 4);
      if (def_size >= 36) m.id = u32(m, 5), m.inner_id = u32(m, 7), m.inner_idx = u32(m, 8);
      else m.inner_map_idx = u32(m, 5);
      // bpf_load.c's bpf_create_map_in_map_node passes value_size 4 whatever the definition says
      if (def_size > 20 && def_size < 36 && (m.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || m.type == BPF_MAP_TYPE_HASH_OF_MAPS)) m.value = 4;
      if (m.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && m.max == 0) m.max = testing::possible_cpus();
      if (m.type == BPF_MAP_TYPE_RINGBUF) {
        std::uint32_t sz = 4096;
        while (sz < m.max) sz <<= 1;
        m.max = sz;
      }
    }
    auto is_mim = [](std::uint32_t t) { return t == BPF_MAP_TYPE_ARRAY_OF_MAPS || t == BPF_MAP_TYPE_HASH_OF_MAPS; };
    for (int pass = 0; pass < 2; ++pass)
      for (auto& m : maps_) {
        if (is_mim(m.type) != (pass == 1)) continue;
        int inner = -1;
        if (pass == 1) {
          const LegacyMap* t = nullptr;
          if (def_size >= 36) {
            for (const auto& c : maps_)
              if (c.id == m.inner_id && &c != &m) t = &c;
          } else if (m.inner_map_idx < maps_.size()) {
            t = &maps_[m.inner_map_idx];
          }
          if (!t) return fail("map " + m.name + ": no inner template");
          inner = t->fd.get();
        }
        const int fd = sys_map_create(m.type, m.key, m.value, m.max, m.flags, inner);
        if (fd < 0) return fail("map " + m.name + ": BPF_MAP_CREATE: " + std::strerror(-fd));
        m.fd.reset(fd);
      }
    if (def_size >= 36)  // iproute2: place every map with an id into the outers naming it
      for (const auto& in : maps_) {
        if (in.id == 0 || in.inner_idx == 0xffffffffu) continue;
        for (const auto& out : maps_) {
          if (!is_mim(out.type) || out.inner_id != in.id) continue;
          const std::uint32_t key = in.inner_idx, value = static_cast<std::uint32_t>(in.fd.get());
          if (int e = testing::map_update(out.fd, {reinterpret_cast<const std::uint8_t*>(&key), 4},
                                          {reinterpret_cast<const std::uint8_t*>(&value), 4});
              e < 0)
            return fail("map " + out.name + "[" + std::to_string(key) + "] = " + in.name + ": " + std::strerror(-e));
        }
      }
    return {};
  }

  Result<void> patch_maps(std::size_t shndx, std::vector<vm::Insn>& insns) {
    const Section* maps = find("maps");
    for (const auto& rel : sections_) {
      if (rel.sh.sh_type != SHT_REL || rel.sh.sh_info != shndx) continue;
      for (std::size_t i = 0; i < rel.sh.sh_size / sizeof(Elf64_Rel); ++i) {
        GElf_Rel r;
        if (!gelf_getrel(rel.data, static_cast<int>(i), &r)) return fail("bad relocation");
        const auto& sym = symbols_.at(GELF_R_SYM(r.r_info));
        const std::size_t idx = r.r_offset / 8;
        if (!maps || sym.sym.st_shndx != maps->index || idx >= insns.size() || insns[idx].code != 0x18)
          return fail("relocation against " + sym.name + " is not a map reference");
        // A static map is referenced through the section symbol, its offset in the lddw's imm.
        const std::uint64_t off = GELF_ST_TYPE(sym.sym.st_info) == STT_SECTION ? sym.sym.st_value + std::uint32_t(insns[idx].imm)
                                                                               : sym.sym.st_value;
        const auto it = std::find_if(maps_.begin(), maps_.end(), [&](const LegacyMap& m) { return m.offset == off; });
        if (it == maps_.end()) return fail("no map at " + sym.name);
        insns[idx].src = BPF_PSEUDO_MAP_FD;
        insns[idx].imm = it->fd.get();
      }
    }
    return {};
  }

  std::vector<std::uint8_t> bytes_;
  Elf* elf_ = nullptr;
  std::vector<Section> sections_;
  Section symtab_;
  std::vector<Symbol> symbols_;
  std::vector<LegacyMap> maps_;
};

}  // namespace

TEST_CASE("kernel verdicts: legacy-style objects, loaded by a fallback loader, agree with bpfvm") {
  std::map<std::string, std::string> known;
  for (const auto& k : kKnownDifferences) known.emplace(k.program, k.reason);
  std::ostringstream failures, listed;
  std::size_t agree = 0;
  for (const char* object : {"legacy_sections", "legacy_nosym", "legacy_elf_maps", "legacy_load_maps", "legacy_text_only",
                             "legacy_tail_calls", "legacy_load_tail_calls"}) {
    const std::string path = std::string(BPFVM_LEGACY_OBJECTS_DIR) + "/" + object + ".bpf.o";
    INFO(path);
    LegacyObject kernel_object(read_bytes(path));
    auto programs = kernel_object.load();
    INFO((programs ? std::string() : programs.error().message()));
    REQUIRE(programs.has_value());
    Vm vm;
    auto api = vm.open_elf_file(path);
    INFO((api ? std::string() : api.error().message()));
    REQUIRE(api.has_value());
    // The same object with SHT_RELA relocations (tests/loader/rela_rewrite): bpfvm's verdict on it must be
    // the kernel's on the original too.
    const std::string rela_path = std::string(BPFVM_ELF_FORMS_DIR) + "/" + object + ".rela.o";
    auto rela_api = vm.open_elf_file(rela_path);
    INFO(rela_path << ": " << (rela_api ? std::string() : rela_api.error().message()));
    REQUIRE(rela_api.has_value());
    const auto infos = api->programs();
    CHECK(infos.size() == programs->size());
    for (const auto& prog : *programs) {
      const std::string id = std::string(object) + ":" + prog.name;
      INFO(id);
      const auto exp = std::find_if(std::begin(kExpected), std::end(kExpected), [&](const Expected& e) {
        return object == std::string_view(e.object) && prog.name == e.program;
      });
      REQUIRE(exp != std::end(kExpected));
      std::string log;
      auto loaded = testing::load_program(exp->type, prog.insns, &log);
      const bool kernel_accepts = loaded.has_value();

      ProgramOptions options;
      const auto info = std::find_if(infos.begin(), infos.end(), [&](const ProgramInfo& p) { return p.name == prog.name; });
      REQUIRE(info != infos.end());
      const std::string_view want_type = exp->needs_type_option ? "unspec" : loader::prog_type_name(exp->type);
      if (info->type != want_type) failures << "  " << id << ": bpfvm's type from the section is " << info->type << ", the loaders' " << want_type << "\n";
      if (exp->needs_type_option) {
        auto t = ProgramType::kernel(exp->type);
        REQUIRE(t.has_value());
        options.type = *t;
      }
      auto ours = api->load(prog.name, options);
      auto ours_rela = rela_api->load(prog.name, options);
      if (ours.has_value() != ours_rela.has_value() || (!ours && ours.error().message() != ours_rela.error().message()))
        failures << "  " << id << ": the SHT_RELA form gets another verdict: " << (ours_rela ? "accept" : ours_rela.error().message()) << "\n";
      const auto it = known.find(id);
      if (!ours && ours.error().code != Errc::Rejected) {
        if (it == known.end())
          failures << "  " << id << ": bpfvm gives no verdict: " << ours.error().message() << "\n";
        else
          listed << "  " << id << ": " << it->second << "\n    (" << ours.error().message() << "; kernel "
                 << (kernel_accepts ? "accepts" : "rejects") << ")\n";
        continue;
      }
      if (it != known.end()) failures << "  " << id << ": listed in kKnownDifferences but bpfvm now judges it\n";
      if (ours && ours->type().kernel_type != static_cast<std::uint32_t>(exp->type))
        failures << "  " << id << ": bpfvm type " << ours->type().kernel_type << ", loaders' type " << exp->type << "\n";
      if (ours.has_value() != kernel_accepts) {
        failures << "  " << id << ": bpfvm " << (ours ? "accepts" : "rejects (" + ours.error().message() + ")")
                 << ", kernel " << (kernel_accepts ? "accepts" : "rejects (" + loaded.error().message() + ")") << "\n";
        continue;
      }
      ++agree;
    }
  }
  INFO("listed differences:\n" << listed.str());
  INFO("failures:\n" << failures.str());
  CHECK(failures.str().empty());
  CHECK(agree == std::size(kExpected) - std::size(kKnownDifferences));
  WARN(agree << " legacy programs agree with the kernel; listed differences:\n" << listed.str());
}
