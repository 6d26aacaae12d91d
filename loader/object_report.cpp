// Text/JSON object summaries and the source-interleaved disassembly listing.
#include "loader/object_report.hpp"

#include <linux/bpf.h>

#include <cstdio>

#include "loader/section_names.hpp"

namespace bpfvm::loader {

namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) len = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) len = 3, lo = b0 == 0xe0 ? 0xa0 : 0x80, hi = b0 == 0xed ? 0x9f : 0xbf;
  else if (b0 >= 0xf0 && b0 <= 0xf4) len = 4, lo = b0 == 0xf0 ? 0x90 : 0x80, hi = b0 == 0xf4 ? 0x8f : 0xbf;
  else return 0;
  if (i + len > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  return len;
}

}  // namespace

// Section names and the license string are untrusted bytes: well-formed UTF-8 passes through, every
// other byte b >= 0x80 becomes the escape \u00XX (the code point with b's value), so the output is
// always valid JSON and the byte stays recognisable.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else if (u < 0x80) {
          out += c;
        } else if (const std::size_t len = utf8_sequence_length(s, i); len > 0) {
          out.append(s.substr(i, len));
          i += len - 1;
        } else {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        }
    }
  }
  return out + "\"";
}

namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string_view map_type_name(std::uint32_t t) {
  static constexpr std::string_view kNames[] = {
      "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array",
      "stack_trace", "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps",
      "hash_of_maps", "devmap", "sockmap", "cpumap", "xskmap", "sockhash", "cgroup_storage",
      "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack", "sk_storage", "devmap_hash",
      "struct_ops", "ringbuf", "inode_storage", "task_storage", "bloom_filter", "user_ringbuf", "cgrp_storage"};
  return t < std::size(kNames) ? kNames[t] : "unknown";
}

}  // namespace

BtfSummary summarize_btf(const Object& obj) {
  BtfSummary s;
  if (obj.btf) {
    s.types = obj.btf->type_count() - 1;
    for (std::uint32_t id = 1; id < obj.btf->type_count(); ++id) ++s.per_kind[static_cast<std::size_t>(obj.btf->kind(id))];
    s.string_bytes = obj.btf->string_bytes();
  }
  for (const auto& p : obj.programs) {
    s.func_info += p.func_info.size();
    s.line_info += p.line_info.size();
  }
  return s;
}

std::string object_report_text(const Object& obj) {
  std::string out = "license: " + obj.license + "\n";
  if (obj.kern_version) out += "version: " + hex(obj.kern_version) + "\n";
  out += "programs: " + std::to_string(obj.programs.size()) + "\n";
  for (const auto& p : obj.programs) {
    out += "  " + p.name + "  section " + p.section + "  type " + std::string(prog_type_name(p.prog_type)) + "  insns " +
           std::to_string(p.program.size());
    if (!p.autoload) out += "  (no autoload)";
    if (!p.attach_target.empty()) out += "  attach " + p.attach_target;
    if (p.whole_section) out += "  (whole section: no function symbol)";
    if (p.legacy_section_name) out += "  (type by pre-1.0 section prefix)";
    out += "\n";
    for (const auto& r : p.relocations)
      out += "    reloc insn " + std::to_string(r.insn) + ": " + std::string(reloc_kind_name(r.kind)) + " " + r.target + " = " +
             std::to_string(r.value) + "\n";
  }
  out += "maps: " + std::to_string(obj.maps.size()) + "\n";
  for (std::size_t i = 0; i < obj.maps.size(); ++i) {
    const auto& m = obj.maps[i];
    out += "  [" + std::to_string(i) + "] " + m.name + "  type " + std::string(map_type_name(m.type)) + "  key " +
           std::to_string(m.key_size) + "  value " + std::to_string(m.value_size) + "  max_entries " +
           std::to_string(m.max_entries) + "  flags " + hex(m.map_flags) + "  (" + std::string(map_origin_name(m.origin)) + ")";
    if (m.frozen) out += " frozen";
    if (m.pinning) out += " pinning " + std::to_string(m.pinning);
    if (m.legacy.layout == LegacyMapDef::Layout::BpfElfMap)
      out += " bpf_elf_map id " + std::to_string(m.legacy.id) + " inner_id " + std::to_string(m.legacy.inner_id) + " inner_idx " +
             std::to_string(m.legacy.inner_idx);
    if (m.inner) out += " inner=" + std::string(map_type_name(m.inner->type));
    else if (m.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || m.type == BPF_MAP_TYPE_HASH_OF_MAPS) out += " inner=none (the host names a template)";
    for (const auto& s : m.initial_slots)
      out += " [" + std::to_string(s.slot) + "]=" +
             (s.target == MapSlotInit::Target::Map ? obj.maps[s.index].name : obj.programs[s.index].name);
    out += "\n";
  }
  const auto b = summarize_btf(obj);
  if (obj.btf) {
    out += "btf: " + std::to_string(b.types) + " types, " + std::to_string(b.string_bytes) + " string bytes, " +
           std::to_string(b.func_info) + " func_info, " + std::to_string(b.line_info) + " line_info\n";
    for (std::size_t k = 1; k < b.per_kind.size(); ++k)
      if (b.per_kind[k]) out += "  " + std::string(btf_kind_name(static_cast<BtfKind>(k))) + " " + std::to_string(b.per_kind[k]) + "\n";
  } else {
    out += "btf: none\n";
  }
  return out;
}

