// Relocation of program sections (libbpf's record_reloc / relocate_data / reloc_code): map and global
// data references become lddw MapIdx / MapIdxValue, and each main program gets the .text subprograms
// it reaches appended, with BPF-to-BPF calls and BPF_PSEUDO_FUNC loads re-targeted.
#include <elf.h>

#include <algorithm>
#include <string>

#include "loader/load_context.hpp"

namespace bpfvm::loader {

namespace {

using isa::LddwSrc;
using isa::to_underlying;

constexpr std::uint8_t kCallCode = 0x85, kLddwCode = 0x18;
constexpr std::uint8_t kPseudoCall = 1;

Error malformed(std::string reason) { return make_error(Errc::Malformed, std::move(reason)); }

std::string hex(unsigned v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string{"0x"} + kDigits[(v >> 4) & 15] + kDigits[v & 15];
}

bool sym_is_extern(const ElfSymbol& s) {
  return s.shndx == SHN_UNDEF && (s.bind == STB_GLOBAL || s.bind == STB_WEAK) && s.type == STT_NOTYPE && !s.name.empty();
}

bool sym_is_subprog(const ElfSymbol& s, std::uint32_t text_shndx) {
  if (s.shndx != text_shndx || text_shndx == 0) return false;
  if (s.bind == STB_LOCAL && s.type == STT_SECTION) return true;
  return s.bind == STB_GLOBAL && s.type == STT_FUNC;
}

const Function* function_at(const ProgSection& sec, std::int64_t insn) {
  for (const auto& f : sec.funcs)
    if (insn >= f.sec_insn_off && insn < std::int64_t(f.sec_insn_off) + f.insn_cnt) return &f;
  return nullptr;
}

// SHT_RELA carries the addend A in the entry; clang's SHT_REL keeps it in the instruction, where the rest of
// this file reads it as libbpf does. llvm_reloc.rst: R_BPF_64_64 (lddw) resolves to S + A with A in imm;
// R_BPF_64_32 (call) to (S + A) / 8 - 1, so imm holds A / 8 - 1. Writing A there makes both forms one.
Result<void> place_explicit_addend(vm::Insn& insn, const ElfRel& rel, bool is_call, const std::string& at) {
  if (!rel.explicit_addend) return {};
  const std::int64_t a = rel.addend;
  const std::int64_t imm = is_call ? a / std::int64_t(vm::kInsnBytes) - 1 : a;
  if ((is_call && a % std::int64_t(vm::kInsnBytes)) || imm < INT32_MIN || imm > INT32_MAX)
    return malformed(at + ": addend " + std::to_string(a) + " does not fit a " + (is_call ? "call" : "lddw") + " relocation");
  insn.imm = static_cast<std::int32_t>(imm);
  return {};
}

Result<void> relocate_section(LoadContext& ctx, ProgSection& ps, const ElfSection& rel_sec) {
  auto rels = ctx.elf.relocations(rel_sec);
  if (!rels) return std::move(rels).error();
  const std::uint32_t text_shndx = ctx.text_sec >= 0 ? ctx.prog_secs[ctx.text_sec].shndx : 0;
  for (std::size_t i = 0; i < rels->size(); ++i) {
    const auto& rel = (*rels)[i];
    const auto& sym = ctx.elf.symbols()[rel.sym];
    const std::string where = "section '" + std::string(ps.name) + "': relocation #" + std::to_string(i);
    if (rel.offset % vm::kInsnBytes || rel.offset >= ps.insns.size() * vm::kInsnBytes)
      return malformed(where + ": bad insn offset " + std::to_string(rel.offset));
    const auto idx = static_cast<std::uint32_t>(rel.offset / vm::kInsnBytes);
    auto& insn = ps.insns[idx];
    const std::string at = where + " at insn " + std::to_string(idx);
    const bool is_call = insn.code == kCallCode, is_lddw = insn.code == kLddwCode;
    if (!is_call && !is_lddw) return malformed(at + ": relocation against '" + std::string(sym.name) + "' on opcode " + hex(insn.code) + " (neither call nor lddw)");
    if (is_lddw && idx + 1 >= ps.insns.size()) return malformed(at + ": lddw is missing its second slot");
    if (auto r = place_explicit_addend(insn, rel, is_call, at); !r) return r;
    RelocDesc d;
    d.insn = idx;
    d.sym_name = sym.name;
    if (sym_is_extern(sym)) {
      const auto kc = std::find_if(ctx.kconfig.begin(), ctx.kconfig.end(), [&](const KconfigExtern& k) { return k.name == sym.name; });
      if (!is_lddw || kc == ctx.kconfig.end()) {
        const std::string unresolved = is_call ? resolve_kfunc(ctx, ps, idx, sym) : resolve_ksym(ctx, ps, idx, sym);
        if (unresolved.empty()) continue;
        // Only the programs that use it fail (link_programs names them); the object still decodes and
        // reports. A kfunc call (clang: BPF_PSEUDO_CALL, imm -1) is poisoned as libbpf poisons an
        // unresolved weak kfunc, so it is not linked as a call to a BPF function.
        if (is_call) {
          insn.src = 0;
          insn.imm = kCorePoisonHelperId;
        }
        ps.applied.push_back({idx, AppliedReloc::Kind::ExternUnresolved, unresolved, 0});
        continue;
      }
      insn.src = to_underlying(LddwSrc::MapIdxValue);
      insn.imm = ctx.kconfig_map;
      ps.insns[idx + 1].imm = static_cast<std::int32_t>(kc->data_off);
      ps.applied.push_back({idx, AppliedReloc::Kind::Kconfig, std::string(sym.name), kc->data_off});
      continue;
    }
    if (is_call) {
      if (insn.src != kPseudoCall) return malformed(at + ": call relocation on a helper call (src " + std::to_string(insn.src) + ")");
      // libbpf links only .text subprograms; cilium/ebpf also a function in another code section (its
      // loader fixtures call static functions in SEC("static")), appended like a .text subprogram.
      if (sym.shndx == 0 || ctx.prog_section(sym.shndx) == nullptr)
        return malformed(at + ": bad call relocation against '" + std::string(sym.name) + "' outside code sections");
      if (sym.value % vm::kInsnBytes) return malformed(at + ": bad call relocation offset " + std::to_string(sym.value));
      d.type = RelocDesc::Type::Call;
      d.sym_off = sym.value;
      d.target_shndx = sym.shndx;
      ps.relocs.push_back(d);
      continue;
    }
    if (sym.shndx == 0 || sym.shndx >= SHN_LORESERVE) return malformed(at + ": relocation against '" + std::string(sym.name) + "' in invalid section index " + std::to_string(sym.shndx));
    if (sym_is_subprog(sym, text_shndx)) {
      if (sym.value % vm::kInsnBytes || insn.imm % std::int32_t(vm::kInsnBytes)) return malformed(at + ": bad subprogram address relocation");
      d.type = RelocDesc::Type::SubprogAddr;
      d.sym_off = sym.value;
      // clang emits a plain lddw for a function's address; like libbpf, mark it BPF_PSEUDO_FUNC.
      insn.src = to_underlying(LddwSrc::Func);
      ps.relocs.push_back(d);
      continue;
    }
    const bool map_sec = sym.shndx == ctx.maps_shndx || sym.shndx == ctx.btf_maps_shndx;
    const bool data_sec = std::find(ctx.data_shndx.begin(), ctx.data_shndx.end(), sym.shndx) != ctx.data_shndx.end();
    if (!map_sec && !data_sec) {
      const auto* s = ctx.elf.section(sym.shndx);
      return malformed(at + ": relocation against '" + std::string(sym.name) + "' in section '" + std::string(s ? s->name : "?") + "' which holds neither maps nor data");
    }
    // clang refers to a static map through the section symbol, with the map's offset in the lddw's imm.
    const std::uint64_t map_off = sym.type == STT_SECTION ? sym.value + std::uint32_t(insn.imm) : sym.value;
    std::int64_t map_idx = -1;
    for (std::size_t m = 0; m < ctx.obj.maps.size(); ++m) {
      const auto& spec = ctx.obj.maps[m];
      const bool user_map = spec.origin == MapOrigin::LegacyMaps || spec.origin == MapOrigin::BtfMaps;
      if (spec.section_index != sym.shndx || user_map != map_sec) continue;
      if (map_sec && spec.section_offset != map_off) continue;
      map_idx = static_cast<std::int64_t>(m);
      break;
    }
    if (map_idx < 0) return malformed(at + ": no map for '" + std::string(sym.name) + "' at offset " + std::to_string(map_sec ? map_off : sym.value));
    const auto& spec = ctx.obj.maps[map_idx];
    if (map_sec) {
      insn.src = to_underlying(LddwSrc::MapIdx);
      insn.imm = static_cast<std::int32_t>(map_idx);
      ps.applied.push_back({idx, AppliedReloc::Kind::Map, spec.name, map_idx});
    } else {
      const std::int64_t off = std::int64_t(insn.imm) + std::int64_t(sym.value);
      if (off < 0 || off >= std::int64_t(spec.value_size)) return malformed(at + ": offset " + std::to_string(off) + " is outside map '" + spec.name + "'");
      insn.src = to_underlying(LddwSrc::MapIdxValue);
      ps.insns[idx + 1].imm = static_cast<std::int32_t>(off);
      insn.imm = static_cast<std::int32_t>(map_idx);
      ps.applied.push_back({idx, AppliedReloc::Kind::MapValue, spec.name + (sym.type == STT_SECTION ? "" : " (" + std::string(sym.name) + ")"), off});
    }
  }
  std::sort(ps.relocs.begin(), ps.relocs.end(), [](const RelocDesc& a, const RelocDesc& b) { return a.insn < b.insn; });
  return {};
}

}  // namespace

Result<void> collect_relocations(LoadContext& ctx) {
  for (const auto& s : ctx.elf.sections()) {
    if (!s.holds_relocations()) continue;
    if (auto* ps = ctx.prog_section(s.info))
      if (auto r = relocate_section(ctx, *ps, s); !r) return r;
  }
  return {};
}

Result<void> link_programs(LoadContext& ctx) {
  ProgSection* text = ctx.text_sec >= 0 ? &ctx.prog_secs[ctx.text_sec] : nullptr;
  for (auto& prog : ctx.obj.programs) {
    ProgSection* ps = ctx.prog_section(prog.section_index);
    const Function* main_fn = ps ? function_at(*ps, prog.section_insn_off) : nullptr;
    if (!main_fn) return make_error(Errc::Internal, "program '" + prog.name + "' lost its section");
    struct Segment { std::uint32_t start; ProgSection* sec; const Function* fn; };
    std::vector<Segment> segs{{0, ps, main_fn}};
    std::vector<vm::Insn> insns(ps->insns.begin() + main_fn->sec_insn_off, ps->insns.begin() + main_fn->sec_insn_off + main_fn->insn_cnt);
    const std::string where = "program '" + prog.name + "'";
    std::size_t cur = 0;
    for (std::size_t i = 0; i < insns.size(); ++i) {
      while (cur + 1 < segs.size() && segs[cur + 1].start <= i) ++cur;
      const auto& insn = insns[i];
      const bool call = insn.code == kCallCode && insn.src == kPseudoCall;
      const bool func = insn.code == kLddwCode && insn.src == to_underlying(LddwSrc::Func);
      if (!call && !func) {
        if (insn.code == kLddwCode) ++i;
        continue;
      }
      const Segment seg = segs[cur];
      const std::uint32_t sec_idx = seg.fn->sec_insn_off + static_cast<std::uint32_t>(i - seg.start);
      const auto rel = std::lower_bound(seg.sec->relocs.begin(), seg.sec->relocs.end(), sec_idx,
                                        [](const RelocDesc& d, std::uint32_t v) { return d.insn < v; });
      ProgSection* tsec = seg.sec;
      std::int64_t target;
      if (rel != seg.sec->relocs.end() && rel->insn == sec_idx) {
        if ((call && rel->type != RelocDesc::Type::Call) || (func && rel->type != RelocDesc::Type::SubprogAddr))
          return malformed(where + ": insn " + std::to_string(i) + ": relocation does not fit the instruction");
        tsec = call ? ctx.prog_section(rel->target_shndx) : text;
        if (!tsec) return malformed(where + ": insn " + std::to_string(i) + ": call into .text, which does not exist");
        target = call ? std::int64_t(rel->sym_off / 8) + insn.imm + 1 : std::int64_t(rel->sym_off / 8) + insn.imm / 8;
      } else {
        target = std::int64_t(sec_idx) + insn.imm + 1;
      }
      const Function* fn = function_at(*tsec, target);
      if (!fn)
        return malformed(where + ": insn " + std::to_string(i) + ": " + (call ? "call" : "function pointer") + " to insn " +
                         std::to_string(target) + " of section '" + std::string(tsec->name) + "', which is in no function");
      auto it = std::find_if(segs.begin(), segs.end(), [&](const Segment& s) { return s.sec == tsec && s.fn == fn; });
      std::uint32_t start;
      if (it == segs.end()) {
        start = static_cast<std::uint32_t>(insns.size());
        if (insns.size() + fn->insn_cnt > (1u << 20)) return malformed(where + ": more than 1048576 instructions after appending subprograms");
        segs.push_back({start, tsec, fn});
        insns.insert(insns.end(), tsec->insns.begin() + fn->sec_insn_off, tsec->insns.begin() + fn->sec_insn_off + fn->insn_cnt);
      } else {
        start = it->start;
      }
      const std::int64_t dest = std::int64_t(start) + (target - fn->sec_insn_off);
      insns[i].imm = static_cast<std::int32_t>(dest - std::int64_t(i) - 1);
      prog.relocations.push_back({static_cast<std::uint32_t>(i), call ? AppliedReloc::Kind::SubprogCall : AppliedReloc::Kind::SubprogAddr,
                                  std::string(fn->name), dest});
      if (func) ++i;
    }
    // Section-level relocations and debug info, moved to program instruction indices.
    for (const auto& seg : segs) {
      const auto lo = seg.fn->sec_insn_off, hi = seg.fn->sec_insn_off + seg.fn->insn_cnt;
      for (const auto& a : seg.sec->applied)
        if (a.insn >= lo && a.insn < hi) {
          auto moved = a;
          moved.insn = seg.start + (a.insn - lo);
          prog.relocations.push_back(std::move(moved));
        }
      if (!ctx.ext) continue;
      for (const auto& fs : ctx.ext->func_info)
        if (fs.section == seg.sec->name)
          for (const auto& r : fs.records)
            if (r.insn_off_bytes / 8 >= lo && r.insn_off_bytes / 8 < hi)
              prog.func_info.push_back({seg.start + (r.insn_off_bytes / 8 - lo), r.type_id, ctx.btf->name(r.type_id)});
      for (const auto& ls : ctx.ext->line_info)
        if (ls.section == seg.sec->name)
          for (const auto& r : ls.records)
            if (r.insn_off_bytes / 8 >= lo && r.insn_off_bytes / 8 < hi)
              prog.line_info.push_back({seg.start + (r.insn_off_bytes / 8 - lo), ctx.btf->string_at(r.file_name_off),
                                        ctx.btf->string_at(r.line_off), r.line, r.column});
    }
    std::stable_sort(prog.relocations.begin(), prog.relocations.end(), [](const AppliedReloc& a, const AppliedReloc& b) { return a.insn < b.insn; });
    for (const auto& r : prog.relocations)
      if (r.kind == AppliedReloc::Kind::ExternUnresolved) {
        prog.unresolved_extern = "extern " + r.target + " at insn " + std::to_string(r.insn);
        break;
      }
    std::stable_sort(prog.line_info.begin(), prog.line_info.end(), [](const LineInfo& a, const LineInfo& b) { return a.insn < b.insn; });
    auto decoded = vm::decode_program(std::move(insns), prog.name);
    if (!decoded) {  // refused when this program is made (api/program.cpp); the object's others load
      prog.decode_error = where + " (section '" + prog.section + "'): " + std::move(decoded).error().reason;
      continue;
    }
    prog.program = std::move(*decoded);
    for (const auto& r : prog.relocations)  // the kfuncs its calls name, once each
      if (r.kind == AppliedReloc::Kind::Kfunc && prog.program.kfunc_name(static_cast<std::int32_t>(r.value)) == nullptr)
        prog.program.kfuncs.push_back({static_cast<std::int32_t>(r.value), r.target});
  }
  return {};
}

}  // namespace bpfvm::loader
