// bpfvm-conformance: the bpf_conformance plugin protocol (../shared/conformance/README.md).
// argv: [MEM] [--engine interp|jit|jit-opt] [--checked] [--no-verify] [--rfc9669-constants]; stdin: program bytes as hex
// text; stdout: r0 in hex. Programs are verified (as a plain program over MEM) before they run.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/bpfvm.hpp"
#include "tools/common/hex_text.hpp"

namespace {

int fail(const std::string& message) {
  std::cout << message << std::endl;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bpfvm;
  std::vector<std::uint8_t> mem;
  ProgramOptions options;
  // Verified by default, like every bpfvm program: an unsafe program (negative/error.data's
  // `or %r0, %r10`) is refused, not run.
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--engine" && i + 1 < argc) {
      const std::string_view engine = argv[++i];
      if (engine == "jit") options.engine = Engine::Jit;
      else if (engine == "jit-opt") options.engine = Engine::JitOptimized;
      else if (engine != "interp") return fail("unknown engine '" + std::string(engine) + "' (interp|jit|jit-opt)");
    } else if (arg == "--verify") {
      options.verify = true;  // the default; kept for older driver command lines
    } else if (arg == "--checked") {
      options.checked = true;
    } else if (arg == "--no-verify") {
      options.verify = false;
    } else if (arg == "--rfc9669-constants") {
      options.permissive_constant_operands = true;
    } else if (arg == "--elf") {
      return fail("ELF mode is not supported by bpfvm-conformance yet");
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: bpfvm-conformance [MEM-HEX] [--engine interp|jit|jit-opt] [--checked] [--no-verify]"
                   " [--rfc9669-constants]"
                   " < PROGRAM-HEX\n"
                   "Verifies and runs one program per the bpf_conformance plugin protocol and prints r0.\n"
                   "r1 = the MEM bytes, r2 = their length; helper 5 is bpf_ktime_get_ns.\n"
                   "--rfc9669-constants: accept div/mod by an immediate 0 and shifts by an immediate >= the\n"
                   "  width, as RFC 9669 defines them (the kernel and bpfvm's default refuse them).\n"
                   "--checked: run in checked mode (every memory access checked, as ProgramOptions::checked).\n"
                   "--no-verify: run the program unverified (debugging only).\n";
      return 0;
    } else if (i == 1 && !arg.starts_with("--")) {
      auto bytes = tools::parse_hex_text(arg);
      if (!bytes) return fail("bad MEM argument: " + bytes.error().reason);
      mem = std::move(*bytes);
    } else {
      return fail("unknown option " + std::string(arg));
    }
  }
  const std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  auto code = tools::parse_hex_text(text);
  if (!code) return fail("bad program text: " + code.error().reason);

  Vm vm;
  auto object = vm.open_bytecode(*code, ProgramType::plain(static_cast<std::uint32_t>(mem.size())), "conformance");
  if (!object) return fail(object.error().message());
  auto program = object->load("conformance", options);
  if (!program) return fail(program.error().message());
  auto out = program->run(mem);
  if (!out) return fail(out.error().message());
  std::printf("0x%llx\n", static_cast<unsigned long long>(out->r0));
  return 0;
}
