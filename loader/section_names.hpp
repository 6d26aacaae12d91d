// Section names → program type, expected attach type and flags, following libbpf's section_defs table.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bpfvm::loader {

/// What a program's ELF section name says about it.
struct SectionDef {
  std::string_view prefix;            // the matching libbpf table entry, e.g. "kprobe+"
  std::uint32_t prog_type = 0;        // BPF_PROG_TYPE_*
  std::uint32_t expected_attach_type = 0;  // enum bpf_attach_type
  std::uint32_t prog_flags = 0;       // BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS
  bool attach_btf = false;            // needs an attach target resolved through kernel BTF (fentry, lsm, ...)
  bool legacy = false;                // matched by an old loader's prefix rule, not by libbpf 1.x
};

/// Match a section name (without the leading '?') the way libbpf's sec_def_matches() does:
/// "x+" matches "x" or "x/...", "x/" matches any "x/..." and anything else matches exactly.
std::optional<SectionDef> find_section_def(std::string_view section);

/// The prefix rule of the loaders before libbpf 1.0 (libbpf 0.x, samples/bpf's bpf_load.c, iproute2's
/// "classifier"/"action"): the longest known prefix of the name gives the type, so "socket1",
/// "socket/0", "xdp_prog" and "cgroup/sock1" load. Names no prefix explains ("test", "2/1") give none.
std::optional<SectionDef> find_legacy_section_def(std::string_view section);

/// What a program section's name says: libbpf 1.x's table first, then the old prefix rule.
std::optional<SectionDef> find_program_section_def(std::string_view section);

/// "xdp", "kprobe", ... for BPF_PROG_TYPE_* (bpftool's spelling); "unspec" when unknown.
std::string_view prog_type_name(std::uint32_t prog_type);

}  // namespace bpfvm::loader
