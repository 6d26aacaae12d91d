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

constexpr std::size_t kBpfMapDefBytes = 20;      // struct bpf_map_def: type, key/value size, max_entries, flags
constexpr std::size_t kBpfLoadMapDefBytes = 28;  // samples/bpf bpf_load.c: + inner_map_idx, numa_node
constexpr std::size_t kBpfElfMapBytes = 36;      // iproute2 struct bpf_elf_map: + id, pinning, inner_id, inner_idx
constexpr std::uint32_t kNoInnerIdx = 0xffffffffu;
constexpr std::size_t kObjNameLen = 16;      // BPF_OBJ_NAME_LEN

Error malformed(std::string reason) { return make_error(Errc::Malformed, std::move(reason)); }

// libbpf's adjust_ringbuf_sz(): a ring buffer's size is rounded up to a power-of-2 number of pages
// (what the kernel requires), so `.max_entries = 10000` through either map syntax still creates one.
// 0 stays 0, so that a forgotten size still fails at creation.
std::uint32_t libbpf_ringbuf_size(std::uint32_t max_entries) {
  constexpr std::uint32_t kPageBytes = 4096;
  if (max_entries == 0) return 0;
  for (std::uint32_t pages = 1; pages <= (1u << 19); pages <<= 1)
    if (std::uint64_t{pages} * kPageBytes >= max_entries) return pages * kPageBytes;
  return max_entries;  // above 2 GiB: left for the map module to refuse
}

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

// The byte offset of the value struct's own member of struct `name` (bpf_spin_lock, bpf_timer: where the
// kernel's btf_find_field looks), or -1. More than one is an error, as at the kernel's BPF_MAP_CREATE.
Result<std::int32_t> special_field_offset(const Btf& btf, const std::string& map, std::uint32_t value_type_id,
                                          std::string_view name, std::uint32_t align_bytes) {
  const auto value = btf.skip_mods_and_typedefs(value_type_id);
  if (btf.kind(value) != BtfKind::Struct) return -1;
  std::int32_t found = -1;
  for (std::uint32_t i = 0; i < btf.vlen(value); ++i) {
    const auto m = btf.member(value, i);
    const auto t = btf.skip_mods_and_typedefs(m.type);
    if (btf.kind(t) != BtfKind::Struct || btf.name(t) != name) continue;
    if (found >= 0) return malformed("map '" + map + "': the value holds more than one struct " + std::string(name));
    const std::uint32_t bit_off = m.bit_offset;
    if (bit_off % (align_bytes * 8) != 0)
      return malformed("map '" + map + "': struct " + std::string(name) + " is not " + std::to_string(align_bytes) +
                       "-byte aligned in the value");
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
      // libbpf 1.x knows 0 and 1 (LIBBPF_PIN_BY_NAME); iproute2's objects use 2 (PIN_GLOBAL_NS) and
      // custom values. Pinning means nothing inside one process: every value is recorded, none acted on.
      if (!(r = int_field(spec.pinning))) return r;
    } else {
      return make_error(Errc::Unsupported, "map '" + map + "': unknown field '" + std::string(field) + "'");
    }
    if (!r) return r;
  }
  if (spec.type == BPF_MAP_TYPE_UNSPEC) return malformed("map '" + map + "': map type isn't specified");
  if (spec.type == BPF_MAP_TYPE_RINGBUF) spec.max_entries = libbpf_ringbuf_size(spec.max_entries);
  if (spec.value_type_id != 0) {
    auto lock = special_field_offset(btf, map, spec.value_type_id, "bpf_spin_lock", 4);
    if (!lock) return std::move(lock).error();
    spec.spin_lock_off = *lock;
    auto timer = special_field_offset(btf, map, spec.value_type_id, "bpf_timer", 8);
    if (!timer) return std::move(timer).error();
    spec.timer_off = *timer;
  }
  return {};
}

