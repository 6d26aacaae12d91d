// The JIT's annotated listing (Program::native_listing) read back into per-instruction blocks, so the
// CLI can count native bytes and set bpfvm's code beside the kernel's.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bpfvm::tools {

struct NativeInsn {
  std::string text;          ///< "mov eax, 1" (asmjit's Intel syntax)
  std::uint32_t size_bytes = 0;
};

struct NativeBlock {
  std::string title;  ///< "pc 3: add %r3, 14", "entry trampoline", "stub: helper call"
  std::vector<NativeInsn> insns;
  std::uint32_t size_bytes() const;
};

struct NativeListing {
  std::vector<NativeBlock> entry;  ///< code before the first instruction (the run trampoline)
  std::map<std::uint32_t, NativeBlock> by_pc;  ///< eBPF instruction -> its native code
  std::vector<NativeBlock> stubs;  ///< out-of-line code after the program (helper-call, fault stubs)
  std::uint32_t entry_bytes() const;
  std::uint32_t body_bytes() const;  ///< the instructions' code
  std::uint32_t stub_bytes() const;
};

/// Reads "pc N: ..." / "stub: ..." / "entry ..." headers and "insn ; HEXBYTES" lines; labels skipped.
NativeListing parse_native_listing(std::string_view listing);

}  // namespace bpfvm::tools
