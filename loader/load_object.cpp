// load_object(): classifies an object's sections and runs the loader steps in libbpf's order.
#include <elf.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "loader/load_context.hpp"
#include "loader/section_names.hpp"

namespace bpfvm::loader {

namespace {

Error malformed(std::string reason) { return make_error(Errc::Malformed, std::move(reason)); }

bool is_data_section(const ElfSection& s) {
  const auto n = s.name;
  if (s.type == SHT_NOBITS) return n == ".bss" || n.starts_with(".bss.");
  if (s.type != SHT_PROGBITS || !(s.flags & SHF_ALLOC)) return false;
  return n == ".data" || n.starts_with(".data.") || n == ".rodata" || n.starts_with(".rodata.");
}

Result<void> collect_functions(LoadContext& ctx, ProgSection& ps, const ElfSection& sec) {
  const bool is_text = sec.name == ".text";
  for (const auto& s : ctx.elf.symbols()) {
    if (s.shndx != ps.shndx || s.type != STT_FUNC) continue;
    const std::string at = describe_section(sec) + ": function '" + std::string(s.name) + "'";
    if (s.value % vm::kInsnBytes || s.size % vm::kInsnBytes) return malformed(at + " is not aligned to instructions");
    if (s.value > sec.size || s.size > sec.size - s.value)
      return malformed(at + " [" + std::to_string(s.value) + ", +" + std::to_string(s.size) + ") runs past the section");
    if (s.size == 0) return malformed(at + " has size 0");
    // A static function in a program section is a program of its own, as older libbpf and iproute2
    // loaded it (Falco's probe); libbpf 1.x refuses it.
    ps.funcs.push_back({s.name, static_cast<std::uint32_t>(s.value / 8), static_cast<std::uint32_t>(s.size / 8), s.bind != STB_LOCAL});
  }
  std::sort(ps.funcs.begin(), ps.funcs.end(), [](const Function& a, const Function& b) { return a.sec_insn_off < b.sec_insn_off; });
  for (std::size_t i = 1; i < ps.funcs.size(); ++i)
    if (ps.funcs[i].sec_insn_off < ps.funcs[i - 1].sec_insn_off + ps.funcs[i - 1].insn_cnt)
      return malformed(describe_section(sec) + ": functions '" + std::string(ps.funcs[i - 1].name) + "' and '" +
                       std::string(ps.funcs[i].name) + "' overlap");
  // Older clang emitted no function symbol for a program section, and current clang emits none for
  // code outside a function; iproute2, bcc and older libbpf load the whole section as one program
  // named after the section.
  if (ps.funcs.empty() && !is_text)
    ps.funcs.push_back({sec.name, 0, static_cast<std::uint32_t>(ps.insns.size()), true, true});
  return {};
}

ProgramSpec make_program(const ProgSection& ps, const Function& f) {
  ProgramSpec p;
  p.name = std::string(f.name);
  std::string_view sec = ps.name;
  if (sec.starts_with('?')) {
    p.autoload = false;
    sec.remove_prefix(1);
  }
  p.section = std::string(sec);
  p.whole_section = f.whole_section;
  if (f.whole_section) p.name = p.section;
  if (const auto def = find_program_section_def(sec)) {
    p.prog_type = def->prog_type;
    p.expected_attach_type = def->expected_attach_type;
    p.prog_flags = def->prog_flags;
    p.legacy_section_name = def->legacy;
    auto prefix = def->prefix;
    if (def->legacy) prefix = {};  // old loaders took no attach target from the name
    else if (prefix.ends_with('+')) prefix.remove_suffix(1);
    if (prefix.ends_with('/')) prefix.remove_suffix(1);
    if (!prefix.empty() && sec.size() > prefix.size() + 1 && sec[prefix.size()] == '/')
      p.attach_target = std::string(sec.substr(prefix.size() + 1));
  }
  p.section_index = ps.shndx;
  p.section_insn_off = f.sec_insn_off;
  return p;
}

#define BPFVM_TRY(expr) do { if (auto r_ = (expr); !r_) return std::move(r_).error(); } while (0)

}  // namespace

std::string_view map_origin_name(MapOrigin origin) {
  switch (origin) {
    case MapOrigin::LegacyMaps: return "maps";
    case MapOrigin::BtfMaps: return ".maps";
    case MapOrigin::Data: return "data";
    case MapOrigin::Rodata: return "rodata";
    case MapOrigin::Bss: return "bss";
    case MapOrigin::Kconfig: return "kconfig";
  }
  return "?";
}

std::string_view reloc_kind_name(AppliedReloc::Kind kind) {
  switch (kind) {
    case AppliedReloc::Kind::SubprogCall: return "call";
    case AppliedReloc::Kind::SubprogAddr: return "func_addr";
    case AppliedReloc::Kind::Map: return "map";
    case AppliedReloc::Kind::MapValue: return "map_value";
    case AppliedReloc::Kind::Kconfig: return "kconfig";
    case AppliedReloc::Kind::Core: return "core";
    case AppliedReloc::Kind::CorePoisoned: return "core_poisoned";
    case AppliedReloc::Kind::CoreUnresolved: return "core_unresolved";
    case AppliedReloc::Kind::ExternUnresolved: return "extern_unresolved";
    case AppliedReloc::Kind::Ksym: return "ksym";
    case AppliedReloc::Kind::KsymAddress: return "ksym_addr";
    case AppliedReloc::Kind::Kfunc: return "kfunc";
  }
  return "?";
}

const ProgramSpec* Object::find_program(std::string_view name) const {
  for (const auto& p : programs)
    if (p.name == name) return &p;
  return nullptr;
}

const MapSpec* Object::find_map(std::string_view name) const {
  for (const auto& m : maps)
    if (m.name == name) return &m;
  return nullptr;
}

Result<Object> load_object(std::span<const std::uint8_t> bytes, const LoadOptions& options) {
  auto elf = ElfFile::parse(bytes);
  if (!elf) return std::move(elf).error();
  Object obj;
  LoadContext ctx{*elf, options, obj};
  const ElfSection* btf_sec = nullptr;
  const ElfSection* ext_sec = nullptr;
  for (const auto& s : elf->sections()) {
    if (s.index == 0) continue;
    if (s.name == "license") {
      const auto* p = reinterpret_cast<const char*>(s.data.data());
      obj.license.assign(p, std::find(p, p + s.data.size(), '\0'));
    } else if (s.name == "version") {
      if (s.data.size() != 4) return malformed(describe_section(s) + ": size " + std::to_string(s.data.size()) + " is not 4");
      std::memcpy(&obj.kern_version, s.data.data(), 4);
    } else if (s.name == "maps") {
      ctx.maps_shndx = s.index;
    } else if (s.name == ".maps") {
      ctx.btf_maps_shndx = s.index;
    } else if (s.name == ".BTF") {
      btf_sec = &s;
    } else if (s.name == ".BTF.ext") {
      ext_sec = &s;
    } else if (s.type == SHT_PROGBITS && (s.flags & SHF_EXECINSTR) && s.size > 0) {
      if (s.size % vm::kInsnBytes) return malformed(describe_section(s) + ": code size " + std::to_string(s.size) + " is not a multiple of 8");
      ProgSection ps;
      ps.shndx = s.index;
      ps.name = s.name;
      ps.insns.resize(s.size / vm::kInsnBytes);
      for (std::size_t i = 0; i < ps.insns.size(); ++i)
        ps.insns[i] = vm::insn_from_bytes(std::span<const std::uint8_t, vm::kInsnBytes>(s.data.data() + i * vm::kInsnBytes, vm::kInsnBytes));
      if (s.name == ".text") ctx.text_sec = static_cast<int>(ctx.prog_secs.size());
      ctx.prog_secs.push_back(std::move(ps));
    } else if (is_data_section(s)) {
      ctx.data_shndx.push_back(s.index);
    }
  }
  for (const auto& s : elf->sections()) {
    // clang emits SHT_REL; SHT_RELA (explicit addends) comes from other toolchains and is read alike.
    if (s.holds_relocations()) {
      if (s.info >= elf->sections().size()) return malformed(describe_section(s) + ": target section " + std::to_string(s.info) + " does not exist");
      if (ctx.btf_maps_shndx && s.info == ctx.btf_maps_shndx) ctx.rel_btf_maps_shndx = s.index;
    }
  }
  if (btf_sec) {
    auto btf = Btf::parse(btf_sec->data);
    if (!btf) {
      auto e = std::move(btf).error();
      e.reason = describe_section(*btf_sec) + ": " + e.reason;
      return e;
    }
    obj.btf = std::make_shared<Btf>(std::move(*btf));
    ctx.btf = obj.btf.get();
    if (ext_sec) {
      auto ext = BtfExt::parse(ext_sec->data, *ctx.btf);
      if (!ext) {
        auto e = std::move(ext).error();
        e.reason = describe_section(*ext_sec) + ": " + e.reason;
        return e;
      }
      ctx.ext = std::make_unique<BtfExt>(std::move(*ext));
    }
  }
  for (auto& ps : ctx.prog_secs) BPFVM_TRY(collect_functions(ctx, ps, *elf->section(ps.shndx)));
  // With no other code section, .text's functions are the programs: libbpf before 0.2 loaded .text as a
  // program when nothing called into it, and such objects (no SEC() at all) need --type.
  const bool text_only = ctx.text_sec >= 0 && ctx.prog_secs.size() == 1;
  for (const auto& ps : ctx.prog_secs) {
    if (ctx.text_sec >= 0 && &ps == &ctx.prog_secs[ctx.text_sec] && !text_only) continue;
    for (const auto& f : ps.funcs) obj.programs.push_back(make_program(ps, f));
  }
  BPFVM_TRY(collect_legacy_maps(ctx));
  BPFVM_TRY(collect_btf_maps(ctx));
  BPFVM_TRY(collect_data_maps(ctx));
  BPFVM_TRY(collect_kconfig_externs(ctx));
  BPFVM_TRY(apply_core_relocations(ctx));
  BPFVM_TRY(collect_relocations(ctx));
  BPFVM_TRY(link_programs(ctx));
  BPFVM_TRY(collect_map_slot_inits(ctx));
  return obj;
}

}  // namespace bpfvm::loader
