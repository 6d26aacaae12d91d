// ProgramInput: what the CLI reads from a PROGRAM argument — `.s` assembly, `.bin` raw bytecode,
// or a conformance `.data` file (which may also carry input memory and an expected result).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bpfvm/result.hpp"
#include "vm/program.hpp"

namespace bpfvm::tools {

struct ProgramInput {
  vm::Program program;
  std::vector<std::uint8_t> mem;          // `-- mem` of a .data file
  std::optional<std::uint64_t> expected;  // `-- result` of a .data file
};

/// Reads a whole file; Errc::Io names the path on failure.
Result<std::vector<std::uint8_t>> read_file_bytes(const std::string& path);

/// Loads PROGRAM by its extension (.s, .bin, .data); errors read "PATH: insn N: reason".
Result<ProgramInput> load_program_input(const std::string& path);

/// "PATH: insn N: reason" for an error about a file.
std::string file_error(const std::string& path, const Error& error);

}  // namespace bpfvm::tools
