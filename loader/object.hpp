// The loader's output: programs ready for the verifier, map specifications, BTF and debug info —
// what libbpf would hand the kernel for a clang-built BPF object — and load_object(), which makes it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "loader/btf.hpp"
#include "loader/core_target.hpp"
#include "vm/program.hpp"

namespace bpfvm::loader {

/// Where a map specification came from.
enum class MapOrigin : std::uint8_t {
  LegacyMaps,  // SEC("maps") struct bpf_map_def
  BtfMaps,     // SEC(".maps") __uint/__type/__array definitions
  Data,        // .data, .data.*
  Rodata,      // .rodata, .rodata.* (frozen, BPF_F_RDONLY_PROG)
  Bss,         // .bss (zero-filled)
  Kconfig,     // __kconfig externs, filled from LoadOptions::kconfig (frozen)
};
std::string_view map_origin_name(MapOrigin origin);

/// Initial content of one prog_array / map-in-map slot (from an __array(values, ...) initialiser).
struct MapSlotInit {
  enum class Target : std::uint8_t { Map, Program };
  std::uint32_t slot = 0;
  Target target = Target::Map;
  std::uint32_t index = 0;  // into Object::maps or Object::programs
};

/// The fields of a SEC("maps") definition past struct bpf_map_def's five (see collect_legacy_maps).
struct LegacyMapDef {
  enum class Layout : std::uint8_t {
    BpfMapDef,  // libbpf's 20-byte struct bpf_map_def
    BpfLoad,    // samples/bpf bpf_load.c: + inner_map_idx, numa_node
    BpfElfMap,  // iproute2's struct bpf_elf_map: + id, pinning, inner_id, inner_idx
  };
  Layout layout = Layout::BpfMapDef;
  std::uint32_t inner_map_idx = 0;           // BpfLoad: index (in section order) of the inner template
  std::uint32_t id = 0, inner_id = 0;        // BpfElfMap: this map's id; the id of an outer's inner template
  std::uint32_t inner_idx = 0;               // BpfElfMap: key at which this map goes into outers naming its id
};

/// Everything BPF_MAP_CREATE needs, plus initial contents; the maps module creates the map.
struct MapSpec {
  std::string name;         // variable name, or the section name (".data") for global data
  std::string kernel_name;  // name libbpf passes to the kernel (internal maps: "<obj>.data", ≤ 15 chars)
  MapOrigin origin = MapOrigin::BtfMaps;
  std::uint32_t type = 0;   // BPF_MAP_TYPE_*
  std::uint32_t key_size = 0, value_size = 0, max_entries = 0, map_flags = 0, numa_node = 0;
  std::uint64_t map_extra = 0;
  std::uint32_t key_type_id = 0, value_type_id = 0;  // BTF ids when declared with __type, else 0
  std::int32_t spin_lock_off = -1;                   // the value's struct bpf_spin_lock (from BTF), or -1
  std::int32_t timer_off = -1;                       // the value's struct bpf_timer (from BTF), or -1
  std::uint32_t pinning = 0;  // LIBBPF_PIN_BY_NAME 1; iproute2 PIN_OBJECT_NS 1, PIN_GLOBAL_NS 2, custom: recorded only
  LegacyMapDef legacy;                               // SEC("maps") only
  std::shared_ptr<const MapSpec> inner;              // map-in-map: the inner map's spec
  std::vector<std::uint8_t> initial_value;           // global data: the value of key 0 (.bss: empty, all zero)
  bool frozen = false;                               // .rodata and .kconfig: BPF_MAP_FREEZE after init
  std::vector<MapSlotInit> initial_slots;            // prog_array / map-in-map initialisers
  std::uint32_t section_index = 0;                   // ELF section and offset it was defined at
  std::uint64_t section_offset = 0;
};

/// A func_info record in program instruction indices (BTF FUNC name and type id).
struct FuncInfo {
  std::uint32_t insn = 0;
  std::uint32_t type_id = 0;
  std::string_view name;
};

/// A line_info record in program instruction indices; strings live in Object::btf.
struct LineInfo {
  std::uint32_t insn = 0;
  std::string_view file;
  std::string_view source;  // text of the source line
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

/// One relocation the loader applied, for reports (`bpfvm objdump`).
struct AppliedReloc {
  // CoreUnresolved: loaded without a target BTF (LoadOptions::core_without_target); value = the
  // compiler's original value; the instruction is poisoned like CorePoisoned.
  /// ExternUnresolved: an extern (ksym, kfunc) bpfvm cannot resolve; the program using it is refused
  /// (ProgramSpec::unresolved_extern), the rest of the object loads.
  /// Ksym: a typed __ksym variable, lddw BPF_PSEUDO_BTF_ID (value = the kernel BTF's VAR id);
  /// Kfunc: an extern kfunc's call, made `call kfunc` (value = its imm: the target BTF's FUNC id, or a
  /// negative id of bpfvm's own without a target BTF); the program's vm::Program::kfuncs names it.
  /// KsymAddress: an untyped one (or a missing weak one: 0), a plain lddw of its kernel address (value).
  enum class Kind : std::uint8_t { SubprogCall, SubprogAddr, Map, MapValue, Kconfig, Core, CorePoisoned, CoreUnresolved,
                                   ExternUnresolved, Ksym, KsymAddress, Kfunc };
  std::uint32_t insn = 0;  // instruction index in the final program
  Kind kind = Kind::Map;
  std::string target;      // map, subprogram or "struct task_struct.pid" style CO-RE description
  std::int64_t value = 0;  // map index, subprogram start, or the CO-RE value patched in
};
std::string_view reloc_kind_name(AppliedReloc::Kind kind);

/// The imm of a poisoned CO-RE instruction: `call 0xbad2310` (an invalid helper id). As in libbpf, a
/// relocation that cannot be resolved against the target BTF does not fail the load; the program fails
/// only if execution reaches the instruction ("invalid func unknown#195896080" in the kernel verifier).
inline constexpr std::int32_t kCorePoisonHelperId = 0xbad2310;

struct ProgramSpec {
  std::string name;           // the function symbol, or the section name when the section has none
  std::string section;        // ELF section without the leading '?'
  bool whole_section = false;        // the section has no function symbol: one program, named after it
  bool legacy_section_name = false;  // the type came from an old loader's prefix rule ("socket1", "xdp_prog")
  std::uint32_t prog_type = 0;             // BPF_PROG_TYPE_*
  std::uint32_t expected_attach_type = 0;  // enum bpf_attach_type per libbpf's table
  std::uint32_t prog_flags = 0;            // BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS
  std::string attach_target;  // text after the section prefix's '/', e.g. "do_unlinkat" in "kprobe/do_unlinkat"
  bool autoload = true;       // false for SEC("?...")
  vm::Program program;        // main function followed by the .text subprograms it reaches
  std::vector<FuncInfo> func_info;
  std::vector<LineInfo> line_info;  // sorted by insn
  std::vector<AppliedReloc> relocations;
  std::uint32_t section_index = 0;
  std::uint32_t section_insn_off = 0;  // where the main function starts in its section
  /// Non-empty: "extern ksym 'X' at insn N" — the program (or a subprogram it links) uses an extern bpfvm
  /// cannot resolve, so loading it is refused; the object's other programs load.
  std::string unresolved_extern;
  /// Non-empty: why vm::decode_program refused the linked instructions (program stays empty); making
  /// the program is refused (Errc::Malformed), as libbpf loads only the programs asked for, the rest
  /// of the object loads.
  std::string decode_error;
};

struct Object {
  std::string license;
  std::uint32_t kern_version = 0;  // SEC("version"), 0 when absent
  std::vector<ProgramSpec> programs;
  std::vector<MapSpec> maps;
  std::shared_ptr<const Btf> btf;  // the object's BTF; null when it has none
  /// The target BTF the CO-RE relocations and typed __ksym externs resolved against
  /// (LoadOptions::core_target, or target_btf parsed because the object needed it); null when none was.
  std::shared_ptr<const CoreTarget> core_target;

