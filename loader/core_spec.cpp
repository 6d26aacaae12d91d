// CO-RE access-spec parsing and matching, and the type-compatibility relations libbpf applies.
#include "loader/core_spec.hpp"

#include <charconv>
#include <string>

namespace bpfvm::loader {

namespace {

Error malformed(std::string reason) { return make_error(Errc::Malformed, "CO-RE: " + std::move(reason)); }

bool kinds_compat(const Btf& a, std::uint32_t ida, const Btf& b, std::uint32_t idb) {
  return a.kind(ida) == b.kind(idb) || (a.is_any_enum(ida) && b.is_any_enum(idb));
}

bool flavor_sep_at(std::string_view s, std::size_t i) {
  return i + 4 < s.size() && s[i] != '_' && s[i + 1] == '_' && s[i + 2] == '_' && s[i + 3] == '_' && s[i + 4] != '_';
}

bool essential_names_equal(std::string_view a, std::string_view b) {
  const auto la = core_essential_name_len(a), lb = core_essential_name_len(b);
  return la == lb && a.substr(0, la) == b.substr(0, lb);
}

// Flexible array: the last member of its struct, declared with 0 elements.
bool is_flex_arr(const Btf& btf, const CoreAccessor* prev, std::uint32_t array_id) {
  if (!prev || prev->name.empty()) return false;
  if (btf.array(array_id).nelems != 0) return false;
  const auto parent = btf.skip_mods_and_typedefs(prev->type_id);
  return btf.is_composite(parent) && prev->idx + 1u == btf.vlen(parent);
}

bool fields_are_compat(const Btf& local, std::uint32_t lid, const Btf& targ, std::uint32_t tid) {
  for (int depth = 0; depth < 32; ++depth) {
    lid = local.skip_mods_and_typedefs(lid);
    tid = targ.skip_mods_and_typedefs(tid);
    if (local.is_composite(lid) && targ.is_composite(tid)) return true;
    if (!kinds_compat(local, lid, targ, tid)) return false;
    switch (local.kind(lid)) {
      case BtfKind::Ptr: case BtfKind::Float: return true;
      case BtfKind::Fwd: case BtfKind::Enum: case BtfKind::Enum64: {
        const auto ln = local.name(lid), tn = targ.name(tid);
        return ln.empty() || tn.empty() || essential_names_equal(ln, tn);
      }
      case BtfKind::Int: return local.int_offset(lid) == 0 && targ.int_offset(tid) == 0;
      case BtfKind::Array:
        lid = local.array(lid).type;
        tid = targ.array(tid).type;
        continue;
      default: return false;
    }
  }
  return false;
}

// bpf_core_match_member: find the local accessor's member name in target composite targ_id, descending
// into anonymous members. Appends to `spec`; returns 1/0.
Result<bool> match_member(const Btf& local, const CoreAccessor& acc, const Btf& targ, std::uint32_t targ_id,
                          CoreSpec& spec, std::uint32_t& next_targ_id, int depth) {
  if (depth > 32) return malformed("anonymous members nested too deeply");
  const auto lm = local.member(acc.type_id, acc.idx);
  targ_id = targ.skip_mods_and_typedefs(targ_id);
  if (!targ.is_composite(targ_id)) return false;
  const std::uint32_t n = targ.vlen(targ_id);
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto m = targ.member(targ_id, i);
    if (spec.raw.size() >= CoreSpec::kMaxLen) return make_error(Errc::Unsupported, "CO-RE: access path longer than 64");
    spec.bit_offset += m.bit_offset;
    spec.raw.push_back(i);
    const auto tname = targ.string_at(m.name_off);
    if (tname.empty()) {
      auto found = match_member(local, acc, targ, m.type, spec, next_targ_id, depth + 1);
      if (!found || *found) return found;
    } else if (tname == acc.name) {
      spec.spec.push_back({targ_id, i, tname});
      next_targ_id = m.type;
      if (fields_are_compat(local, lm.type, targ, m.type)) return true;
      spec.spec.pop_back();
      return false;
    }
    spec.bit_offset -= m.bit_offset;
    spec.raw.pop_back();
  }
  return false;
}

bool enums_match(const Btf& local, std::uint32_t lid, const Btf& targ, std::uint32_t tid) {
  if (local.size_or_type(lid) != targ.size_or_type(tid)) return false;
  for (std::uint32_t i = 0; i < local.vlen(lid); ++i) {
    const auto ln = local.string_at(local.enumerator(lid, i).name_off);
    bool found = false;
    for (std::uint32_t j = 0; j < targ.vlen(tid) && !found; ++j) found = essential_names_equal(ln, targ.string_at(targ.enumerator(tid, j).name_off));
    if (!found) return false;
  }
  return true;
}

bool types_match(const Btf& local, std::uint32_t lid, const Btf& targ, std::uint32_t tid, bool behind_ptr, int level);

bool composites_match(const Btf& local, std::uint32_t lid, const Btf& targ, std::uint32_t tid, bool behind_ptr, int level) {
  if (local.vlen(lid) > targ.vlen(tid)) return false;
  for (std::uint32_t i = 0; i < local.vlen(lid); ++i) {
    const auto lm = local.member(lid, i);
    bool matched = false;
    for (std::uint32_t j = 0; j < targ.vlen(tid) && !matched; ++j) {
      const auto tm = targ.member(tid, j);
      const auto ln = local.string_at(lm.name_off);
      if (!ln.empty() && !essential_names_equal(ln, targ.string_at(tm.name_off))) continue;
      matched = types_match(local, lm.type, targ, tm.type, behind_ptr, level - 1);
    }
    if (!matched) return false;
  }
  return true;
}

bool types_match(const Btf& local, std::uint32_t lid, const Btf& targ, std::uint32_t tid, bool behind_ptr, int level) {
  for (; level > 0; --level) {
    lid = local.skip_mods_and_typedefs(lid);
    tid = targ.skip_mods_and_typedefs(tid);
    const auto ln = local.name(lid);
    if (!ln.empty() && !essential_names_equal(ln, targ.name(tid))) return false;
    const auto lk = local.kind(lid), tk = targ.kind(tid);
    switch (lk) {
      case BtfKind::Unkn: return lk == tk;
      case BtfKind::Fwd: {
        const bool lf = local.kflag(lid);
        if (lk == tk) return lf == targ.kflag(tid);
        return behind_ptr && ((tk == BtfKind::Struct && !lf) || (tk == BtfKind::Union && lf));
      }
      case BtfKind::Enum: case BtfKind::Enum64:
        return targ.is_any_enum(tid) && enums_match(local, lid, targ, tid);
      case BtfKind::Struct: case BtfKind::Union:
        if (behind_ptr) return lk == tk || (tk == BtfKind::Fwd && (lk == BtfKind::Union) == targ.kflag(tid));
        return lk == tk && composites_match(local, lid, targ, tid, behind_ptr, level);
      case BtfKind::Int:
        return lk == tk && local.size_or_type(lid) == targ.size_or_type(tid) &&
               (local.int_encoding(lid) & 1) == (targ.int_encoding(tid) & 1);
      case BtfKind::Ptr:
        if (lk != tk) return false;
        behind_ptr = true;
        lid = local.size_or_type(lid);
        tid = targ.size_or_type(tid);
        continue;
      case BtfKind::Array:
        if (lk != tk || local.array(lid).nelems != targ.array(tid).nelems) return false;
        lid = local.array(lid).type;
        tid = targ.array(tid).type;
        continue;
      case BtfKind::FuncProto:
        if (lk != tk || local.vlen(lid) != targ.vlen(tid)) return false;
        for (std::uint32_t i = 0; i < local.vlen(lid); ++i)
          if (!types_match(local, local.param(lid, i).type, targ, targ.param(tid, i).type, behind_ptr, level - 1)) return false;
        lid = local.size_or_type(lid);
        tid = targ.size_or_type(tid);
        continue;
      default: return false;
    }
  }
  return false;
}

}  // namespace

