// LoadContext: the state load_object() threads through map collection, relocation and linking (internal).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "loader/btf.hpp"
#include "loader/btf_ext.hpp"
#include "loader/elf_file.hpp"
#include "loader/object.hpp"
#include "vm/program.hpp"

namespace bpfvm::loader {

class CoreTarget;

/// One function symbol inside a program section (a main program, or a subprogram in .text).
struct Function {
  std::string_view name;
  std::uint32_t sec_insn_off = 0;
  std::uint32_t insn_cnt = 0;
  bool global = false;
  bool whole_section = false;  // no function symbol: the section is one program named after it
};

/// A relocation recorded against one instruction of a program section (libbpf's reloc_desc).
struct RelocDesc {
  enum class Type : std::uint8_t { Call, SubprogAddr, Map, Data, Kconfig };
  std::uint32_t insn = 0;  // index inside the section
  Type type = Type::Map;
  std::uint32_t map_idx = 0;
  std::uint64_t sym_off = 0;
  std::uint32_t target_shndx = 0;  // Call: the code section of the callee (.text, or another program section)
  std::string_view sym_name;
};

/// A section holding code, with its instructions (patched in place by data and CO-RE relocations).
struct ProgSection {
  std::uint32_t shndx = 0;
  std::string_view name;
  std::vector<vm::Insn> insns;
  std::vector<Function> funcs;        // sorted by sec_insn_off
  std::vector<RelocDesc> relocs;      // sorted by insn
  std::vector<AppliedReloc> applied;  // data, map and CO-RE relocations, insn = section index
};

/// A __kconfig extern and where it lives in the .kconfig map value.
struct KconfigExtern {
  std::string_view name;
  std::uint32_t btf_type = 0;  // the VAR's type
  std::uint32_t size = 0, align = 1, data_off = 0;
  bool weak = false;
};

struct LoadContext {
  const ElfFile& elf;
  const LoadOptions& options;
  Object& obj;
  const Btf* btf = nullptr;  // == obj.btf.get()
  std::unique_ptr<BtfExt> ext;
  std::vector<ProgSection> prog_secs;
  int text_sec = -1;  // index into prog_secs of ".text"
  std::uint32_t maps_shndx = 0, btf_maps_shndx = 0, rel_btf_maps_shndx = 0;
  std::vector<std::uint32_t> data_shndx;
  std::vector<KconfigExtern> kconfig;
  int kconfig_map = -1;
  std::vector<std::string> kfunc_names;  // kfuncs given ids without a target BTF (kfunc_extern.cpp)
  std::shared_ptr<const CoreTarget> target;  // parsed_target(): LoadOptions' target BTF, parsed once

  ProgSection* prog_section(std::uint32_t shndx) {
    for (auto& s : prog_secs)
      if (s.shndx == shndx) return &s;
    return nullptr;
  }
};

// Steps of load_object(), in order. Each reports the first problem as an Error.
/// libbpf's name for an internal map: "<object-name prefix><section>", at most 15 characters.
std::string internal_map_name(std::string_view obj_name, std::string_view sec);

Result<void> collect_legacy_maps(LoadContext& ctx);
Result<void> collect_btf_maps(LoadContext& ctx);
Result<void> collect_data_maps(LoadContext& ctx);
Result<void> collect_kconfig_externs(LoadContext& ctx);   // and the .kconfig map
Result<void> collect_map_slot_inits(LoadContext& ctx);    // .rel.maps: prog_array / map-in-map slots
Result<void> apply_core_relocations(LoadContext& ctx);
/// LoadOptions::core_target, else target_btf parsed (once); nullptr when neither is given.
Result<const CoreTarget*> parsed_target(LoadContext& ctx);
/// A __ksym variable extern's lddw at `idx` (ksym.cpp): resolved in place and recorded in ps.applied,
/// returning ""; or left alone, returning what to name it as unresolved ("ksym 'x' (why)").
std::string resolve_ksym(LoadContext& ctx, ProgSection& ps, std::uint32_t idx, const ElfSymbol& sym);
/// An extern kfunc's call at `idx` (kfunc_extern.cpp): made BPF_PSEUDO_KFUNC_CALL (imm = the target BTF's
/// FUNC id, or an id of bpfvm's own without a target) and recorded, returning ""; or left alone,
/// returning what to name it as unresolved ("kfunc 'x' (why)").
std::string resolve_kfunc(LoadContext& ctx, ProgSection& ps, std::uint32_t idx, const ElfSymbol& sym);
Result<void> collect_relocations(LoadContext& ctx);       // per program section; patches map/data refs
Result<void> link_programs(LoadContext& ctx);             // main programs + subprograms → Object::programs

}  // namespace bpfvm::loader
