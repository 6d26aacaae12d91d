// Btf: a validated, read-only view of a BTF blob (Documentation/bpf/btf.rst), with the type queries
// CO-RE and map parsing need.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"

namespace bpfvm::loader {

/// BTF_KIND_* values (linux/btf.h).
enum class BtfKind : std::uint8_t {
  Unkn = 0, Int = 1, Ptr = 2, Array = 3, Struct = 4, Union = 5, Enum = 6, Fwd = 7, Typedef = 8,
  Volatile = 9, Const = 10, Restrict = 11, Func = 12, FuncProto = 13, Var = 14, Datasec = 15,
  Float = 16, DeclTag = 17, TypeTag = 18, Enum64 = 19,
};
inline constexpr std::uint8_t kBtfKindMax = 19;

/// "struct", "typedef", ... as bpftool prints kinds ("STRUCT").
std::string_view btf_kind_name(BtfKind kind);

struct BtfArray {
  std::uint32_t type = 0, index_type = 0, nelems = 0;
};
struct BtfMember {
  std::uint32_t name_off = 0, type = 0;
  std::uint32_t bit_offset = 0;
  std::uint32_t bitfield_size = 0;  // 0 when not a bitfield
};
struct BtfEnumerator {
  std::uint32_t name_off = 0;
  std::int64_t value = 0;
};
struct BtfParam {
  std::uint32_t name_off = 0, type = 0;
};
struct BtfVarSecinfo {
  std::uint32_t type = 0, offset = 0, size = 0;
};

/// Parsed BTF. parse() copies the bytes and checks every type, member and string reference, refuses
/// unknown kinds, more than kMaxTypes types, and reference chains (modifiers, typedefs, arrays,
/// pointers) that are cyclic or deeper than kMaxChainDepth. Queries therefore never read out of range.
class Btf {
 public:
  static constexpr std::uint32_t kMaxTypes = 0xfffff;  // BTF_MAX_TYPE
  static constexpr int kMaxChainDepth = 32;            // the kernel's MAX_RESOLVE_DEPTH

  static Result<Btf> parse(std::span<const std::uint8_t> bytes);

  /// Number of type ids including void (id 0).
  std::uint32_t type_count() const { return static_cast<std::uint32_t>(offsets_.size()); }
  bool valid_id(std::uint32_t id) const { return id < offsets_.size(); }
  std::size_t string_bytes() const { return str_len_; }

  BtfKind kind(std::uint32_t id) const;
  std::uint32_t name_off(std::uint32_t id) const { return u32(id, 0); }
  std::string_view name(std::uint32_t id) const { return string_at(name_off(id)); }
  std::uint16_t vlen(std::uint32_t id) const { return static_cast<std::uint16_t>(u32(id, 4) & 0xffff); }
  bool kflag(std::uint32_t id) const { return (u32(id, 4) >> 31) != 0; }
  /// size (int, struct, union, enum, datasec, float) or referenced type (ptr, typedef, modifiers, func, var).
  std::uint32_t size_or_type(std::uint32_t id) const { return u32(id, 8); }
  std::string_view string_at(std::uint32_t off) const;

  std::uint32_t int_encoding(std::uint32_t id) const { return (u32(id, 12) >> 24) & 0x0f; }
  std::uint32_t int_offset(std::uint32_t id) const { return (u32(id, 12) >> 16) & 0xff; }
  std::uint32_t int_bits(std::uint32_t id) const { return u32(id, 12) & 0xff; }
  BtfArray array(std::uint32_t id) const;
  BtfMember member(std::uint32_t id, std::uint32_t i) const;
  BtfEnumerator enumerator(std::uint32_t id, std::uint32_t i) const;
  BtfParam param(std::uint32_t id, std::uint32_t i) const;
  BtfVarSecinfo secinfo(std::uint32_t id, std::uint32_t i) const;
  std::uint32_t var_linkage(std::uint32_t id) const { return u32(id, 12); }
  /// DECL_TAG: the tagged member or parameter index, -1 for the type itself.
  std::int32_t decl_tag_component(std::uint32_t id) const { return static_cast<std::int32_t>(u32(id, 12)); }

  bool is_composite(std::uint32_t id) const {
    const auto k = kind(id);
    return k == BtfKind::Struct || k == BtfKind::Union;
  }
  bool is_any_enum(std::uint32_t id) const {
    const auto k = kind(id);
    return k == BtfKind::Enum || k == BtfKind::Enum64;
  }
  bool is_mod_or_typedef(std::uint32_t id) const;
  /// Follows typedefs and const/volatile/restrict/type_tag to the underlying id (bounded by validation).
  std::uint32_t skip_mods_and_typedefs(std::uint32_t id) const;
  /// Byte size of a type as btf__resolve_size() computes it; nullopt for void, functions, forwards.
  std::optional<std::uint64_t> resolve_size(std::uint32_t id) const;
  /// First type with this kind and name.
  std::optional<std::uint32_t> find(BtfKind kind, std::string_view name) const;

 private:
  std::uint32_t u32(std::uint32_t id, std::size_t at) const;
  std::uint32_t extra_u32(std::uint32_t id, std::size_t at) const { return u32(id, 12 + at); }
  Result<void> validate();

  std::vector<std::uint8_t> bytes_;
  std::vector<std::uint32_t> offsets_;  // byte offset of each type's btf_type in bytes_; [0] unused
  std::size_t str_begin_ = 0, str_len_ = 0;
};

}  // namespace bpfvm::loader
