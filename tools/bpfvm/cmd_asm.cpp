// `bpfvm asm` and `bpfvm disasm`: between the conformance assembly dialect, raw bytecode and objects.
#include <cstdio>
#include <fstream>
#include <string>

#include "tools/bpfvm/commands.hpp"
#include "tools/bpfvm/input.hpp"
#include "tools/common/arg_reader.hpp"
#include "vm/assembler.hpp"
#include "vm/disassembler.hpp"

namespace bpfvm::tools {

namespace {
constexpr const char* kAsmUsage =
    "usage: bpfvm asm IN.s -o OUT.bin\n"
    "  Assembles the conformance dialect into raw little-endian bytecode.\n";
constexpr const char* kDisasmUsage =
    "usage: bpfvm disasm PROGRAM [--prog NAME] [--asm] [--jit] [--btf FILE]\n"
    "  PROGRAM is .o, .bin, .s or .data. Prints offset, raw bytes and mnemonic per slot, with BTF\n"
    "  source lines for objects built with -g. --asm prints re-assemblable assembly (bytecode only);\n"
    "  --jit prints the x86-64 code the JIT makes, with eBPF instruction boundaries.\n";

int usage(const char* text, const std::string& message) {
  std::fprintf(stderr, "%s\n\n%s", message.c_str(), text);
  return kExitUsage;
}
}  // namespace

int cmd_asm(Args args) {
  ArgReader r(args);
  std::string in, out;
  while (!r.done() && r.error().empty()) {
    if (r.flag("--help") || r.flag("-h")) {
      std::fputs(kAsmUsage, stdout);
      return kExitOk;
    }
    if (!r.option("-o", out) && !r.positional(in)) r.unknown();
  }
  if (!r.error().empty()) return usage(kAsmUsage, "bpfvm asm: " + r.error());
  if (in.empty() || out.empty()) return usage(kAsmUsage, "bpfvm asm: needs IN.s and -o OUT.bin");
  auto text = read_file_bytes(in);
  if (!text) return std::fprintf(stderr, "%s\n", text.error().message().c_str()), kExitError;
  auto insns = vm::assemble(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
  if (!insns) return std::fprintf(stderr, "%s\n", file_error(in, insns.error()).c_str()), kExitError;
  auto program = vm::decode_program(std::move(*insns), in);
  if (!program) return std::fprintf(stderr, "%s\n", file_error(in, program.error()).c_str()), kExitError;
  const auto bytes = vm::encode_program(program->insns);
  std::ofstream o(out, std::ios::binary);
  o.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!o) return std::fprintf(stderr, "%s: cannot write\n", out.c_str()), kExitError;
  return kExitOk;
}

int cmd_disasm(Args args) {
  ArgReader r(args);
  std::string in, prog;
  InputOptions input_options;
  bool as_asm = false, jit = false;
  while (!r.done() && r.error().empty()) {
    if (r.flag("--help") || r.flag("-h")) {
      std::fputs(kDisasmUsage, stdout);
      return kExitOk;
    }
    if (r.option("--prog", prog) || r.option("--btf", input_options.btf_path) || r.positional(in)) continue;
    if (r.flag("--asm")) as_asm = true;
    else if (r.flag("--jit")) jit = true;
    else r.unknown();
  }
  if (!r.error().empty()) return usage(kDisasmUsage, "bpfvm disasm: " + r.error());
  if (in.empty()) return usage(kDisasmUsage, "bpfvm disasm: missing PROGRAM");
  auto fail = [&](const Error& e) {
    std::fprintf(stderr, "%s\n", file_error(in, e).c_str());
    return kExitError;
  };
  Vm vm;
  auto input = open_input(vm, in, input_options);
  if (!input) return fail(input.error());
  auto name = pick_program(input->object, prog);
  if (!name) return fail(name.error());
  if (jit) {
    auto program = input->object.load(*name, ProgramOptions{.engine = Engine::Jit, .verify = false});
    if (!program) return fail(program.error());
    auto listing = program->native_listing();
    if (!listing) return fail(listing.error());
    std::fputs(listing->c_str(), stdout);
    return kExitOk;
  }
  if (as_asm && input->is_elf) return usage(kDisasmUsage, "bpfvm disasm: --asm is for bytecode and assembly inputs");
  auto text = input->object.disassemble(*name, as_asm);
  if (!text) return fail(text.error());
  std::fputs(text->c_str(), stdout);
  return kExitOk;
}

}  // namespace bpfvm::tools