std::string object_report_json(const Object& obj) {
  std::string out = "{\"license\":" + json_string(obj.license) + ",\"version\":" + std::to_string(obj.kern_version) + ",\"programs\":[";
  for (std::size_t i = 0; i < obj.programs.size(); ++i) {
    const auto& p = obj.programs[i];
    if (i) out += ",";
    out += "{\"name\":" + json_string(p.name) + ",\"section\":" + json_string(p.section) + ",\"type\":" +
           json_string(prog_type_name(p.prog_type)) + ",\"prog_type\":" + std::to_string(p.prog_type) +
           ",\"expected_attach_type\":" + std::to_string(p.expected_attach_type) + ",\"attach_target\":" +
           json_string(p.attach_target) + ",\"autoload\":" + (p.autoload ? "true" : "false") +
           ",\"whole_section\":" + (p.whole_section ? "true" : "false") +
           ",\"legacy_section_name\":" + (p.legacy_section_name ? "true" : "false") +
           ",\"insns\":" + std::to_string(p.program.size()) + ",\"func_info\":" + std::to_string(p.func_info.size()) +
           ",\"line_info\":" + std::to_string(p.line_info.size()) + ",\"relocations\":[";
    for (std::size_t j = 0; j < p.relocations.size(); ++j) {
      const auto& r = p.relocations[j];
      if (j) out += ",";
      out += "{\"insn\":" + std::to_string(r.insn) + ",\"kind\":" + json_string(reloc_kind_name(r.kind)) + ",\"target\":" +
             json_string(r.target) + ",\"value\":" + std::to_string(r.value) + "}";
    }
    out += "]}";
  }
  out += "],\"maps\":[";
  for (std::size_t i = 0; i < obj.maps.size(); ++i) {
    const auto& m = obj.maps[i];
    if (i) out += ",";
    out += "{\"name\":" + json_string(m.name) + ",\"kernel_name\":" + json_string(m.kernel_name) + ",\"type\":" +
           json_string(map_type_name(m.type)) + ",\"map_type\":" + std::to_string(m.type) + ",\"key_size\":" +
           std::to_string(m.key_size) + ",\"value_size\":" + std::to_string(m.value_size) + ",\"max_entries\":" +
           std::to_string(m.max_entries) + ",\"flags\":" + std::to_string(m.map_flags) + ",\"origin\":" +
           json_string(map_origin_name(m.origin)) + ",\"frozen\":" + (m.frozen ? "true" : "false") +
           ",\"pinning\":" + std::to_string(m.pinning);
    if (m.legacy.layout == LegacyMapDef::Layout::BpfElfMap)
      out += ",\"bpf_elf_map\":{\"id\":" + std::to_string(m.legacy.id) + ",\"inner_id\":" + std::to_string(m.legacy.inner_id) +
             ",\"inner_idx\":" + std::to_string(m.legacy.inner_idx) + "}";
    out += "}";
  }
  const auto b = summarize_btf(obj);
  out += "],\"btf\":{\"present\":" + std::string(obj.btf ? "true" : "false") + ",\"types\":" + std::to_string(b.types) +
         ",\"string_bytes\":" + std::to_string(b.string_bytes) + ",\"func_info\":" + std::to_string(b.func_info) +
         ",\"line_info\":" + std::to_string(b.line_info) + ",\"kinds\":{";
  bool first = true;
  for (std::size_t k = 1; k < b.per_kind.size(); ++k) {
    if (!b.per_kind[k]) continue;
    out += std::string(first ? "" : ",") + json_string(btf_kind_name(static_cast<BtfKind>(k))) + ":" + std::to_string(b.per_kind[k]);
    first = false;
  }
  return out + "}}}";
}

std::string disassemble_with_source(const ProgramSpec& prog, const InsnTextFn& insn_text) {
  std::string out;
  std::size_t li = 0;
  const LineInfo* last = nullptr;
  const auto& p = prog.program;
  for (std::size_t pc = 0; pc < p.size(); ++pc) {
    if (p.ops[pc] == isa::kNoOp) continue;  // second slot of lddw
    while (li < prog.line_info.size() && prog.line_info[li].insn <= pc) {
      const auto& l = prog.line_info[li++];
      if (l.insn != pc) continue;
      if (last && last->line == l.line && last->file == l.file) continue;
      out += "; " + std::string(l.source) + " [" + std::string(l.file) + ":" + std::to_string(l.line) + ":" +
             std::to_string(l.column) + "]\n";
      last = &l;
    }
    out += std::to_string(pc) + ": " + insn_text(p, pc) + "\n";
  }
  return out;
}

}  // namespace bpfvm::loader
