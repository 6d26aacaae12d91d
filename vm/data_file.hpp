// Conformance `.data` test files (shared/conformance/README.md): sections parsed into a DataFile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "vm/program.hpp"

namespace bpfvm::vm {

/// One test file. Sections absent from the file stay empty / nullopt.
struct DataFile {
  std::optional<std::string> asm_text;   // `-- asm` with comments removed, one text line per file line
  std::optional<std::vector<Insn>> raw;  // `-- raw`, either 64-bit words or 8 bytes per line
  std::vector<std::uint8_t> mem;         // `-- mem` input buffer
  std::optional<std::uint64_t> result;   // `-- result`: expected r0
  std::optional<std::string> error;      // `-- error`: last non-empty line; "" = must be rejected
  std::string c_source;                  // `-- c`, verbatim (documentation only)
  std::size_t asm_first_line = 0;        // file line number of asm_text's first line
};

/// Parse a file's text. Errors (Errc::Malformed) read "line 7: unknown section 'Unknown'".
Result<DataFile> parse_data_file(std::string_view text);

/// Read and parse a file; errors are prefixed with the path. Errc::Io when it cannot be read.
Result<DataFile> read_data_file(const std::filesystem::path& path);

/// The program's slots: `raw` when present (it wins, as in the reference runner), else the
/// assembled `asm` section, with errors numbered by file line.
Result<std::vector<Insn>> program_of(const DataFile& file);

}  // namespace bpfvm::vm
