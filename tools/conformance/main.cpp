// bpfvm-conformance: the bpf_conformance plugin protocol (../shared/conformance/README.md).
// argv: [MEM] [--engine interp|jit] [--elf]; stdin: program bytes as hex text; stdout: r0 in hex.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "tools/common/engine_runner.hpp"
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
  std::string engine = "interp";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--engine" && i + 1 < argc) {
      engine = argv[++i];
    } else if (arg == "--elf") {
      return fail("ELF mode is not supported by bpfvm-conformance yet");
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: bpfvm-conformance [MEM-HEX] [--engine interp|jit] < PROGRAM-HEX\n"
                   "Runs one program per the bpf_conformance plugin protocol and prints r0.\n";
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
  auto program = vm::decode_program(*code, "stdin");
  if (!program) return fail(program.error().message());

  auto kind = tools::parse_engine(engine);
  if (!kind) return fail(kind.error().reason);
  tools::EngineRunner runner;
  if (auto ready = runner.prepare(*program, *kind); !ready) return fail(ready.error().message());
  auto result = runner.run(mem, vm::ExecOptions{});
  if (!result) return fail(result.error().message());
  std::printf("0x%llx\n", static_cast<unsigned long long>(result->r0));
  return 0;
}
