// Running objdump on a temporary file holding the code.
#include "tools/bpfvm/objdump_disasm.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bpfvm::tools {

Result<std::vector<DisassembledInsn>> objdump_disassemble(std::span<const std::uint8_t> code) {
#if defined(__x86_64__)
  const char* arch = "-m i386:x86-64 -M intel";
#elif defined(__aarch64__)
  const char* arch = "-m aarch64";
#else
  return make_error(Errc::Unsupported, "no disassembler for this architecture");
#endif
  char path[] = "/tmp/bpfvm-compare-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return make_error(Errc::Io, "cannot create a temporary file for objdump");
  const bool written = ::write(fd, code.data(), code.size()) == static_cast<ssize_t>(code.size());
  ::close(fd);
  std::vector<DisassembledInsn> out;
  if (written) {
    // The path comes from mkstemp (no shell metacharacters); objdump's absence shows as no output.
    const std::string command = std::string("objdump -D -z -b binary ") + arch + " --no-show-raw-insn " + path + " 2>/dev/null";
    if (FILE* p = ::popen(command.c_str(), "r")) {
      char line[512];
      while (std::fgets(line, sizeof line, p)) {
        // "  1f:\tmov    rax,QWORD PTR [rdi+0x8]"
        char* colon = std::strchr(line, ':');
        char* tab = std::strchr(line, '\t');
        if (colon == nullptr || tab == nullptr || tab != colon + 1) continue;
        char* end = nullptr;
        const unsigned long offset = std::strtoul(line, &end, 16);
        if (end != colon) continue;
        std::string text(tab + 1);
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        // objdump pads the mnemonic; one space is enough beside asmjit's text.
        if (auto sp = text.find(' '); sp != std::string::npos) {
          const auto next = text.find_first_not_of(' ', sp);
          if (next != std::string::npos) text.erase(sp + 1, next - sp - 1);
        }
        out.push_back({static_cast<std::uint32_t>(offset), 0, std::move(text)});
      }
      ::pclose(p);
    }
  }
  ::unlink(path);
  if (out.empty()) return make_error(Errc::Unsupported, "objdump (binutils) is not available to disassemble the kernel's code");
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i].size_bytes = (i + 1 < out.size() ? out[i + 1].offset : static_cast<std::uint32_t>(code.size())) - out[i].offset;
  return out;
}

}  // namespace bpfvm::tools