std::string_view core_kind_name(CoreKind kind) {
  switch (kind) {
    case CoreKind::FieldByteOffset: return "byte_off";
    case CoreKind::FieldByteSize: return "byte_sz";
    case CoreKind::FieldExists: return "field_exists";
    case CoreKind::FieldSigned: return "signed";
    case CoreKind::FieldLshiftU64: return "lshift_u64";
    case CoreKind::FieldRshiftU64: return "rshift_u64";
    case CoreKind::TypeIdLocal: return "local_type_id";
    case CoreKind::TypeIdTarget: return "target_type_id";
    case CoreKind::TypeExists: return "type_exists";
    case CoreKind::TypeSize: return "type_size";
    case CoreKind::EnumvalExists: return "enumval_exists";
    case CoreKind::EnumvalValue: return "enumval_value";
    case CoreKind::TypeMatches: return "type_matches";
  }
  return "unknown";
}

std::size_t core_essential_name_len(std::string_view name) {
  if (name.size() < 5) return name.size();
  for (std::size_t i = name.size() - 5 + 1; i-- > 0;)
    if (flavor_sep_at(name, i)) return i + 1;
  return name.size();
}

Result<CoreSpec> core_parse_spec(const Btf& btf, std::uint32_t type_id, std::string_view access, CoreKind kind) {
  if (access.empty() || access.front() == ':') return malformed("bad access string '" + std::string(access) + "'");
  CoreSpec spec;
  spec.btf = &btf;
  spec.root_type_id = type_id;
  spec.kind = kind;
  if (core_is_type(kind)) {
    if (access != "0") return malformed("type relocation with access string '" + std::string(access) + "'");
    return spec;
  }
  const char* p = access.data();
  const char* end = access.data() + access.size();
  while (p < end) {
    if (*p == ':') ++p;
    std::uint32_t v = 0;
    const auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc{} || next == p) return malformed("bad access string '" + std::string(access) + "'");
    if (spec.raw.size() >= CoreSpec::kMaxLen) return make_error(Errc::Unsupported, "CO-RE: access path longer than 64");
    spec.raw.push_back(v);
    p = next;
  }
  std::uint32_t id = btf.skip_mods_and_typedefs(type_id);
  if (id == 0 && type_id != 0) return malformed("access root type [" + std::to_string(type_id) + "] is void");
  spec.spec.push_back({id, spec.raw[0], {}});
  if (core_is_enumval(kind)) {
    if (!btf.is_any_enum(id) || spec.raw.size() > 1 || spec.raw[0] >= btf.vlen(id))
      return malformed("enum value relocation on type [" + std::to_string(type_id) + "] with access '" + std::string(access) + "'");
    spec.spec[0].name = btf.string_at(btf.enumerator(id, spec.raw[0]).name_off);
    return spec;
  }
  if (!core_is_field(kind)) return make_error(Errc::Unsupported, "CO-RE: unknown relocation kind " + std::to_string(std::uint32_t(kind)));
  const auto root_sz = btf.resolve_size(id);
  if (!root_sz) return malformed("can't size access root type [" + std::to_string(type_id) + "]");
  spec.bit_offset = std::uint64_t(spec.raw[0]) * *root_sz * 8;
  for (std::size_t i = 1; i < spec.raw.size(); ++i) {
    const auto t = btf.skip_mods_and_typedefs(id);
    const auto idx = spec.raw[i];
    if (btf.is_composite(t)) {
      if (idx >= btf.vlen(t)) return malformed("member index " + std::to_string(idx) + " out of range in type [" + std::to_string(t) + "]");
      const auto m = btf.member(t, idx);
      spec.bit_offset += m.bit_offset;
      if (m.name_off) {
        const auto name = btf.string_at(m.name_off);
        if (name.empty()) return malformed("member with empty name in type [" + std::to_string(t) + "]");
        spec.spec.push_back({t, idx, name});
      }
      id = m.type;
    } else if (btf.kind(t) == BtfKind::Array) {
      const auto elem = btf.skip_mods_and_typedefs(btf.array(t).type);
      const bool flex = is_flex_arr(btf, spec.spec.empty() ? nullptr : &spec.spec.back(), t);
      if (!flex && idx >= btf.array(t).nelems) return malformed("array index " + std::to_string(idx) + " out of range in type [" + std::to_string(t) + "]");
      spec.spec.push_back({elem, idx, {}});
      const auto sz = btf.resolve_size(elem);
      if (!sz) return malformed("can't size array element type [" + std::to_string(elem) + "]");
      spec.bit_offset += std::uint64_t(idx) * *sz * 8;
      id = elem;
    } else {
      return malformed("access '" + std::string(access) + "' steps into type [" + std::to_string(t) + "] of kind " +
                       std::string(btf_kind_name(btf.kind(t))));
    }
  }
  return spec;
}

