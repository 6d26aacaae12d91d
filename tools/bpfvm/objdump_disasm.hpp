// Native code bytes (the kernel JIT's image) to text with binutils' objdump: asmjit, which writes
// bpfvm's own listing as it assembles, has no disassembler.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bpfvm/result.hpp"

namespace bpfvm::tools {

struct DisassembledInsn {
  std::uint32_t offset = 0;
  std::uint32_t size_bytes = 0;
  std::string text;  ///< Intel syntax, as bpfvm's listing
};

/// Disassembles x86-64 `code` (on an x86-64 build; aarch64 code on arm64) by running
/// `objdump -D -b binary`; Errc::Unsupported when objdump is missing or fails.
Result<std::vector<DisassembledInsn>> objdump_disassemble(std::span<const std::uint8_t> code);

}  // namespace bpfvm::tools