// Map-in-map from legacy definitions. bpf_load.c: the outer's inner_map_idx is the index, in section
// order, of the map that serves as the inner template. iproute2: the outer's inner_id names the `id`
// of its template, and every map with an id is placed into the outers naming it at key inner_idx
// (0xffffffff: not placed).
Result<void> link_legacy_inner_maps(LoadContext& ctx, const ElfSection& sec, std::size_t first) {
  auto& maps = ctx.obj.maps;
  std::vector<std::size_t> by_offset;
  for (std::size_t i = first; i < maps.size(); ++i) by_offset.push_back(i);
  std::stable_sort(by_offset.begin(), by_offset.end(), [&](std::size_t a, std::size_t b) { return maps[a].section_offset < maps[b].section_offset; });
  for (std::size_t i = first; i < maps.size(); ++i) {
    auto& outer = maps[i];
    if (!is_map_in_map(outer.type)) continue;
    const std::string at = describe_section(sec) + ": map-in-map '" + outer.name + "'";
    std::size_t inner = maps.size();
    if (outer.legacy.layout == LegacyMapDef::Layout::BpfLoad) {
      if (outer.legacy.inner_map_idx >= by_offset.size())
        return malformed(at + ": inner_map_idx " + std::to_string(outer.legacy.inner_map_idx) + " names no map");
      inner = by_offset[outer.legacy.inner_map_idx];
      // bpf_load.c created it with bpf_create_map_in_map_node, which passes value_size 4 whatever the
      // definition says: samples/bpf's and Katran's outer maps leave .value_size out (0).
      outer.value_size = 4;
    } else if (outer.legacy.layout == LegacyMapDef::Layout::BpfElfMap) {
      if (outer.legacy.inner_id == 0) return malformed(at + ": inner_id is 0 (no inner map template)");
      for (std::size_t j = first; j < maps.size(); ++j)
        if (j != i && maps[j].legacy.id == outer.legacy.inner_id) inner = j;
      if (inner == maps.size()) return malformed(at + ": no map has id " + std::to_string(outer.legacy.inner_id) + " (its inner_id)");
    } else {
      // libbpf's struct bpf_map_def has no field for it: libbpf before 1.0 left the template to the
      // application (bpf_map__set_inner_map_fd), cilium/ebpf to MapSpec.InnerMap. The spec keeps no
      // inner map; the API asks for one (LoadOptions::inner_map_templates) before creating the map.
      continue;
    }
    if (inner == i || is_map_in_map(maps[inner].type)) return malformed(at + ": its inner map '" + maps[inner].name + "' is a map-in-map");
    outer.inner = std::make_shared<MapSpec>(maps[inner]);
    if (outer.legacy.layout != LegacyMapDef::Layout::BpfElfMap) continue;
    for (std::size_t j = first; j < maps.size(); ++j) {
      const auto& m = maps[j];
      if (m.legacy.id != outer.legacy.inner_id || m.legacy.inner_idx == kNoInnerIdx || j == i) continue;
      if (outer.type == BPF_MAP_TYPE_ARRAY_OF_MAPS && m.legacy.inner_idx >= outer.max_entries)
        return malformed(at + ": inner_idx " + std::to_string(m.legacy.inner_idx) + " of '" + m.name + "' is past max_elem " + std::to_string(outer.max_entries));
      if (outer.type == BPF_MAP_TYPE_HASH_OF_MAPS && outer.key_size != 4) return malformed(at + ": hash-of-maps initialiser needs 4-byte keys");
      outer.initial_slots.push_back({m.legacy.inner_idx, MapSlotInit::Target::Map, static_cast<std::uint32_t>(j)});
    }
  }
  return {};
}

// iproute2's tail calls: a program in a section named "<id>/<key>" goes into the prog_array
// bpf_elf_map whose id is <id>, at <key>. Both numbers read as C integers (`%i`: 0x hex, leading-0
// octal, else decimal), since __section_tail() stringifies whatever the source wrote ("0xabccba/0").
// Sections that look so but name no such map stay unplaced.
void place_legacy_tail_calls(LoadContext& ctx, std::size_t first) {
  auto number = [](std::string_view s, std::uint32_t& out) {
    unsigned base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, s.remove_prefix(2);
    else if (s.size() > 1 && s[0] == '0') base = 8, s.remove_prefix(1);
    if (s.empty() || s.size() > 11) return false;
    std::uint64_t v = 0;
    for (char c : s) {
      const unsigned d = c >= '0' && c <= '9' ? unsigned(c - '0') : c >= 'a' && c <= 'f' ? unsigned(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? unsigned(c - 'A' + 10) : 99;
      if (d >= base) return false;
      v = v * base + d;
    }
    if (v > 0xffffffffu) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
  };
  for (std::size_t p = 0; p < ctx.obj.programs.size(); ++p) {
    const std::string_view sec = ctx.obj.programs[p].section;
    const auto slash = sec.find('/');
    std::uint32_t id = 0, key = 0;
    if (slash == std::string_view::npos || !number(sec.substr(0, slash), id) || !number(sec.substr(slash + 1), key) || id == 0) continue;
    for (std::size_t m = first; m < ctx.obj.maps.size(); ++m) {
      auto& map = ctx.obj.maps[m];
      if (map.type != BPF_MAP_TYPE_PROG_ARRAY || map.legacy.layout != LegacyMapDef::Layout::BpfElfMap || map.legacy.id != id) continue;
      if (key >= map.max_entries) continue;  // tc fails the update; the program still loads
      map.initial_slots.push_back({key, MapSlotInit::Target::Program, static_cast<std::uint32_t>(p)});
    }
  }
}

// samples/bpf's bpf_load.c (kernels 4.2 to 5.x): a program in a section "socket/<N>", "sockops/<N>",
// "kprobe/<N>" or "kretprobe/<N>" (N starting with a digit, read as atoi reads it) goes into the
// object's prog_array at N (sockex3_kern.c's PROG(), tracex5_kern.c's PROG()). bpf_load.c kept the fd of
// the last prog_array it created, in section order, so that one takes them; a key past its max_entries
// fails the update there and stays unplaced here.
void place_bpf_load_tail_calls(LoadContext& ctx, std::size_t first) {
  MapSpec* array = nullptr;
  for (std::size_t m = first; m < ctx.obj.maps.size(); ++m) {
    auto& map = ctx.obj.maps[m];
    if (map.type == BPF_MAP_TYPE_PROG_ARRAY && (!array || map.section_offset > array->section_offset)) array = &map;
  }
  if (!array) return;
  for (std::size_t p = 0; p < ctx.obj.programs.size(); ++p) {
    std::string_view sec = ctx.obj.programs[p].section;
    bool numbered = false;
    for (const std::string_view prefix : {"socket/", "sockops/", "kprobe/", "kretprobe/"})
      if (sec.starts_with(prefix)) sec.remove_prefix(prefix.size()), numbered = true;
    if (!numbered || sec.empty() || sec[0] < '0' || sec[0] > '9') continue;
    std::uint64_t key = 0;
    for (std::size_t i = 0; i < sec.size() && sec[i] >= '0' && sec[i] <= '9' && key < array->max_entries; ++i)
      key = key * 10 + static_cast<unsigned>(sec[i] - '0');
    if (key >= array->max_entries) continue;
    array->initial_slots.push_back({static_cast<std::uint32_t>(key), MapSlotInit::Target::Program, static_cast<std::uint32_t>(p)});
  }
}

}  // namespace