Result<bool> core_spec_match(const CoreSpec& local, const Btf& targ, std::uint32_t targ_id, CoreSpec& out) {
  out = CoreSpec{};
  out.btf = &targ;
  out.root_type_id = targ_id;
  out.kind = local.kind;
  if (core_is_type(local.kind)) {
    if (local.kind == CoreKind::TypeMatches) return core_types_match(*local.btf, local.root_type_id, targ, targ_id);
    return core_types_are_compat(*local.btf, local.root_type_id, targ, targ_id);
  }
  const auto& lacc0 = local.spec[0];
  if (core_is_enumval(local.kind)) {
    targ_id = targ.skip_mods_and_typedefs(targ_id);
    if (!targ.is_any_enum(targ_id)) return false;
    for (std::uint32_t i = 0; i < targ.vlen(targ_id); ++i) {
      const auto tname = targ.string_at(targ.enumerator(targ_id, i).name_off);
      if (essential_names_equal(lacc0.name, tname)) {
        out.spec.push_back({targ_id, i, tname});
        out.raw.push_back(i);
        return true;
      }
    }
    return false;
  }
  for (std::size_t i = 0; i < local.spec.size(); ++i) {
    const auto& lacc = local.spec[i];
    if (!lacc.name.empty()) {
      auto m = match_member(*local.btf, lacc, targ, targ_id, out, targ_id, 0);
      if (!m || !*m) return m;
      continue;
    }
    if (i > 0) {
      const auto t = targ.skip_mods_and_typedefs(targ_id);
      if (targ.kind(t) != BtfKind::Array) return false;
      const bool flex = is_flex_arr(targ, out.spec.empty() ? nullptr : &out.spec.back(), t);
      if (!flex && lacc.idx >= targ.array(t).nelems) return false;
      targ_id = targ.skip_mods_and_typedefs(targ.array(t).type);
    } else {
      targ_id = targ.skip_mods_and_typedefs(targ_id);
    }
    if (out.raw.size() >= CoreSpec::kMaxLen) return make_error(Errc::Unsupported, "CO-RE: access path longer than 64");
    out.spec.push_back({targ_id, lacc.idx, {}});
    out.raw.push_back(lacc.idx);
    const auto sz = targ.resolve_size(targ_id);
    if (!sz) return false;
    out.bit_offset += std::uint64_t(lacc.idx) * *sz * 8;
  }
  return true;
}