  const ProgramSpec* find_program(std::string_view name) const;
  const MapSpec* find_map(std::string_view name) const;
};

struct LoadOptions {
  /// Kernel BTF for CO-RE (e.g. the bytes of /sys/kernel/btf/vmlinux). An object with CO-RE
  /// relocations and no target BTF fails with Errc::InvalidArgument.
  std::span<const std::uint8_t> target_btf;
  /// No target BTF for an object with CO-RE relocations: false fails the load (Errc::InvalidArgument);
  /// true records each relocation (AppliedReloc::Kind::CoreUnresolved) and poisons its instruction, so
  /// a report (`bpfvm objdump`) shows them and a program reaching one fails as an unresolved one does.
  bool core_without_target = false;
  /// Already-parsed and indexed target BTF (CoreTarget::parse); used instead of target_btf when
  /// set: parsing and indexing vmlinux costs milliseconds, a load against it microseconds.
  std::shared_ptr<const CoreTarget> core_target;
  /// Values of __kconfig externs: "LINUX_KERNEL_VERSION" → "393216", "CONFIG_HZ" → "250",
  /// "CONFIG_BPF_SYSCALL" → "y", "CONFIG_X" → "\"text\"". Missing weak externs read as 0.
  std::map<std::string, std::string, std::less<>> kconfig;
  /// The kernel address of an untyped __ksym (`extern const void x __ksym;`), as libbpf reads it from
  /// /proc/kallsyms; empty or nullopt: unresolved (a weak one reads 0).
  std::function<std::optional<std::uint64_t>(const std::string& name)> kernel_symbol_address;
  /// Object name used for internal map names ("<name>.bss"); libbpf takes the file name without ".o".
  std::string object_name = "obj";
};

/// Load a clang-built BPF ELF object as libbpf would: programs by section, .text subprograms appended,
/// BPF-to-BPF calls and function pointers fixed, map references rewritten to lddw MapIdx (src 5) /
/// MapIdxValue (src 6) with imm = index into Object::maps (second slot imm = offset into the value),
/// CO-RE relocations resolved against LoadOptions' target BTF, .kconfig externs resolved.
/// Any malformed input yields one Error naming the section/offset and the reason.
Result<Object> load_object(std::span<const std::uint8_t> elf, const LoadOptions& options = {});

}  // namespace bpfvm::loader
