// CO-RE access specs (Documentation/bpf/llvm_reloc.rst, libbpf relo_core.c semantics): parsing a local
// access string, matching it against a candidate target type, and the type-compatibility rules.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "loader/btf.hpp"

namespace bpfvm::loader {

/// enum bpf_core_relo_kind.
enum class CoreKind : std::uint32_t {
  FieldByteOffset = 0, FieldByteSize = 1, FieldExists = 2, FieldSigned = 3, FieldLshiftU64 = 4,
  FieldRshiftU64 = 5, TypeIdLocal = 6, TypeIdTarget = 7, TypeExists = 8, TypeSize = 9,
  EnumvalExists = 10, EnumvalValue = 11, TypeMatches = 12,
};
std::string_view core_kind_name(CoreKind kind);
inline bool core_is_field(CoreKind k) { return k <= CoreKind::FieldRshiftU64; }
inline bool core_is_type(CoreKind k) {
  return (k >= CoreKind::TypeIdLocal && k <= CoreKind::TypeSize) || k == CoreKind::TypeMatches;
}
inline bool core_is_enumval(CoreKind k) { return k == CoreKind::EnumvalExists || k == CoreKind::EnumvalValue; }

/// One step of an access path: a named member, or an array index (name empty).
struct CoreAccessor {
  std::uint32_t type_id = 0;  // the composite / array / enum the step indexes into
  std::uint32_t idx = 0;
  std::string_view name;
};

/// A resolved access path in one BTF (libbpf's bpf_core_spec).
struct CoreSpec {
  static constexpr std::size_t kMaxLen = 64;  // BPF_CORE_SPEC_MAX_LEN
  const Btf* btf = nullptr;
  std::uint32_t root_type_id = 0;
  CoreKind kind = CoreKind::FieldByteOffset;
  std::vector<CoreAccessor> spec;    // named members and array indices
  std::vector<std::uint32_t> raw;    // every index, including anonymous members
  std::uint64_t bit_offset = 0;
};

/// "struct task_struct" style name with flavor suffix ("___v2") ignored: its essential length.
std::size_t core_essential_name_len(std::string_view name);

/// Parse "0:1:2" against the local BTF (bpf_core_parse_spec). Errors are Malformed.
Result<CoreSpec> core_parse_spec(const Btf& btf, std::uint32_t type_id, std::string_view access, CoreKind kind);

/// Match a local spec against target candidate `targ_id`: 1 match, 0 no match, Error on bad input.
Result<bool> core_spec_match(const CoreSpec& local, const Btf& targ, std::uint32_t targ_id, CoreSpec& out);

/// bpf_core_types_are_compat: kinds agree through pointers, arrays and function prototypes.
bool core_types_are_compat(const Btf& local, std::uint32_t local_id, const Btf& targ, std::uint32_t targ_id, int level = 32);
/// bpf_core_types_match: the stricter TYPE_MATCHES relation.
bool core_types_match(const Btf& local, std::uint32_t local_id, const Btf& targ, std::uint32_t targ_id, int level = 32);

}  // namespace bpfvm::loader