bool core_types_are_compat(const Btf& local, std::uint32_t lid, const Btf& targ, std::uint32_t tid, int level) {
  for (int depth = 0; depth < 32 && level > 0; ++depth) {
    lid = local.skip_mods_and_typedefs(lid);
    tid = targ.skip_mods_and_typedefs(tid);
    if (!kinds_compat(local, lid, targ, tid)) return false;
    switch (local.kind(lid)) {
      case BtfKind::Unkn: case BtfKind::Struct: case BtfKind::Union: case BtfKind::Enum: case BtfKind::Fwd:
      case BtfKind::Enum64: case BtfKind::Float:
        return true;
      case BtfKind::Int: return local.int_offset(lid) == 0 && targ.int_offset(tid) == 0;
      case BtfKind::Ptr:
        lid = local.size_or_type(lid);
        tid = targ.size_or_type(tid);
        continue;
      case BtfKind::Array:
        lid = local.array(lid).type;
        tid = targ.array(tid).type;
        continue;
      case BtfKind::FuncProto:
        if (local.vlen(lid) != targ.vlen(tid)) return false;
        for (std::uint32_t i = 0; i < local.vlen(lid); ++i)
          if (!core_types_are_compat(local, local.param(lid, i).type, targ, targ.param(tid, i).type, level - 1)) return false;
        lid = local.size_or_type(lid);
        tid = targ.size_or_type(tid);
        continue;
      default: return false;
    }
  }
  return false;
}

bool core_types_match(const Btf& local, std::uint32_t lid, const Btf& targ, std::uint32_t tid, int level) {
  return types_match(local, lid, targ, tid, false, level);
}

}  // namespace bpfvm::loader
