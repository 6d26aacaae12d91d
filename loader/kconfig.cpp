// __kconfig externs: laid out like libbpf (by alignment, size, name) into one frozen ".kconfig" array
// map whose value is filled from LoadOptions::kconfig. Other externs (ksyms, kfuncs) are refused when a
// relocation uses them (relocator.cpp).
#include <elf.h>
#include <linux/bpf.h>
#include <linux/btf.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include "loader/load_context.hpp"

namespace bpfvm::loader {

namespace {

Error malformed(std::string reason) { return make_error(Errc::Malformed, std::move(reason)); }

std::uint32_t align_of(const Btf& btf, std::uint32_t id) {
  id = btf.skip_mods_and_typedefs(id);
  for (int depth = 0; depth < Btf::kMaxChainDepth && btf.kind(id) == BtfKind::Array; ++depth)
    id = btf.skip_mods_and_typedefs(btf.array(id).type);
  const auto sz = btf.resolve_size(id).value_or(1);
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(sz, 1, 8));
}

// Encode one kconfig value ("y"/"m"/"n", a number, or a quoted string) into the extern's bytes.
Result<void> encode_value(const Btf& btf, const KconfigExtern& ext, std::string_view value, std::span<std::uint8_t> out) {
  const std::string what = "extern (kcfg) '" + std::string(ext.name) + "'";
  auto t = btf.skip_mods_and_typedefs(ext.btf_type);
  if (btf.kind(t) == BtfKind::Array) {
    if (value.size() < 2 || value.front() != '"' || value.back() != '"')
      return make_error(Errc::InvalidArgument, what + ": value " + std::string(value) + " is not a quoted string");
    value = value.substr(1, value.size() - 2);
    const auto n = std::min(value.size(), out.size() ? out.size() - 1 : 0);
    std::memcpy(out.data(), value.data(), n);
    return {};
  }
  std::int64_t v = 0;
  const bool is_bool_like = btf.kind(t) == BtfKind::Int && (btf.int_encoding(t) & (BTF_INT_BOOL | BTF_INT_CHAR)) != 0;
  const bool tristate = btf.is_any_enum(t) && btf.name(t) == "libbpf_tristate";
  if (value == "y" || value == "m" || value == "n") {
    if (!is_bool_like && !tristate && !(btf.kind(t) == BtfKind::Int)) return make_error(Errc::InvalidArgument, what + ": tristate value for a non-bool type");
    if (value == "m" && btf.kind(t) == BtfKind::Int && (btf.int_encoding(t) & BTF_INT_BOOL)) return make_error(Errc::InvalidArgument, what + ": value 'm' for a bool");
    if (btf.kind(t) == BtfKind::Int && (btf.int_encoding(t) & BTF_INT_CHAR)) v = value[0];
    else v = value == "y" ? 1 : value == "m" ? 2 : 0;
  } else {
    int base = 10;
    std::string_view digits = value;
    bool neg = false;
    if (digits.starts_with('-')) { neg = true; digits.remove_prefix(1); }
    if (digits.starts_with("0x") || digits.starts_with("0X")) { base = 16; digits.remove_prefix(2); }
    std::uint64_t u = 0;
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
    if (ec != std::errc{} || p != digits.data() + digits.size() || digits.empty())
      return make_error(Errc::InvalidArgument, what + ": value '" + std::string(value) + "' is not a number");
    v = neg ? -static_cast<std::int64_t>(u) : static_cast<std::int64_t>(u);
  }
  const auto bits = out.size() * 8;
  if (bits < 64) {
    const std::int64_t lo = -(std::int64_t(1) << (bits - 1)), hi = (std::int64_t(1) << bits) - 1;
    if (v < lo || v > hi) return make_error(Errc::InvalidArgument, what + ": value " + std::string(value) + " does not fit " + std::to_string(out.size()) + " bytes");
  }
  std::memcpy(out.data(), &v, std::min(out.size(), sizeof v));  // little-endian: the low bytes
  return {};
}

}  // namespace

Result<void> collect_kconfig_externs(LoadContext& ctx) {
  bool any_extern = false;
  for (const auto& s : ctx.elf.symbols())
    if (s.shndx == SHN_UNDEF && (s.bind == STB_GLOBAL || s.bind == STB_WEAK) && s.type == STT_NOTYPE && !s.name.empty()) any_extern = true;
  if (!any_extern) return {};
  if (!ctx.btf) return make_error(Errc::Unsupported, "not supported: extern symbols without .BTF");
  const Btf& btf = *ctx.btf;
  const auto ds = btf.find(BtfKind::Datasec, ".kconfig");
  if (!ds) return {};  // ksyms and kfuncs are refused where they are used
  for (std::uint32_t i = 0; i < btf.vlen(*ds); ++i) {
    const auto var = btf.secinfo(*ds, i).type;
    if (btf.kind(var) != BtfKind::Var) return malformed("DATASEC '.kconfig' entry #" + std::to_string(i) + " is not a VAR");
    KconfigExtern k;
    k.name = btf.name(var);
    k.btf_type = btf.size_or_type(var);
    const auto sz = btf.resolve_size(k.btf_type);
    if (!sz || *sz == 0 || *sz > 4096) return malformed("extern (kcfg) '" + std::string(k.name) + "': unsupported type");
    k.size = static_cast<std::uint32_t>(*sz);
    k.align = align_of(btf, k.btf_type);
    for (const auto& s : ctx.elf.symbols())
      if (s.name == k.name && s.shndx == SHN_UNDEF) k.weak = s.bind == STB_WEAK;
    ctx.kconfig.push_back(k);
  }
  if (ctx.kconfig.empty()) return {};
  std::sort(ctx.kconfig.begin(), ctx.kconfig.end(), [](const KconfigExtern& a, const KconfigExtern& b) {
    if (a.align != b.align) return a.align > b.align;
    if (a.size != b.size) return a.size < b.size;
    return a.name < b.name;
  });
  std::uint32_t off = 0;
  for (auto& k : ctx.kconfig) {
    k.data_off = (off + k.align - 1) / k.align * k.align;
    off = k.data_off + k.size;
  }
  MapSpec m;
  m.name = ".kconfig";
  m.kernel_name = internal_map_name(ctx.options.object_name, ".kconfig");
  m.origin = MapOrigin::Kconfig;
  m.type = BPF_MAP_TYPE_ARRAY;
  m.key_size = 4;
  m.value_size = off;
  m.max_entries = 1;
  m.map_flags = BPF_F_RDONLY_PROG | BPF_F_MMAPABLE;
  m.frozen = true;
  m.value_type_id = *ds;
  m.initial_value.assign(off, 0);
  for (const auto& k : ctx.kconfig) {
    const auto it = ctx.options.kconfig.find(k.name);
    if (it == ctx.options.kconfig.end()) {
      if (k.weak) continue;  // libbpf: a missing weak extern reads as zero
      return make_error(Errc::InvalidArgument, "unresolved extern (kcfg) '" + std::string(k.name) + "': give it a value in LoadOptions::kconfig");
    }
    auto r = encode_value(btf, k, it->second, std::span(m.initial_value).subspan(k.data_off, k.size));
    if (!r) return r;
  }
  ctx.kconfig_map = static_cast<int>(ctx.obj.maps.size());
  ctx.obj.maps.push_back(std::move(m));
  return {};
}

}  // namespace bpfvm::loader
