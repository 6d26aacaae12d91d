// Btf: header and type-section parsing, reference validation, and type queries.
#include "loader/btf.hpp"

#include <cstring>

#include "loader/byte_reader.hpp"

namespace bpfvm::loader {

namespace {

constexpr std::uint16_t kBtfMagic = 0xeB9F;
constexpr std::size_t kTypeBytes = 12;

Error malformed(std::string reason) { return make_error(Errc::Malformed, "BTF: " + std::move(reason)); }

// Bytes that follow a btf_type of this kind.
std::size_t extra_bytes(BtfKind k, std::uint32_t vlen) {
  switch (k) {
    case BtfKind::Int: return 4;
    case BtfKind::Array: return 12;
    case BtfKind::Struct: case BtfKind::Union: return std::size_t(vlen) * 12;
    case BtfKind::Enum: return std::size_t(vlen) * 8;
    case BtfKind::FuncProto: return std::size_t(vlen) * 8;
    case BtfKind::Var: return 4;
    case BtfKind::Datasec: return std::size_t(vlen) * 12;
    case BtfKind::DeclTag: return 4;
    case BtfKind::Enum64: return std::size_t(vlen) * 12;
    case BtfKind::Unkn: case BtfKind::Ptr: case BtfKind::Fwd: case BtfKind::Typedef: case BtfKind::Volatile:
    case BtfKind::Const: case BtfKind::Restrict: case BtfKind::Func: case BtfKind::Float: case BtfKind::TypeTag:
      return 0;
  }
  return 0;
}

std::string at_type(std::uint32_t id) { return "type [" + std::to_string(id) + "]: "; }

}  // namespace

std::string_view btf_kind_name(BtfKind kind) {
  switch (kind) {
    case BtfKind::Unkn: return "UNKNOWN";
    case BtfKind::Int: return "INT";
    case BtfKind::Ptr: return "PTR";
    case BtfKind::Array: return "ARRAY";
    case BtfKind::Struct: return "STRUCT";
    case BtfKind::Union: return "UNION";
    case BtfKind::Enum: return "ENUM";
    case BtfKind::Fwd: return "FWD";
    case BtfKind::Typedef: return "TYPEDEF";
    case BtfKind::Volatile: return "VOLATILE";
    case BtfKind::Const: return "CONST";
    case BtfKind::Restrict: return "RESTRICT";
    case BtfKind::Func: return "FUNC";
    case BtfKind::FuncProto: return "FUNC_PROTO";
    case BtfKind::Var: return "VAR";
    case BtfKind::Datasec: return "DATASEC";
    case BtfKind::Float: return "FLOAT";
    case BtfKind::DeclTag: return "DECL_TAG";
    case BtfKind::TypeTag: return "TYPE_TAG";
    case BtfKind::Enum64: return "ENUM64";
  }
  return "UNKNOWN";
}

Result<Btf> Btf::parse(std::span<const std::uint8_t> bytes) {
  ByteReader r(bytes);
  if (bytes.size() < 24) return malformed("blob of " + std::to_string(bytes.size()) + " bytes is shorter than its header");
  if (r.u16(0) != kBtfMagic) return malformed("bad magic (big-endian or not BTF)");
  if (r.u8(2) != 1) return malformed("unsupported version " + std::to_string(r.u8(2)));
  if (r.u8(3) != 0) return malformed("unsupported flags " + std::to_string(r.u8(3)));
  const std::uint32_t hdr_len = r.u32(4);
  const std::uint64_t type_off = r.u32(8), type_len = r.u32(12), str_off = r.u32(16), str_len = r.u32(20);
  if (hdr_len < 24 || hdr_len > bytes.size()) return malformed("header length " + std::to_string(hdr_len) + " is invalid");
  const std::uint64_t body = bytes.size() - hdr_len;
  if (type_off % 4) return malformed("type section offset " + std::to_string(type_off) + " is not 4-byte aligned");
  if (type_off > body || type_len > body - type_off)
    return malformed("type section [" + std::to_string(type_off) + ", +" + std::to_string(type_len) + ") is outside the blob");
  if (str_off > body || str_len > body - str_off)
    return malformed("string section [" + std::to_string(str_off) + ", +" + std::to_string(str_len) + ") is outside the blob");
  if (type_off < str_off + str_len && str_off < type_off + type_len) return malformed("type and string sections overlap");
  if (str_len == 0 || bytes[hdr_len + str_off] != 0) return malformed("string section does not start with an empty string");
  if (bytes[hdr_len + str_off + str_len - 1] != 0) return malformed("string section is not NUL-terminated");
  if (str_len > 0xffffff) return malformed("string section of " + std::to_string(str_len) + " bytes is too large");

  Btf btf;
  btf.bytes_.assign(bytes.begin(), bytes.end());
  btf.str_begin_ = hdr_len + str_off;
  btf.str_len_ = str_len;
  btf.offsets_.push_back(0);  // void
  std::uint64_t pos = hdr_len + type_off;
  const std::uint64_t end = pos + type_len;
  while (pos < end) {
    if (end - pos < kTypeBytes) return malformed("type [" + std::to_string(btf.offsets_.size()) + "] at offset " + std::to_string(pos - hdr_len - type_off) + " is truncated");
    if (btf.offsets_.size() > kMaxTypes) return malformed("more than " + std::to_string(kMaxTypes) + " types");
    const std::uint32_t info = r.u32(pos + 4);
    const std::uint32_t kind = (info >> 24) & 0x1f;
    if (kind == 0 || kind > kBtfKindMax)
      return malformed(at_type(static_cast<std::uint32_t>(btf.offsets_.size())) + "unknown kind " + std::to_string(kind));
    const std::size_t extra = extra_bytes(static_cast<BtfKind>(kind), info & 0xffff);
    if (end - pos - kTypeBytes < extra)
      return malformed(at_type(static_cast<std::uint32_t>(btf.offsets_.size())) + "kind " +
                       std::string(btf_kind_name(static_cast<BtfKind>(kind))) + " with " + std::to_string(info & 0xffff) +
                       " entries runs past the type section");
    btf.offsets_.push_back(static_cast<std::uint32_t>(pos));
    pos += kTypeBytes + extra;
  }
  if (auto v = btf.validate(); !v) return std::move(v).error();
  return btf;
}

std::uint32_t Btf::u32(std::uint32_t id, std::size_t at) const {
  if (id == 0 || id >= offsets_.size()) return 0;
  std::uint32_t v;
  std::memcpy(&v, bytes_.data() + offsets_[id] + at, 4);
  return v;
}

BtfKind Btf::kind(std::uint32_t id) const { return static_cast<BtfKind>((u32(id, 4) >> 24) & 0x1f); }

std::string_view Btf::string_at(std::uint32_t off) const {
  if (off >= str_len_) return {};
  return std::string_view(reinterpret_cast<const char*>(bytes_.data() + str_begin_ + off));
}

BtfArray Btf::array(std::uint32_t id) const {
  if (kind(id) != BtfKind::Array) return {};
  return {extra_u32(id, 0), extra_u32(id, 4), extra_u32(id, 8)};
}

BtfMember Btf::member(std::uint32_t id, std::uint32_t i) const {
  if (!is_composite(id) || i >= vlen(id)) return {};
  BtfMember m{extra_u32(id, i * 12), extra_u32(id, i * 12 + 4), extra_u32(id, i * 12 + 8), 0};
  if (kflag(id)) {
    m.bitfield_size = m.bit_offset >> 24;
    m.bit_offset &= 0xffffff;
  }
  return m;
}

BtfEnumerator Btf::enumerator(std::uint32_t id, std::uint32_t i) const {
  if (i >= vlen(id)) return {};
  if (kind(id) == BtfKind::Enum) {
    const auto raw = extra_u32(id, i * 8 + 4);
    // kflag marks a signed enum; otherwise values are unsigned 32-bit.
    const std::int64_t v = kflag(id) ? std::int64_t(std::int32_t(raw)) : std::int64_t(raw);
    return {extra_u32(id, i * 8), v};
  }
  if (kind(id) == BtfKind::Enum64) {
    const std::uint64_t v = std::uint64_t(extra_u32(id, i * 12 + 4)) | (std::uint64_t(extra_u32(id, i * 12 + 8)) << 32);
    return {extra_u32(id, i * 12), static_cast<std::int64_t>(v)};
  }
  return {};
}

BtfParam Btf::param(std::uint32_t id, std::uint32_t i) const {
  if (kind(id) != BtfKind::FuncProto || i >= vlen(id)) return {};
  return {extra_u32(id, i * 8), extra_u32(id, i * 8 + 4)};
}

BtfVarSecinfo Btf::secinfo(std::uint32_t id, std::uint32_t i) const {
  if (kind(id) != BtfKind::Datasec || i >= vlen(id)) return {};
  return {extra_u32(id, i * 12), extra_u32(id, i * 12 + 4), extra_u32(id, i * 12 + 8)};
}

bool Btf::is_mod_or_typedef(std::uint32_t id) const {
  switch (kind(id)) {
    case BtfKind::Typedef: case BtfKind::Volatile: case BtfKind::Const: case BtfKind::Restrict: case BtfKind::TypeTag:
      return true;
    default: return false;
  }
}

std::uint32_t Btf::skip_mods_and_typedefs(std::uint32_t id) const {
  // validate() proved every chain acyclic and at most kMaxChainDepth long; the bound is a second guard.
  for (int depth = 0; depth <= kMaxChainDepth && is_mod_or_typedef(id); ++depth) id = size_or_type(id);
  return id;
}

std::optional<std::uint64_t> Btf::resolve_size(std::uint32_t id) const {
  std::uint64_t nelems = 1;
  for (int depth = 0; depth <= kMaxChainDepth; ++depth) {
    switch (kind(id)) {
      case BtfKind::Int: case BtfKind::Struct: case BtfKind::Union: case BtfKind::Enum: case BtfKind::Datasec:
      case BtfKind::Float: case BtfKind::Enum64: {
        const std::uint64_t total = nelems * size_or_type(id);
        if (total > 0xffffffffu) return std::nullopt;  // the kernel caps sizes at u32
        return total;
      }
      case BtfKind::Ptr: {
        const std::uint64_t total = nelems * 8;
        if (total > 0xffffffffu) return std::nullopt;
        return total;
      }
      case BtfKind::Typedef: case BtfKind::Volatile: case BtfKind::Const: case BtfKind::Restrict:
      case BtfKind::TypeTag: case BtfKind::Var: case BtfKind::DeclTag:
        id = size_or_type(id);
        break;
      case BtfKind::Array: {
        const auto a = array(id);
        nelems *= a.nelems;
        if (nelems > 0xffffffffu) return std::nullopt;
        id = a.type;
        break;
      }
      case BtfKind::Unkn: case BtfKind::Fwd: case BtfKind::Func: case BtfKind::FuncProto:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> Btf::find(BtfKind k, std::string_view name) const {
  for (std::uint32_t id = 1; id < type_count(); ++id)
    if (kind(id) == k && this->name(id) == name) return id;
  return std::nullopt;
}

Result<void> Btf::validate() {
  const auto n = type_count();
  auto check_str = [&](std::uint32_t id, std::uint32_t off, const char* what) -> Result<void> {
    if (off >= str_len_) return malformed(at_type(id) + what + " name offset " + std::to_string(off) + " is outside the string section");
    return {};
  };
  auto check_ref = [&](std::uint32_t id, std::uint32_t ref, const char* what, bool void_ok) -> Result<void> {
    if (ref >= n) return malformed(at_type(id) + what + " refers to type [" + std::to_string(ref) + "] of " + std::to_string(n));
    if (!void_ok && ref == 0) return malformed(at_type(id) + what + " refers to void");
    return {};
  };
#define BPFVM_TRY(expr) do { if (auto r_ = (expr); !r_) return std::move(r_).error(); } while (0)
  for (std::uint32_t id = 1; id < n; ++id) {
    const auto k = kind(id);
    const auto vl = vlen(id);
    BPFVM_TRY(check_str(id, name_off(id), "type"));
    switch (k) {
      case BtfKind::Int:
        if (int_bits(id) > 128 || int_offset(id) + int_bits(id) > 128 || size_or_type(id) > 16)
          return malformed(at_type(id) + "INT has invalid size or bits");
        break;
      case BtfKind::Ptr: case BtfKind::Typedef: case BtfKind::Volatile: case BtfKind::Const:
      case BtfKind::Restrict: case BtfKind::TypeTag:
        BPFVM_TRY(check_ref(id, size_or_type(id), "reference", true));
        break;
      case BtfKind::Func:
        BPFVM_TRY(check_ref(id, size_or_type(id), "FUNC prototype", false));
        if (kind(size_or_type(id)) != BtfKind::FuncProto) return malformed(at_type(id) + "FUNC does not refer to a FUNC_PROTO");
        break;
      case BtfKind::Var:
        BPFVM_TRY(check_ref(id, size_or_type(id), "VAR type", false));
        break;
      case BtfKind::DeclTag:
        BPFVM_TRY(check_ref(id, size_or_type(id), "DECL_TAG target", false));
        break;
      case BtfKind::Array: {
        const auto a = array(id);
        BPFVM_TRY(check_ref(id, a.type, "ARRAY element", false));
        BPFVM_TRY(check_ref(id, a.index_type, "ARRAY index", true));
        break;
      }
      case BtfKind::Struct: case BtfKind::Union:
        for (std::uint32_t i = 0; i < vl; ++i) {
          const auto m = member(id, i);
          BPFVM_TRY(check_str(id, m.name_off, "member"));
          BPFVM_TRY(check_ref(id, m.type, "member", false));
        }
        break;
      case BtfKind::Enum: case BtfKind::Enum64:
        for (std::uint32_t i = 0; i < vl; ++i) BPFVM_TRY(check_str(id, enumerator(id, i).name_off, "enumerator"));
        break;
      case BtfKind::FuncProto:
        BPFVM_TRY(check_ref(id, size_or_type(id), "return", true));
        for (std::uint32_t i = 0; i < vl; ++i) {
          const auto p = param(id, i);
          BPFVM_TRY(check_str(id, p.name_off, "parameter"));
          // A trailing void parameter marks varargs.
          BPFVM_TRY(check_ref(id, p.type, "parameter", i + 1 == vl));
        }
        break;
      case BtfKind::Datasec:
        for (std::uint32_t i = 0; i < vl; ++i) BPFVM_TRY(check_ref(id, secinfo(id, i).type, "DATASEC entry", false));
        break;
      case BtfKind::Unkn: case BtfKind::Fwd: case BtfKind::Float:
        break;
    }
  }
  // Reference chains through modifiers, typedefs, arrays and pointers must end within kMaxChainDepth
  // steps; depth[] memoises finished chains so the walk is linear overall. A pointer or array to a struct
  // ends a chain, so legitimate self-referential structs pass.
  std::vector<std::int8_t> depth(n, -1);  // -1 unknown, -2 on the current path
  std::vector<std::uint32_t> path;
  for (std::uint32_t start = 1; start < n; ++start) {
    if (depth[start] >= 0) continue;
    path.clear();
    std::uint32_t id = start;
    int base = 0;
    while (true) {
      if (id == 0) break;
      if (depth[id] >= 0) { base = depth[id]; break; }
      if (depth[id] == -2) return malformed(at_type(id) + "reference cycle");
      const auto k = kind(id);
      const bool chains = is_mod_or_typedef(id) || k == BtfKind::Ptr || k == BtfKind::Array || k == BtfKind::Var;
      if (!chains) { depth[id] = 0; break; }
      depth[id] = -2;
      path.push_back(id);
      if (path.size() > static_cast<std::size_t>(kMaxChainDepth))
        return malformed(at_type(start) + "reference chain deeper than " + std::to_string(kMaxChainDepth));
      id = k == BtfKind::Array ? array(id).type : size_or_type(id);
    }
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      ++base;
      if (base > kMaxChainDepth) return malformed(at_type(start) + "reference chain deeper than " + std::to_string(kMaxChainDepth));
      depth[*it] = static_cast<std::int8_t>(base);
    }
  }
#undef BPFVM_TRY
  return {};
}

}  // namespace bpfvm::loader
