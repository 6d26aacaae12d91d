// Text and JSON summaries of a loaded Object (for `bpfvm objdump FILE.o [--json]`), and a disassembly
// listing that interleaves BTF line-info source lines.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "loader/object.hpp"

namespace bpfvm::loader {

struct BtfSummary {
  std::uint32_t types = 0;                         // excluding void
  std::array<std::uint32_t, kBtfKindMax + 1> per_kind{};  // indexed by BtfKind
  std::size_t string_bytes = 0;
  std::size_t func_info = 0, line_info = 0;        // records over all programs
};
BtfSummary summarize_btf(const Object& obj);

/// Human-readable summary: programs, maps, relocations, BTF.
std::string object_report_text(const Object& obj);
/// The same as one JSON object (stable keys: license, version, programs[], maps[], btf{}).
std::string object_report_json(const Object& obj);

/// `s` as a JSON string literal; bytes that are not well-formed UTF-8 become \u00XX, so the result is
/// valid JSON whatever the input (section names, license strings and messages are untrusted bytes).
std::string json_string(std::string_view s);

/// Text of the instruction at pc (e.g. the vm disassembler's output); the loader has no disassembler.
using InsnTextFn = std::function<std::string(const vm::Program& program, std::size_t pc)>;
/// One line per instruction ("  12: <text>"), preceded by "; <source line> [file:line:col]" wherever
/// the program's line info starts a new source line. Second slots of lddw are skipped.
std::string disassemble_with_source(const ProgramSpec& prog, const InsnTextFn& insn_text);

}  // namespace bpfvm::loader
