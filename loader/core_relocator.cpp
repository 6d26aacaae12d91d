// CO-RE relocation: each .BTF.ext core_relo record is resolved against the target BTF with libbpf's
// candidate rules and the instruction patched; an unresolvable one is poisoned (call 0xbad2310).
#include <algorithm>
#include <map>
#include <string>

#include "loader/core_spec.hpp"
#include "loader/core_target.hpp"
#include "loader/load_context.hpp"

namespace bpfvm::loader {

namespace {

constexpr std::uint8_t kClassLd = 0x00, kClassLdx = 0x01, kClassSt = 0x02, kClassStx = 0x03, kClassAlu = 0x04,
                       kClassAlu64 = 0x07;
constexpr std::uint8_t kLddwCode = 0x18, kCallCode = 0x85;

struct CalcResult {
  std::uint64_t orig_val = 0, new_val = 0;
  bool poison = false, validate = true, fail_memsz_adjust = false;
  std::uint32_t orig_sz = 0, new_sz = 0, orig_type_id = 0, new_type_id = 0;
};

enum class Calc : std::uint8_t { Ok, Poison };

// bpf_core_calc_field_relo. spec == nullptr means no target matched.
Result<Calc> calc_field(const CoreSpec* spec, CoreKind kind, std::uint64_t& val, std::uint32_t& field_sz,
                        std::uint32_t& type_id, bool* validate) {
  field_sz = 0;
  if (kind == CoreKind::FieldExists) {
    val = spec ? 1 : 0;
    return Calc::Ok;
  }
  if (!spec) return Calc::Poison;
  const Btf& btf = *spec->btf;
  const auto& acc = spec->spec.back();
  if (acc.name.empty()) {  // a[n] accessor
    const auto sz = btf.resolve_size(acc.type_id);
    if (!sz) return make_error(Errc::Malformed, "CO-RE: can't size type [" + std::to_string(acc.type_id) + "]");
    if (kind == CoreKind::FieldByteOffset) {
      val = spec->bit_offset / 8;
      field_sz = static_cast<std::uint32_t>(*sz);
      type_id = acc.type_id;
    } else if (kind == CoreKind::FieldByteSize) {
      val = *sz;
    } else {
      return make_error(Errc::Malformed, "CO-RE: " + std::string(core_kind_name(kind)) + " can't be applied to an array access");
    }
    if (validate) *validate = true;
    return Calc::Ok;
  }
  const auto m = btf.member(acc.type_id, acc.idx);
  const auto field_type_id = btf.skip_mods_and_typedefs(m.type);
  const std::uint64_t bit_off = spec->bit_offset;
  std::uint64_t bit_sz = m.bitfield_size, byte_sz, byte_off;
  const bool bitfield = bit_sz > 0;
  if (bitfield) {
    byte_sz = btf.size_or_type(field_type_id);
    if (byte_sz == 0) return make_error(Errc::Malformed, "CO-RE: bitfield of size 0");
    byte_off = bit_off / 8 / byte_sz * byte_sz;
    while (bit_off + bit_sz - byte_off * 8 > byte_sz * 8) {
      if (byte_sz >= 8) return make_error(Errc::Unsupported, "CO-RE: bitfield can't be read with a 64-bit load");
      byte_sz *= 2;
      byte_off = bit_off / 8 / byte_sz * byte_sz;
    }
  } else {
    const auto sz = btf.resolve_size(field_type_id);
    if (!sz) return make_error(Errc::Malformed, "CO-RE: can't size field type [" + std::to_string(field_type_id) + "]");
    byte_sz = *sz;
    byte_off = bit_off / 8;
    bit_sz = byte_sz * 8;
  }
  // Bitfield placement is ambiguous between compiler and libbpf, so only signedness is validated.
  if (validate) *validate = !bitfield;
  switch (kind) {
    case CoreKind::FieldByteOffset:
      val = byte_off;
      if (!bitfield) {
        field_sz = static_cast<std::uint32_t>(byte_sz);
        type_id = field_type_id;
      }
      break;
    case CoreKind::FieldByteSize: val = byte_sz; break;
    case CoreKind::FieldSigned:
      val = (btf.is_any_enum(field_type_id) && btf.kflag(field_type_id)) ||
            (btf.kind(field_type_id) == BtfKind::Int && (btf.int_encoding(field_type_id) & 1));
      if (validate) *validate = true;
      break;
    case CoreKind::FieldLshiftU64: val = 64 - (bit_off + bit_sz - byte_off * 8); break;  // little-endian
    case CoreKind::FieldRshiftU64:
      val = 64 - bit_sz;
      if (validate) *validate = true;
      break;
    default: return make_error(Errc::Internal, "CO-RE: not a field relocation");
  }
  return Calc::Ok;
}

Result<CalcResult> calc_relo(const CoreSpec& local, const CoreSpec* targ) {
  CalcResult res;
  const auto kind = local.kind;
  if (core_is_field(kind)) {
    auto a = calc_field(&local, kind, res.orig_val, res.orig_sz, res.orig_type_id, &res.validate);
    if (!a) return std::move(a).error();
    auto b = calc_field(targ, kind, res.new_val, res.new_sz, res.new_type_id, nullptr);
    if (!b) return std::move(b).error();
    if (*a == Calc::Poison || *b == Calc::Poison) {
      res.poison = true;
      return res;
    }
    // Changing a load's size is safe only for pointers and unsigned integers (zero extension).
    if (res.orig_sz != res.new_sz) {
      const Btf& lb = *local.btf;
      const Btf& tb = *targ->btf;
      const auto o = res.orig_type_id, n = res.new_type_id;
      const bool ptrs = lb.kind(o) == BtfKind::Ptr && tb.kind(n) == BtfKind::Ptr;
      const bool uints = lb.kind(o) == BtfKind::Int && tb.kind(n) == BtfKind::Int && !(lb.int_encoding(o) & 1) && !(tb.int_encoding(n) & 1);
      res.fail_memsz_adjust = !ptrs && !uints;
    }
  } else if (core_is_type(kind)) {
    auto type_val = [](const CoreSpec* s) -> std::uint64_t {
      if (!s) return 0;
      switch (s->kind) {
        case CoreKind::TypeIdLocal: case CoreKind::TypeIdTarget: return s->root_type_id;
        case CoreKind::TypeExists: case CoreKind::TypeMatches: return 1;
        case CoreKind::TypeSize: return s->btf->resolve_size(s->root_type_id).value_or(0);
        default: return 0;
      }
    };
    res.orig_val = type_val(&local);
    res.new_val = type_val(targ);
    // Local type ids change when BTF is deduplicated, so the compiler's id is not checked.
    res.validate = kind != CoreKind::TypeIdTarget && kind != CoreKind::TypeIdLocal;
    // libbpf: a type relocation with no matching target reads 0 rather than poisoning.
  } else {
    auto enum_val = [](const CoreSpec* s, std::uint64_t& v) -> bool {
      if (s->kind == CoreKind::EnumvalExists) { v = 1; return true; }
      v = static_cast<std::uint64_t>(s->btf->enumerator(s->spec[0].type_id, s->spec[0].idx).value);
      return true;
    };
    enum_val(&local, res.orig_val);
    if (targ) enum_val(targ, res.new_val);
    else if (kind == CoreKind::EnumvalExists) res.new_val = 0;
    else res.poison = true;
  }
  return res;
}

void poison(vm::Insn& insn) {
  insn = vm::Insn{kCallCode, 0, 0, 0, kCorePoisonHelperId};
}

// bpf_core_patch_insn.
Result<void> patch_insn(std::vector<vm::Insn>& insns, std::uint32_t idx, const CalcResult& res, const std::string& what) {
  auto& insn = insns[idx];
  const std::string at = what + " at insn " + std::to_string(idx);
  const bool lddw = insn.code == kLddwCode;
  if (res.poison || (res.fail_memsz_adjust && ((insn.code & 7) == kClassLdx || (insn.code & 7) == kClassSt || (insn.code & 7) == kClassStx))) {
    if (lddw && idx + 1 < insns.size()) poison(insns[idx + 1]);
    poison(insn);
    return {};
  }
  auto mismatch = [&](std::int64_t got) {
    return make_error(Errc::Malformed, at + ": instruction holds " + std::to_string(got) + ", expected " + std::to_string(res.orig_val));
  };
  switch (insn.code & 7) {
    case kClassAlu: case kClassAlu64:
      if (insn.code & 0x08) return make_error(Errc::Malformed, at + ": ALU relocation on a register operand");
      if (res.validate && std::uint32_t(insn.imm) != std::uint32_t(res.orig_val)) return mismatch(insn.imm);
      insn.imm = static_cast<std::int32_t>(res.new_val);
      return {};
    case kClassLdx: case kClassSt: case kClassStx: {
      if (res.validate && insn.off != std::int64_t(res.orig_val)) return mismatch(insn.off);
      if (res.new_val > 0x7fff) return make_error(Errc::Unsupported, at + ": offset " + std::to_string(res.new_val) + " does not fit a 16-bit off");
      insn.off = static_cast<std::int16_t>(res.new_val);
      if (res.new_sz != res.orig_sz) {
        static constexpr std::uint8_t kSizeCode[] = {0, 0x10, 0x08, 0, 0x00, 0, 0, 0, 0x18};  // B, H, W, DW
        const std::uint8_t cur = insn.code & 0x18;
        const std::uint32_t cur_bytes = cur == 0x10 ? 1 : cur == 0x08 ? 2 : cur == 0x00 ? 4 : 8;
        if (cur_bytes != res.orig_sz) return make_error(Errc::Malformed, at + ": access size " + std::to_string(cur_bytes) + " is not the field size " + std::to_string(res.orig_sz));
        if (res.new_sz != 1 && res.new_sz != 2 && res.new_sz != 4 && res.new_sz != 8)
          return make_error(Errc::Unsupported, at + ": target field size " + std::to_string(res.new_sz) + " has no load size");
        insn.code = static_cast<std::uint8_t>((insn.code & ~0x18) | kSizeCode[res.new_sz]);
      }
      return {};
    }
    case kClassLd: {
      if (!lddw || idx + 1 >= insns.size()) return make_error(Errc::Malformed, at + ": relocation on an unexpected instruction");
      const std::uint64_t imm = std::uint64_t(std::uint32_t(insn.imm)) | (std::uint64_t(std::uint32_t(insns[idx + 1].imm)) << 32);
      if (res.validate && imm != res.orig_val) return mismatch(static_cast<std::int64_t>(imm));
      insn.imm = static_cast<std::int32_t>(std::uint32_t(res.new_val));
      insns[idx + 1].imm = static_cast<std::int32_t>(std::uint32_t(res.new_val >> 32));
      return {};
    }
    default:
      return make_error(Errc::Malformed, at + ": relocation on an unexpected instruction (opcode " + std::to_string(insn.code) + ")");
  }
}

std::string describe(const Btf& btf, const CoreSpec& spec, std::string_view access) {
  std::string s = std::string(core_kind_name(spec.kind)) + " ";
  const auto root = btf.skip_mods_and_typedefs(spec.root_type_id);
  const auto k = btf.kind(root);
  s += k == BtfKind::Struct ? "struct " : k == BtfKind::Union ? "union " : btf.is_any_enum(root) ? "enum " : "";
  s += btf.name(spec.root_type_id).empty() ? "<anon>" : std::string(btf.name(spec.root_type_id));
  for (std::size_t i = 1; i < spec.spec.size(); ++i)
    s += spec.spec[i].name.empty() ? "[" + std::to_string(spec.spec[i].idx) + "]" : "." + std::string(spec.spec[i].name);
  if (core_is_enumval(spec.kind)) s += "::" + std::string(spec.spec[0].name);
  return s + " (" + std::string(access) + ")";
}

}  // namespace

Result<const CoreTarget*> parsed_target(LoadContext& ctx) {
  if (!ctx.target) ctx.target = ctx.options.core_target;
  if (!ctx.target && !ctx.options.target_btf.empty()) {
    auto parsed = CoreTarget::parse(ctx.options.target_btf);
    if (!parsed) {
      auto e = std::move(parsed).error();
      e.reason = "target BTF: " + e.reason;
      return e;
    }
    ctx.target = *parsed;
  }
  ctx.obj.core_target = ctx.target;
  return ctx.target.get();
}

Result<void> apply_core_relocations(LoadContext& ctx) {
  if (!ctx.ext || ctx.ext->core_relos.empty()) return {};
  const Btf& local = *ctx.btf;
  auto parsed = parsed_target(ctx);
  if (!parsed) return std::move(parsed).error();
  const CoreTarget* target = *parsed;
  if (!target && !ctx.options.core_without_target)
    return make_error(Errc::InvalidArgument, "object has CO-RE relocations; set LoadOptions::target_btf (e.g. /sys/kernel/btf/vmlinux)");
  const Btf& targ = target ? target->btf() : local;
  std::map<std::uint32_t, std::vector<std::uint32_t>> cand_cache;
  for (const auto& sec : ctx.ext->core_relos) {
    ProgSection* ps = nullptr;
    for (auto& p : ctx.prog_secs)
      if (p.name == sec.section) ps = &p;
    if (!ps) return make_error(Errc::Malformed, ".BTF.ext: core_relo names section '" + std::string(sec.section) + "', which holds no code");
    for (std::size_t j = 0; j < sec.records.size(); ++j) {
      const auto& rec = sec.records[j];
      const std::string what = "section '" + std::string(ps->name) + "': CO-RE relocation #" + std::to_string(j);
      if (rec.insn_off_bytes % 8 || rec.insn_off_bytes / 8 >= ps->insns.size())
        return make_error(Errc::Malformed, what + ": bad insn offset " + std::to_string(rec.insn_off_bytes));
      const auto idx = rec.insn_off_bytes / 8;
      if (rec.kind > static_cast<std::uint32_t>(CoreKind::TypeMatches))
        return make_error(Errc::Unsupported, what + ": unknown relocation kind " + std::to_string(rec.kind));
      const auto kind = static_cast<CoreKind>(rec.kind);
      const auto access = local.string_at(rec.access_str_off);
      auto spec = core_parse_spec(local, rec.type_id, access, kind);
      if (!spec) {
        auto e = std::move(spec).error();
        e.reason = what + ": " + e.reason;
        return e;
      }
      const std::string desc = describe(local, *spec, access);
      CalcResult res;
      if (!target) {  // core_without_target: recorded, not resolved
        const auto& insn = ps->insns[idx];
        const bool lddw = insn.code == kLddwCode && idx + 1 < ps->insns.size();
        const std::int64_t orig = (insn.code & 7) == kClassLdx || (insn.code & 7) == kClassSt || (insn.code & 7) == kClassStx
                                      ? insn.off
                                      : lddw ? std::int64_t((std::uint64_t(std::uint32_t(ps->insns[idx + 1].imm)) << 32) | std::uint32_t(insn.imm))
                                             : insn.imm;
        res.poison = true;
        if (auto p = patch_insn(ps->insns, idx, res, what + " (" + desc + ")"); !p) return p;
        ps->applied.push_back({idx, AppliedReloc::Kind::CoreUnresolved, desc, orig});
        continue;
      }
      if (kind == CoreKind::TypeIdLocal) {
        res.orig_val = res.new_val = rec.type_id;
        res.validate = false;
      } else {
        const auto local_name = local.name(rec.type_id);
        if (local_name.empty()) return make_error(Errc::Unsupported, what + ": CO-RE relocation on an anonymous type [" + std::to_string(rec.type_id) + "]");
        auto cached = cand_cache.find(rec.type_id);
        if (cached == cand_cache.end()) {
          // Candidates: target types of the same kind (any enum for an enum) and essential name.
          std::vector<std::uint32_t> cands;
          const auto lkind = local.kind(rec.type_id);
          for (const auto id : target->named(local_name.substr(0, core_essential_name_len(local_name)))) {
            if (targ.kind(id) == lkind || (local.is_any_enum(rec.type_id) && targ.is_any_enum(id))) cands.push_back(id);
          }
          cached = cand_cache.emplace(rec.type_id, std::move(cands)).first;
        }
        bool found = false;
        CoreSpec tspec;
        for (const auto cand : cached->second) {
          auto m = core_spec_match(*spec, targ, cand, tspec);
          if (!m) {
            auto e = std::move(m).error();
            e.reason = what + ": " + e.reason;
            return e;
          }
          if (!*m) continue;
          auto r = calc_relo(*spec, &tspec);
          if (!r) {
            auto e = std::move(r).error();
            e.reason = what + ": " + e.reason;
            return e;
          }
          if (!found) {
            res = *r;
            found = true;
          } else if (r->poison != res.poison || r->new_val != res.new_val) {
            return make_error(Errc::Malformed, what + " (" + desc + "): relocation decision ambiguity between target candidates (" +
                                                   std::to_string(res.new_val) + " != " + std::to_string(r->new_val) + ")");
          }
        }
        if (!found) {
          auto r = calc_relo(*spec, nullptr);
          if (!r) {
            auto e = std::move(r).error();
            e.reason = what + ": " + e.reason;
            return e;
          }
          res = *r;
        }
      }
      if (auto p = patch_insn(ps->insns, idx, res, what + " (" + desc + ")"); !p) return p;
      const bool poisoned = ps->insns[idx].code == kCallCode && ps->insns[idx].imm == kCorePoisonHelperId && ps->insns[idx].src == 0;
      ps->applied.push_back({idx, poisoned ? AppliedReloc::Kind::CorePoisoned : AppliedReloc::Kind::Core, desc,
                             static_cast<std::int64_t>(res.new_val)});
    }
  }
  return {};
}

}  // namespace bpfvm::loader
