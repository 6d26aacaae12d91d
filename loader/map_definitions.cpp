// Map specifications from an object: legacy SEC("maps"), BTF-defined SEC(".maps"), global data sections,
// and the initial slots of prog_array / map-in-map definitions (.rel.maps).
#include <elf.h>
#include <linux/bpf.h>
#include <linux/btf.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

#include "loader/load_context.hpp"

namespace bpfvm::loader {

namespace {

constexpr std::size_t kBpfMapDefBytes = 20;  // struct bpf_map_def: type, key/value size, max_entries, flags
constexpr std::uint32_t kLibbpfPinByName = 1;
constexpr std::size_t kObjNameLen = 16;      // BPF_OBJ_NAME_LEN

Error malformed(std::string reason) { return make_error(Errc::Malformed, std::move(reason)); }

bool is_map_in_map(std::uint32_t type) {
  return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

std::uint32_t read_u32(std::span<const std::uint8_t> d, std::size_t off) {
  std::uint32_t v = 0;
  if (off + 4 <= d.size()) std::memcpy(&v, d.data() + off, 4);
  return v;
}

}  // namespace

// libbpf's internal_map_name(): "<obj prefix><section>", sanitised to [A-Za-z0-9_.].
std::string internal_map_name(std::string_view obj_name, std::string_view sec) {
  std::size_t sfx_len = std::max<std::size_t>(7, sec.size());
  if (sfx_len >= kObjNameLen) sfx_len = kObjNameLen - 1;
  const bool custom = sec.size() > 1 && sec.substr(1).find('.') != std::string_view::npos;
  const std::size_t pfx_len = custom ? 0 : std::min(kObjNameLen - sfx_len - 1, obj_name.size());
  std::string name = std::string(obj_name.substr(0, pfx_len)) + std::string(sec.substr(0, sfx_len));
  if (name.size() > kObjNameLen - 1) name.resize(kObjNameLen - 1);
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') c = '_';
  return name;
}

namespace {

// __uint(name, N) is `int (*name)[N]`: a pointer to an array of N elements.
Result<std::uint32_t> map_field_int(const Btf& btf, std::string_view map, const BtfMember& m) {
  const auto t = btf.skip_mods_and_typedefs(m.type);
  const auto field = std::string(btf.string_at(m.name_off));
  if (btf.kind(t) != BtfKind::Ptr) return malformed("map '" + std::string(map) + "': attr '" + field + "': expected PTR, got " + std::string(btf_kind_name(btf.kind(t))));
  const auto arr = btf.size_or_type(t);
  if (btf.kind(arr) != BtfKind::Array) return malformed("map '" + std::string(map) + "': attr '" + field + "': expected ARRAY, got " + std::string(btf_kind_name(btf.kind(arr))));
  return btf.array(arr).nelems;
}

// The byte offset of the struct bpf_spin_lock among the value struct's own members (where the kernel's
// btf_find_field looks), or -1. More than one lock is an error, as at the kernel's BPF_MAP_CREATE.
Result<std::int32_t> spin_lock_offset(const Btf& btf, const std::string& map, std::uint32_t value_type_id) {
  const auto value = btf.skip_mods_and_typedefs(value_type_id);
  if (btf.kind(value) != BtfKind::Struct) return -1;
  std::int32_t found = -1;
  for (std::uint32_t i = 0; i < btf.vlen(value); ++i) {
    const auto m = btf.member(value, i);
    const auto t = btf.skip_mods_and_typedefs(m.type);
    if (btf.kind(t) != BtfKind::Struct || btf.name(t) != "bpf_spin_lock") continue;
    if (found >= 0) return malformed("map '" + map + "': the value holds more than one struct bpf_spin_lock");
    const std::uint32_t bit_off = m.bit_offset;
    if (bit_off % 32 != 0) return malformed("map '" + map + "': struct bpf_spin_lock is not 4-byte aligned in the value");
    found = static_cast<std::int32_t>(bit_off / 8);
  }
  return found;
}

// parse_btf_map_def(): one struct of __uint/__type/__array members.
Result<void> parse_btf_map_def(const Btf& btf, const std::string& map, std::uint32_t def_id, bool is_inner, MapSpec& spec) {
  const std::uint32_t vlen = btf.vlen(def_id);
  for (std::uint32_t i = 0; i < vlen; ++i) {
    const auto m = btf.member(def_id, i);
    const auto field = btf.string_at(m.name_off);
    if (field.empty()) return malformed("map '" + map + "': member #" + std::to_string(i) + " has no name");
    auto int_field = [&](std::uint32_t& out) -> Result<void> {
      auto v = map_field_int(btf, map, m);
      if (!v) return std::move(v).error();
      out = *v;
      return {};
    };
    auto sized_type = [&](std::uint32_t& size, std::uint32_t& type_id) -> Result<void> {
      const auto t = btf.skip_mods_and_typedefs(m.type);
      if (btf.kind(t) != BtfKind::Ptr) return malformed("map '" + map + "': " + std::string(field) + " spec is not PTR");
      const auto sz = btf.resolve_size(btf.size_or_type(t));
      if (!sz) return malformed("map '" + map + "': can't determine " + std::string(field) + " size for type [" + std::to_string(btf.size_or_type(t)) + "]");
      if (size && size != *sz) return malformed("map '" + map + "': conflicting " + std::string(field) + " size " + std::to_string(size) + " != " + std::to_string(*sz));
      size = static_cast<std::uint32_t>(*sz);
      type_id = btf.size_or_type(t);
      return {};
    };
    Result<void> r;
    std::uint32_t tmp = 0;
    if (field == "type") r = int_field(spec.type);
    else if (field == "max_entries") r = int_field(spec.max_entries);
    else if (field == "map_flags") r = int_field(spec.map_flags);
    else if (field == "numa_node") r = int_field(spec.numa_node);
    else if (field == "map_extra") { r = int_field(tmp); spec.map_extra = tmp; }
    else if (field == "key_size" || field == "value_size") {
      if (!(r = int_field(tmp))) return r;
      auto& slot = field == "key_size" ? spec.key_size : spec.value_size;
      if (slot && slot != tmp) return malformed("map '" + map + "': conflicting " + std::string(field) + " " + std::to_string(slot) + " != " + std::to_string(tmp));
      slot = tmp;
    } else if (field == "key") r = sized_type(spec.key_size, spec.key_type_id);
    else if (field == "value") r = sized_type(spec.value_size, spec.value_type_id);
    else if (field == "values") {
      const bool mim = is_map_in_map(spec.type), prog_array = spec.type == BPF_MAP_TYPE_PROG_ARRAY;
      if (is_inner) return make_error(Errc::Unsupported, "map '" + map + "': multi-level inner maps are not supported");
      if (i != vlen - 1) return malformed("map '" + map + "': 'values' member must be last");
      if (!mim && !prog_array) return malformed("map '" + map + "': 'values' needs a map-in-map or prog_array type");
      if (spec.value_size && spec.value_size != 4) return malformed("map '" + map + "': conflicting value size " + std::to_string(spec.value_size) + " != 4");
      spec.value_size = 4;
      const auto arr = m.type;
      if (btf.kind(arr) != BtfKind::Array || btf.array(arr).nelems != 0) return malformed("map '" + map + "': 'values' must be a zero-sized array");
      const auto ptr = btf.skip_mods_and_typedefs(btf.array(arr).type);
      if (btf.kind(ptr) != BtfKind::Ptr) return malformed("map '" + map + "': 'values' elements must be pointers");
      const auto target = btf.skip_mods_and_typedefs(btf.size_or_type(ptr));
      if (prog_array) {
        if (btf.kind(target) != BtfKind::FuncProto) return malformed("map '" + map + "': prog_array 'values' must point to a function prototype");
        continue;
      }
      if (btf.kind(target) != BtfKind::Struct) return malformed("map '" + map + "': map-in-map inner definition must be a struct");
      auto inner = std::make_shared<MapSpec>();
      inner->name = map + ".inner";
      inner->kernel_name = inner->name;
      inner->origin = MapOrigin::BtfMaps;
      if (auto ir = parse_btf_map_def(btf, inner->name, target, true, *inner); !ir) return ir;
      spec.inner = std::move(inner);
    } else if (field == "pinning") {
      if (is_inner) return malformed("map '" + map + "': inner map definitions can't be pinned");
      if (!(r = int_field(spec.pinning))) return r;
      if (spec.pinning > kLibbpfPinByName) return malformed("map '" + map + "': invalid pinning value " + std::to_string(spec.pinning));
    } else {
      return make_error(Errc::Unsupported, "map '" + map + "': unknown field '" + std::string(field) + "'");
    }
    if (!r) return r;
  }
  if (spec.type == BPF_MAP_TYPE_UNSPEC) return malformed("map '" + map + "': map type isn't specified");
  if (spec.value_type_id != 0) {
    auto lock = spin_lock_offset(btf, map, spec.value_type_id);
    if (!lock) return std::move(lock).error();
    spec.spin_lock_off = *lock;
  }
  return {};
}

}  // namespace

Result<void> collect_legacy_maps(LoadContext& ctx) {
  if (!ctx.maps_shndx) return {};
  const auto& sec = *ctx.elf.section(ctx.maps_shndx);
  std::vector<const ElfSymbol*> syms;
  for (const auto& s : ctx.elf.symbols())
    if (s.shndx == ctx.maps_shndx && s.type != STT_SECTION) syms.push_back(&s);
  if (syms.empty()) return {};
  if (sec.size == 0 || sec.size % syms.size() != 0)
    return malformed(describe_section(sec) + ": unable to determine map definition size (" + std::to_string(sec.size) +
                     " bytes for " + std::to_string(syms.size()) + " maps)");
  const std::size_t def_sz = sec.size / syms.size();
  for (const auto* s : syms) {
    if (s->value > sec.size || def_sz > sec.size - s->value)
      return malformed(describe_section(sec) + ": map '" + std::string(s->name) + "' at offset " + std::to_string(s->value) + " runs past the section");
    if (sec.data.empty()) return malformed(describe_section(sec) + " has no data");
    auto def = sec.data.subspan(s->value, def_sz);
    for (std::size_t b = kBpfMapDefBytes; b < def_sz; ++b)
      if (def[b] != 0)
        return make_error(Errc::Unsupported, describe_section(sec) + ": map '" + std::string(s->name) + "' has unrecognized, non-zero options");
    MapSpec m;
    m.name = std::string(s->name);
    m.kernel_name = m.name.substr(0, kObjNameLen - 1);
    m.origin = MapOrigin::LegacyMaps;
    m.type = read_u32(def, 0);
    m.key_size = read_u32(def, 4);
    m.value_size = read_u32(def, 8);
    m.max_entries = read_u32(def, 12);
    m.map_flags = read_u32(def, 16);
    m.section_index = ctx.maps_shndx;
    m.section_offset = s->value;
    ctx.obj.maps.push_back(std::move(m));
  }
  return {};
}

Result<void> collect_btf_maps(LoadContext& ctx) {
  if (!ctx.btf_maps_shndx) return {};
  const auto& sec = *ctx.elf.section(ctx.btf_maps_shndx);
  if (!ctx.btf) return malformed(describe_section(sec) + ": BTF-defined maps need a .BTF section");
  const Btf& btf = *ctx.btf;
  const auto datasec = btf.find(BtfKind::Datasec, ".maps");
  if (!datasec) return malformed(describe_section(sec) + ": no DATASEC '.maps' in BTF");
  for (std::uint32_t i = 0; i < btf.vlen(*datasec); ++i) {
    const auto var = btf.secinfo(*datasec, i).type;
    if (btf.kind(var) != BtfKind::Var) return malformed("DATASEC '.maps' entry #" + std::to_string(i) + " is not a VAR");
    const std::string name(btf.name(var));
    if (btf.var_linkage(var) != BTF_VAR_GLOBAL_ALLOCATED && btf.var_linkage(var) != BTF_VAR_STATIC)
      return make_error(Errc::Unsupported, "map '" + name + "': unsupported map linkage " + std::to_string(btf.var_linkage(var)));
    const auto def = btf.skip_mods_and_typedefs(btf.size_or_type(var));
    if (btf.kind(def) != BtfKind::Struct) return malformed("map '" + name + "': definition is not a struct");
    // clang leaves DATASEC offsets to the linker; like libbpf, take them from the symbol table.
    const ElfSymbol* sym = nullptr;
    for (const auto& s : ctx.elf.symbols())
      if (s.shndx == ctx.btf_maps_shndx && s.name == name && s.type != STT_SECTION) { sym = &s; break; }
    if (!sym) return malformed("map '" + name + "': no symbol in " + describe_section(sec));
    const auto size = btf.resolve_size(def).value_or(0);
    if (sym->value > sec.size || size > sec.size - sym->value)
      return malformed("map '" + name + "': definition at offset " + std::to_string(sym->value) + " runs past " + describe_section(sec));
    MapSpec m;
    m.name = name;
    m.kernel_name = name.substr(0, kObjNameLen - 1);
    m.origin = MapOrigin::BtfMaps;
    m.section_index = ctx.btf_maps_shndx;
    m.section_offset = sym->value;
    if (auto r = parse_btf_map_def(btf, name, def, false, m); !r) return r;
    ctx.obj.maps.push_back(std::move(m));
  }
  return {};
}

Result<void> collect_data_maps(LoadContext& ctx) {
  for (const auto shndx : ctx.data_shndx) {
    const auto& sec = *ctx.elf.section(shndx);
    if (sec.size == 0) continue;  // libbpf skips empty data sections
    // The kernel's array_map_alloc_check refuses a value above INT_MAX with E2BIG. A .bss header can
    // claim any size without the file holding it, so nothing below allocates from it (the map starts
    // zeroed; its memory counts against the host's cap when the object is opened for a run).
    if (sec.size > 0x7fffffffu)
      return make_error(Errc::InvalidArgument, describe_section(sec) + ": size " + std::to_string(sec.size) +
                                                   " is above the kernel's map value limit (E2BIG: INT_MAX bytes)");
    MapSpec m;
    m.name = std::string(sec.name);
    m.kernel_name = internal_map_name(ctx.options.object_name, sec.name);
    const bool bss = sec.type == SHT_NOBITS;
    const bool ro = sec.name == ".rodata" || sec.name.starts_with(".rodata.");
    m.origin = bss ? MapOrigin::Bss : ro ? MapOrigin::Rodata : MapOrigin::Data;
    m.type = BPF_MAP_TYPE_ARRAY;
    m.key_size = 4;
    m.value_size = static_cast<std::uint32_t>(sec.size);
    m.max_entries = 1;
    m.map_flags = BPF_F_MMAPABLE | (ro ? BPF_F_RDONLY_PROG : 0);
    m.frozen = ro;
    if (!bss) m.initial_value.assign(sec.data.begin(), sec.data.end());  // .bss: empty = all zero
    if (ctx.btf)
      if (auto ds = ctx.btf->find(BtfKind::Datasec, sec.name)) m.value_type_id = *ds;
    m.section_index = shndx;
    ctx.obj.maps.push_back(std::move(m));
  }
  return {};
}

Result<void> collect_map_slot_inits(LoadContext& ctx) {
  if (!ctx.rel_btf_maps_shndx) return {};
  const auto& rel_sec = *ctx.elf.section(ctx.rel_btf_maps_shndx);
  auto rels = ctx.elf.relocations(rel_sec);
  if (!rels) return std::move(rels).error();
  const Btf& btf = *ctx.btf;  // collect_btf_maps() already required BTF for .maps
  for (std::size_t i = 0; i < rels->size(); ++i) {
    const auto& rel = (*rels)[i];
    const auto& sym = ctx.elf.symbols()[rel.sym];
    const std::string at = describe_section(rel_sec) + ": relocation #" + std::to_string(i) + " ('" + std::string(sym.name) + "')";
    MapSpec* map = nullptr;
    for (auto& m : ctx.obj.maps) {
      if (m.origin != MapOrigin::BtfMaps || m.section_index != ctx.btf_maps_shndx) continue;
      const ElfSymbol* msym = nullptr;
      for (const auto& s : ctx.elf.symbols())
        if (s.shndx == ctx.btf_maps_shndx && s.name == m.name && s.type != STT_SECTION) { msym = &s; break; }
      const auto size = msym ? msym->size : 0;
      if (m.section_offset <= rel.offset && rel.offset + 8 <= m.section_offset + size) { map = &m; break; }
    }
    if (!map) return malformed(at + ": cannot find map definition at offset " + std::to_string(rel.offset));
    MapSlotInit slot;
    if (is_map_in_map(map->type)) {
      if (sym.shndx != ctx.btf_maps_shndx) return malformed(at + ": map-in-map target is not in .maps");
      if (map->type == BPF_MAP_TYPE_HASH_OF_MAPS && map->key_size != 4) return malformed(at + ": hash-of-maps initialiser needs 4-byte keys");
      const auto it = std::find_if(ctx.obj.maps.begin(), ctx.obj.maps.end(), [&](const MapSpec& m) { return m.name == sym.name; });
      if (it == ctx.obj.maps.end()) return malformed(at + ": unknown map");
      slot.target = MapSlotInit::Target::Map;
      slot.index = static_cast<std::uint32_t>(it - ctx.obj.maps.begin());
    } else if (map->type == BPF_MAP_TYPE_PROG_ARRAY) {
      const auto it = std::find_if(ctx.obj.programs.begin(), ctx.obj.programs.end(), [&](const ProgramSpec& p) { return p.name == sym.name; });
      if (it == ctx.obj.programs.end()) return malformed(at + ": unknown program");
      if (sym.shndx != it->section_index || sym.value != std::uint64_t(it->section_insn_off) * 8)
        return malformed(at + ": program symbol does not start its program");
      slot.target = MapSlotInit::Target::Program;
      slot.index = static_cast<std::uint32_t>(it - ctx.obj.programs.begin());
    } else {
      return malformed(at + ": map '" + map->name + "' is neither map-in-map nor prog_array");
    }
    // The slot is the pointer's index within the trailing 'values' member.
    std::uint32_t def = 0;
    if (auto ds = btf.find(BtfKind::Datasec, ".maps"))
      for (std::uint32_t v = 0; v < btf.vlen(*ds); ++v)
        if (btf.name(btf.secinfo(*ds, v).type) == map->name) def = btf.skip_mods_and_typedefs(btf.size_or_type(btf.secinfo(*ds, v).type));
    const auto vlen = btf.vlen(def);
    if (vlen == 0 || btf.string_at(btf.member(def, vlen - 1u).name_off) != "values") return malformed(at + ": map has no 'values' member");
    const std::uint64_t values_off = btf.member(def, vlen - 1u).bit_offset / 8;
    const std::uint64_t moff = rel.offset - map->section_offset;
    if (moff < values_off || (moff - values_off) % 8) return malformed(at + ": offset " + std::to_string(rel.offset) + " is not a 'values' slot");
    slot.slot = static_cast<std::uint32_t>((moff - values_off) / 8);
    map->initial_slots.push_back(slot);
  }
  return {};
}

}  // namespace bpfvm::loader
