// The disassembler: decoded programs back to conformance-dialect text or an objdump-like listing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "vm/program.hpp"

namespace bpfvm::vm {

enum class DisasmStyle : std::uint8_t {
  Assembly,  // dialect text with `L<slot>:` labels at jump/call targets; assemble() gives back p.insns
  Listing,   // `llvm-objdump -d`-like: slot index, the 8 raw bytes in hex, the instruction text
};

/// One instruction in the dialect, jump and call targets as `+N`/`-N`. The second slot of an lddw
/// has no instruction of its own and yields an empty string.
std::string disassemble_insn(const Program& program, std::size_t pc);

/// The whole program, one line per instruction (Listing: one line per slot), each ending in '\n'.
std::string disassemble(const Program& program, DisasmStyle style = DisasmStyle::Assembly);

}  // namespace bpfvm::vm
