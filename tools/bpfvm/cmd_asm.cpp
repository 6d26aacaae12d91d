// `bpfvm asm` and `bpfvm disasm`: between the conformance assembly dialect and raw bytecode.
#include <cstdio>
#include <fstream>
#include <string>

#include "tools/bpfvm/commands.hpp"
#include "tools/bpfvm/program_input.hpp"
#include "vm/disassembler.hpp"

namespace bpfvm::tools {

namespace {
constexpr const char* kAsmUsage =
    "usage: bpfvm asm IN.s -o OUT.bin\n"
    "  Assembles the conformance dialect into raw little-endian bytecode.\n";
constexpr const char* kDisasmUsage =
    "usage: bpfvm disasm PROGRAM [--asm]\n"
    "  PROGRAM is .bin, .s or .data. Prints offset, raw bytes and mnemonic per slot;\n"
    "  --asm prints re-assemblable assembly instead.\n";
}  // namespace

int cmd_asm(Args args) {
  std::string in, out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kAsmUsage, stdout);
      return kExitOk;
    }
    if (args[i] == "-o" && i + 1 < args.size()) {
      out = std::string(args[++i]);
    } else if (in.empty() && !args[i].starts_with("-")) {
      in = std::string(args[i]);
    } else {
      std::fprintf(stderr, "bpfvm asm: unexpected argument '%s'\n\n%s", std::string(args[i]).c_str(), kAsmUsage);
      return kExitUsage;
    }
  }
  if (in.empty() || out.empty()) {
    std::fprintf(stderr, "bpfvm asm: needs IN.s and -o OUT.bin\n\n%s", kAsmUsage);
    return kExitUsage;
  }
  auto input = load_program_input(in);
  if (!input) {
    std::fprintf(stderr, "%s\n", file_error(in, input.error()).c_str());
    return kExitError;
  }
  const auto bytes = vm::encode_program(input->program.insns);
  std::ofstream o(out, std::ios::binary);
  o.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!o) {
    std::fprintf(stderr, "%s: cannot write\n", out.c_str());
    return kExitError;
  }
  return kExitOk;
}

int cmd_disasm(Args args) {
  std::string in;
  auto style = vm::DisasmStyle::Listing;
  for (const auto a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kDisasmUsage, stdout);
      return kExitOk;
    }
    if (a == "--asm") {
      style = vm::DisasmStyle::Assembly;
    } else if (in.empty() && !a.starts_with("-")) {
      in = std::string(a);
    } else {
      std::fprintf(stderr, "bpfvm disasm: unexpected argument '%s'\n\n%s", std::string(a).c_str(), kDisasmUsage);
      return kExitUsage;
    }
  }
  if (in.empty()) {
    std::fprintf(stderr, "bpfvm disasm: missing PROGRAM\n\n%s", kDisasmUsage);
    return kExitUsage;
  }
  auto input = load_program_input(in);
  if (!input) {
    std::fprintf(stderr, "%s\n", file_error(in, input.error()).c_str());
    return kExitError;
  }
  std::fputs(vm::disassemble(input->program, style).c_str(), stdout);
  return kExitOk;
}

}  // namespace bpfvm::tools
