// bpfvm-conformance: the bpf_conformance plugin protocol (../shared/conformance/README.md).
// argv: [MEM] [--engine interp|jit] [--verify]; stdin: program bytes as hex text; stdout: r0 in hex.
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
  options.verify = false;  // the suite's programs are run as given; --verify adds the verifier
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--engine" && i + 1 < argc) {
      const std::string_view engine = argv[++i];
      if (engine == "jit") options.engine = Engine::Jit;
      else if (engine != "interp") return fail("unknown engine '" + std::string(engine) + "' (interp|jit)");
    } else if (arg == "--verify") {
      options.verify = true;
    } else if (arg == "--elf") {
      return fail("ELF mode is not supported by bpfvm-conformance yet");
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: bpfvm-conformance [MEM-HEX] [--engine interp|jit] [--verify] < PROGRAM-HEX\n"
                   "Runs one program per the bpf_conformance plugin protocol and prints r0.\n"
                   "r1 = the MEM bytes, r2 = their length; helper 5 is bpf_ktime_get_ns.\n";
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
