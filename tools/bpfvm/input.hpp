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
};

/// Parses "KEY=VALUE" into `options.kconfig`; false when there is no '='.
bool add_kconfig(InputOptions& options, const std::string& assignment);

struct OpenedInput {
  Object object;
  std::vector<std::uint8_t> mem;          // input buffer for plain programs
  std::optional<std::uint64_t> expected;  // `-- result` of a .data file
  bool is_elf = false;
  std::optional<ProgramType> elf_type;  // --type given for an ELF object: replaces the section's type
};

/// `options.kconfig` plus what libbpf fills itself: LINUX_KERNEL_VERSION from uname(2).
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
