// Loading CLI program arguments by file type.
#include "tools/bpfvm/program_input.hpp"

#include <fstream>
#include <iterator>

#include "vm/assembler.hpp"
#include "vm/data_file.hpp"

namespace bpfvm::tools {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

Result<std::vector<std::uint8_t>> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::Io, "cannot open " + path);
  return std::vector<std::uint8_t>{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string file_error(const std::string& path, const Error& error) {
  return path + ": " + error.message();
}

Result<ProgramInput> load_program_input(const std::string& path) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return std::move(bytes).error();
  ProgramInput input;
  std::vector<vm::Insn> insns;
  if (ends_with(path, ".bin")) {
    auto program = vm::decode_program(*bytes, path);
    if (!program) return std::move(program).error();
    input.program = std::move(*program);
    return input;
  }
  const std::string text(bytes->begin(), bytes->end());
  if (ends_with(path, ".data")) {
    auto data = vm::parse_data_file(text);
    if (!data) return std::move(data).error();
    auto code = vm::program_of(*data);
    if (!code) return std::move(code).error();
    insns = std::move(*code);
    input.mem = data->mem;
    input.expected = data->result;
  } else if (ends_with(path, ".s") || ends_with(path, ".asm")) {
    auto code = vm::assemble(text);
    if (!code) return std::move(code).error();
    insns = std::move(*code);
  } else {
    return make_error(Errc::InvalidArgument, "unknown program type (expected .s, .bin or .data)");
  }
  auto program = vm::decode_program(std::move(insns), path);
  if (!program) return std::move(program).error();
  input.program = std::move(*program);
  return input;
}

}  // namespace bpfvm::tools
