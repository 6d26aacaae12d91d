// What the CLI opens from a PROGRAM argument: an ELF object (.o), `.s` assembly, `.bin` raw bytecode
// or a conformance `.data` file (which may also carry input memory and an expected result).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"

namespace bpfvm::tools {

struct InputOptions {
  std::optional<std::vector<std::uint8_t>> mem;  // --mem / --mem-file: replaces a .data file's
  std::string type;                              // --type for bytecode/assembly ("" = plain)
  std::string btf_path;                          // --btf: target BTF for CO-RE
  bool core_without_target = false;              // objdump: show CO-RE relocations without resolving them
  std::map<std::string, std::string, std::less<>> kconfig;  // --kconfig KEY=VALUE
  std::map<std::string, std::string, std::less<>> inner_maps;  // --inner-map OUTER=TEMPLATE
  bool create_maps = true;  // false (objdump): an ELF object is opened to inspect, its maps not allocated
  bool verify_only = false;  // true (verify): maps checked, not allocated (LoadOptions::verify_only)
};

/// Usage line of --max-verifier-time-ms, which every subcommand that verifies takes (verify, run, bench,
/// compare, fuzz).
inline constexpr const char* kVerifierTimeUsage =
    "  --max-verifier-time-ms MS    cap on verification wall time (default 30000 = 30 s; 0 = none)\n";

/// Usage lines of the other resource-limit options (verify, run: after kVerifierTimeUsage).
inline constexpr const char* kLimitsUsage =
    "  --max-map-memory BYTES       cap on the memory an object's maps allocate (default 256 MiB; 0 = none;\n"
    "                               verify allocates none)\n"
    "  --max-verifier-memory BYTES  cap on the verifier's stored and queued states (default 1 GiB; 0 = none)\n"
    "  --max-verifier-states N      cap on the states the verifier stores (default none)\n"
    "  The kernel's limits always apply: 1,000,000 processed insns, 8,192 queued branches, 8 frames.\n";

/// The CLI's verification wall-time bound when --max-verifier-time-ms does not set one. The kernel's
/// 1M processed insns bound the work but not its time: each insn may compare states and walk history,
/// and hostile programs made that minutes (tests/verifier/cli_verifier_time_bound.sh). 30 s is 5-30x
/// what 1M insns take here.
inline constexpr std::uint64_t kDefaultVerifierTimeMs = 30'000;

/// ProgramOptions with the CLI's default limits (kVerifierTimeUsage, kLimitsUsage), before the options change them.
inline ProgramOptions cli_program_options() {
  ProgramOptions options;
  options.max_verifier_time_us = kDefaultVerifierTimeMs * 1000;
  return options;
}

/// Consumes --max-verifier-time-ms MS into a bound in microseconds (ProgramOptions::max_verifier_time_us,
/// fuzz::HarnessOptions::max_verifier_time_us); false when the next argument is not it. Errors (a value
/// that is not a number) are left in `args`.
template <class ArgReaderT>
bool verifier_time_option(ArgReaderT& args, std::uint64_t& max_verifier_time_us) {
  std::uint64_t ms = 0;
  if (!args.count("--max-verifier-time-ms", ms)) return false;
  max_verifier_time_us = ms > UINT64_MAX / 1000 ? UINT64_MAX : ms * 1000;
  return true;
}

/// Consumes one resource-limit option (kVerifierTimeUsage, kLimitsUsage) into the options; false when the next argument
/// is not one. Errors (a value that is not a number) are left in `args`.
template <class ArgReaderT>
bool limit_option(ArgReaderT& args, VmOptions& vm_options, ProgramOptions& options) {
  return verifier_time_option(args, options.max_verifier_time_us) ||
         args.count("--max-map-memory", vm_options.max_map_memory_bytes) ||
         args.count("--max-verifier-memory", options.max_verifier_memory_bytes) ||
         args.count("--max-verifier-states", options.max_verifier_states);
}

/// Parses "KEY=VALUE" into `options.kconfig`; false when there is no '='.
bool add_kconfig(InputOptions& options, const std::string& assignment);
/// Parses "OUTER=TEMPLATE" into `options.inner_maps` (LoadOptions::inner_map_templates); false when
/// either side is empty.
bool add_inner_map(InputOptions& options, const std::string& assignment);


struct OpenedInput {
  Object object;
  std::vector<std::uint8_t> mem;          // input buffer for plain programs
  std::optional<std::uint64_t> expected;  // `-- result` of a .data file
  bool is_elf = false;
  std::optional<ProgramType> elf_type;  // --type given for an ELF object: replaces the section's type
};

/// `options.kconfig` plus what libbpf fills itself: LINUX_KERNEL_VERSION from uname(2),
/// LINUX_HAS_BPF_COOKIE and LINUX_HAS_SYSCALL_WRAPPER.
std::map<std::string, std::string, std::less<>> kconfig_with_defaults(const InputOptions& options);

/// The name libbpf gives an object file ("x.bpf.o" -> "x"): the prefix of global-data map names.
std::string object_name_of(const std::string& path);

/// Reads a whole file; Errc::Io names the path on failure.
Result<std::vector<std::uint8_t>> read_file_bytes(const std::string& path);

/// Opens PATH by its extension. Bytecode and assembly become one program named after the file.
Result<OpenedInput> open_input(const Vm& vm, const std::string& path, const InputOptions& options);

/// The program to run: `wanted` if given, else the object's only (or first autoload) program.
Result<std::string> pick_program(const Object& object, const std::string& wanted);

/// "PATH: insn N: reason" for an error about a file.
std::string file_error(const std::string& path, const Error& error);

}  // namespace bpfvm::tools
