// DebugRegistration: makes one block of generated code visible to perf (/tmp/perf-PID.map) and to
// gdb (the GDB JIT interface, with a minimal in-memory ELF naming the code as one function).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

// The GDB JIT interface's list node, laid out as gdb expects.
extern "C" struct jit_code_entry {
  jit_code_entry* next_entry;
  jit_code_entry* prev_entry;
  const char* symfile_addr;
  std::uint64_t symfile_size;
};

namespace bpfvm::jit {

class DebugRegistration {
 public:
  /// Registers [address, address + size_bytes) as function `name`. Never fails the compile:
  /// an unwritable perf map is skipped.
  static std::unique_ptr<DebugRegistration> create(const std::string& name, std::uintptr_t address,
                                                   std::size_t size_bytes);
  ~DebugRegistration();  // unregisters from gdb (perf maps are append-only)
  DebugRegistration(const DebugRegistration&) = delete;
  DebugRegistration& operator=(const DebugRegistration&) = delete;

  /// The ELF image handed to gdb.
  const std::vector<std::uint8_t>& symfile() const { return symfile_; }

 private:
  DebugRegistration() = default;
  std::vector<std::uint8_t> symfile_;
  jit_code_entry entry_{};  // our node in the debugger's list
  bool linked_ = false;
};

/// Minimal ELF64 object: a NOBITS .text at `address` and one global FUNC symbol covering it.
std::vector<std::uint8_t> make_symfile(const std::string& name, std::uintptr_t address, std::size_t size_bytes);

}  // namespace bpfvm::jit
