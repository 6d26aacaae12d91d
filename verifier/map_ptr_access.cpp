// check_ptr_to_map_access against the kernel's BTF, with bpfvm's own map facts as the values read.
#include "verifier/map_ptr_access.hpp"

#include <array>
#include <optional>
#include <string_view>

namespace bpfvm::verifier {

namespace {

// The struct the kernel's map_btf_id names per map type (each begins with `struct bpf_map map`).
std::optional<std::string_view> map_struct(std::uint32_t map_type) {
  switch (map_type) {
    case 2: case 3: case 4: case 6: case 8: case 12:  // array, prog/perf-event/percpu/cgroup array, array of maps
      return "bpf_array";
    case 1: case 5: case 9: case 10: case 13:  // hash, percpu/LRU/LRU percpu hash, hash of maps
      return "bpf_htab";
    case 27: return "bpf_ringbuf_map";
    default: return std::nullopt;
  }
}

bool is_array_struct(std::uint32_t map_type) { return map_struct(map_type) == std::string_view("bpf_array"); }

// Writes the little-endian u32 `value` at struct offset `at` into the bytes [off, off + size) read.
void put_u32(std::uint64_t& out, std::int64_t off, int size, std::optional<std::uint64_t> at, std::uint32_t value) {
  if (!at) return;
  for (int b = 0; b < 4; ++b) {
    const std::int64_t byte = static_cast<std::int64_t>(*at) + b;
    if (byte < off || byte >= off + size) continue;
    out |= static_cast<std::uint64_t>((value >> (8 * b)) & 0xff) << (8 * (byte - off));
  }
}

}  // namespace

Check map_ptr_access(const VerifierOptions& opts, std::uint32_t pc, ViolationDetail d, const RegValue& p,
                     std::int64_t off, int size, bool write, RegValue* loaded) {
  d.off_min = off;
  d.off_max = off;
  d.size = size;
  const auto map = map_info_of(opts, p.aux);
  if (!map) return violation(pc, ViolationKind::UnknownMap, d);
  const auto name = map_struct(map->type);
  if (!name) {
    d.note = "loads through a pointer to this type of map (the kernel's map_btf_id for it)";
    return violation(pc, ViolationKind::Unsupported, d);
  }
  if (opts.unprivileged) {
    d.note = "map_ptr access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN";
    return violation(pc, ViolationKind::BtfAccess, d);
  }
  if (off < 0) {
    d.note = "invalid negative access";
    return violation(pc, ViolationKind::BtfAccess, d);
  }
  if (write) {
    d.note = "only read from a map pointer is supported";
    return violation(pc, ViolationKind::BtfAccess, d);
  }
  const KernelTypes* types =
      opts.kernel_types ? opts.kernel_types : opts.kernel_types_on_demand ? opts.kernel_types_on_demand() : nullptr;
  if (types == nullptr) {
    d.note = "loads through a map pointer without the kernel's BTF (/sys/kernel/btf/vmlinux, or a --btf target)";
    return violation(pc, ViolationKind::Unsupported, d);
  }
  const auto id = types->struct_id(*name);
  const auto map_id = types->struct_id("bpf_map");
  if (!id || !map_id) {
    d.note = "loads through a map pointer: the kernel's BTF has no struct bpf_map for this map type";
    return violation(pc, ViolationKind::Unsupported, d);
  }
  using K = BtfFieldLoad::Kind;
  switch (types->load(*id, static_cast<std::uint64_t>(off), static_cast<std::uint32_t>(size)).kind) {
    case K::Scalar: break;
    case K::Pointer:
      d.note = "reading a kernel object pointer out of a map (bpfvm's maps are no kernel objects)";
      return violation(pc, ViolationKind::Unsupported, d);
    case K::BeyondStruct: d.note = "access beyond struct"; return violation(pc, ViolationKind::BtfAccess, d);
    case K::PartialPointer:
      d.note = "cannot access a pointer member partially (only its whole 8 bytes)";
      return violation(pc, ViolationKind::BtfAccess, d);
    case K::BeyondMember: d.note = "access beyond the end of member"; return violation(pc, ViolationKind::BtfAccess, d);
    case K::NoField: d.note = "struct doesn't have field at offset"; return violation(pc, ViolationKind::BtfAccess, d);
  }
  // The bytes read: bpfvm's facts at their BTF offsets (struct bpf_map is the first member, `map`).
  const auto base = types->member_offset(*id, "map");
  std::uint64_t value = 0;
  auto field = [&](std::string_view member) -> std::optional<std::uint64_t> {
    const auto at = types->member_offset(*map_id, member);
    if (!at || !base) return std::nullopt;
    return *base + *at;
  };
  put_u32(value, off, size, field("map_type"), map->type);
  put_u32(value, off, size, field("key_size"), map->key_size);
  put_u32(value, off, size, field("value_size"), map->value_size);
  put_u32(value, off, size, field("max_entries"), map->max_entries);
  put_u32(value, off, size, field("map_flags"), map->flags);
  if (is_array_struct(map->type))  // array_map_alloc: round_up(value_size, 8)
    put_u32(value, off, size, types->member_offset(*id, "elem_size"), (map->value_size + 7u) / 8u * 8u);
  if (value > 0xffffffffu) {
    // The load becomes `mov32 dst, value`: wider constants would need an lddw (two insn slots).
    d.note = "a load through a map pointer reading a value wider than 32 bits";
    return violation(pc, ViolationKind::Unsupported, d);
  }
  if (loaded) *loaded = RegValue::scalar(ScalarDomain::constant(value));
  return std::nullopt;
}

}  // namespace bpfvm::verifier