// The layouts of SEC("maps") definitions, told apart by their size (the section size divided by the
// number of map symbols, as every legacy loader computed it):
//   up to 20   libbpf's struct bpf_map_def: type, key_size, value_size, max_entries, map_flags (a
//              shorter definition is read as far as it goes, as libbpf did);
//   24, 28     samples/bpf's bpf_load.c: ... map_flags, inner_map_idx, numa_node;
//   36 and up  iproute2's struct bpf_elf_map: ... flags, id, pinning, inner_id, inner_idx (bytes past
//              36 must be 0). An iproute2 definition from before inner_id (28 bytes) reads as
//              bpf_load.c's, which only changes a map-in-map or a map with BPF_F_NUMA_NODE.
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
  if (sec.data.empty()) return malformed(describe_section(sec) + " has no data");
  const std::size_t def_sz = sec.size / syms.size();
  const bool elf_map = def_sz >= kBpfElfMapBytes;
  const std::size_t first = ctx.obj.maps.size();
  for (const auto* s : syms) {
    if (s->value > sec.size || def_sz > sec.size - s->value)
      return malformed(describe_section(sec) + ": map '" + std::string(s->name) + "' at offset " + std::to_string(s->value) + " runs past the section");
    auto def = sec.data.subspan(s->value, def_sz);
    const std::size_t known = elf_map ? kBpfElfMapBytes : std::min<std::size_t>(def_sz, kBpfLoadMapDefBytes);
    for (std::size_t b = known; b < def_sz; ++b)
      if (def[b] != 0)
        return make_error(Errc::Unsupported, describe_section(sec) + ": map '" + std::string(s->name) + "' has unrecognized, non-zero options past byte " + std::to_string(known));
    MapSpec m;
    m.name = std::string(s->name);
    m.kernel_name = m.name.substr(0, kObjNameLen - 1);
    m.origin = MapOrigin::LegacyMaps;
    m.type = read_u32(def, 0);
    m.key_size = read_u32(def, 4);
    m.value_size = read_u32(def, 8);
    m.max_entries = read_u32(def, 12);
    m.map_flags = read_u32(def, 16);
    if (elf_map) {
      m.legacy.layout = LegacyMapDef::Layout::BpfElfMap;
      m.legacy.id = read_u32(def, 20);
      m.pinning = read_u32(def, 24);  // PIN_NONE 0, PIN_OBJECT_NS 1, PIN_GLOBAL_NS 2, or custom: recorded only
      m.legacy.inner_id = read_u32(def, 28);
      m.legacy.inner_idx = read_u32(def, 32);
    } else if (def_sz > kBpfMapDefBytes) {
      m.legacy.layout = LegacyMapDef::Layout::BpfLoad;
      m.legacy.inner_map_idx = read_u32(def, 20);
      // bpf_load.c passed numa_node only with BPF_F_NUMA_NODE.
      if (m.map_flags & BPF_F_NUMA_NODE) m.numa_node = read_u32(def, 24);
    }
    if (m.type == BPF_MAP_TYPE_RINGBUF) m.max_entries = libbpf_ringbuf_size(m.max_entries);
    m.section_index = ctx.maps_shndx;
    m.section_offset = s->value;
    ctx.obj.maps.push_back(std::move(m));
  }
  if (auto r = link_legacy_inner_maps(ctx, sec, first); !r) return r;
  if (elf_map) place_legacy_tail_calls(ctx, first);
  else place_bpf_load_tail_calls(ctx, first);
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
  // .rel.maps or .rela.maps: each entry points a slot at a map or program symbol; like libbpf, the
  // addend (implicit or explicit) is not read.
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
