// bpfvm: the command-line front end. `bpfvm CMD --help` describes each command.
#include <cstdio>
#include <string_view>
#include <vector>

#include "tools/bpfvm/commands.hpp"

namespace {

constexpr const char* kUsage =
    "usage: bpfvm COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  run PROGRAM [--prog NAME] [--mem HEX | --packet FILE] [--engine interp|jit|jit-opt] [--json] ...\n"
    "                                  verify and run a program, print r0 (and packet, maps)\n"
    "  verify PROGRAM [--prog NAME] [--log-level N] [--json]   run only the verifier\n"
    "  objdump FILE.o [--json]         programs, maps, relocations, BTF of an object\n"
    "  disasm PROGRAM [--prog NAME] [--jit]   instructions (with source lines, or native code)\n"
    "  asm IN.s -o OUT.bin             assemble to raw bytecode\n"
    "  fuzz FILE.o --prog NAME (--time S | --runs N) [--property P] ...\n"
    "                                  coverage-guided fuzzing: faults, JIT disagreement, properties\n"
    "  bench PROGRAM --prog NAME [--packet F] [--engines interp,jit,kernel] [--report F.html] ...\n"
    "                                  time one program on every engine (results checked to agree)\n"
    "  compare FILE.o --prog NAME      bpfvm's native code per eBPF instruction beside the kernel JIT's\n"    "\n"
    "PROGRAM is a .o ELF object (clang -target bpf), .s assembly, .bin raw little-endian bytecode\n"
    "or a conformance .data file.\n"
    "`bpfvm COMMAND --help` shows a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace bpfvm::tools;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  const std::string_view cmd = argv[1];
  std::vector<std::string_view> rest(argv + 2, argv + argc);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (cmd == "run") return cmd_run(rest);
  if (cmd == "asm") return cmd_asm(rest);
  if (cmd == "disasm") return cmd_disasm(rest);
  if (cmd == "objdump") return cmd_objdump(rest);
  if (cmd == "verify") return cmd_verify(rest);
  if (cmd == "fuzz") return cmd_fuzz(rest);
  if (cmd == "bench") return cmd_bench(rest);
  if (cmd == "compare") return cmd_compare(rest);
  std::fprintf(stderr, "bpfvm: unknown command '%.*s'\n\n%s", static_cast<int>(cmd.size()), cmd.data(), kUsage);
  return kExitUsage;
}
