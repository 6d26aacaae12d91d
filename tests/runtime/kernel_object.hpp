// A loader::Object in the kernel, done the way libbpf would with raw bpf(): maps created (global data
// initialised, .rodata frozen), lddw map references patched to map fds, programs loaded, prog_array
// slots filled. The kernel half of the runtime differential tests.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "loader/object.hpp"
#include "tests/kernel/kernel_oracle.hpp"

namespace bpfvm::testing {

class KernelObject {
 public:
  /// Creates every map and loads every autoload program of `object`. On a refusal the error names the
  /// map or program; `verifier_log` receives the kernel's log of a refused program.
  static Result<KernelObject> load(const loader::Object& object, std::string* verifier_log = nullptr);
  /// load() of the clang-built object file at `path`, parsed as the loader does; errors name the file.
  static Result<KernelObject> load_file(const std::string& path, std::string* verifier_log = nullptr);
  /// load() of the object file's bytes `elf`, parsed by the loader with `options`; a loader error is
  /// returned as it is.
  static Result<KernelObject> load_elf(std::span<const std::uint8_t> elf, const loader::LoadOptions& options = {},
                                       std::string* verifier_log = nullptr);

  /// nullptr when the object has no such map / program.
  const Fd* map(std::string_view name) const;
  const loader::MapSpec* map_spec(std::string_view name) const;
  const Fd* program(std::string_view name) const;
  const std::vector<loader::MapSpec>& map_specs() const { return specs_; }

 private:
  std::vector<loader::MapSpec> specs_;
  std::vector<Fd> maps_;  // index = loader map index
  std::vector<std::string> program_names_;
  std::vector<Fd> programs_;  // index = loader program index; invalid when not loaded
};

/// The bytes of the file at `path`; empty when it cannot be read.
std::vector<std::uint8_t> read_file_bytes(const std::string& path);

#ifdef BPFVM_RUNTIME_PROGRAMS_DIR
/// The clang-built object of tests/runtime/programs/`stem`.bpf.c (the test targets define the folder).
inline std::string runtime_object_path(std::string_view stem) {
  return std::string(BPFVM_RUNTIME_PROGRAMS_DIR) + "/" + std::string(stem) + ".bpf.o";
}
#endif

/// The lddw rewrite alone: src 5 (MapIdx) → src 1 (BPF_PSEUDO_MAP_FD, imm = fd), src 6 (MapIdxValue) →
/// src 2 (BPF_PSEUDO_MAP_VALUE, imm = fd, second slot keeps the value offset). Error on an index
/// without an fd.
Result<std::vector<vm::Insn>> patch_map_references(const vm::Program& program, std::span<const int> map_fds);

/// A minimal BTF blob for func_info: one `int` type, one `int (void)` prototype and one FUNC per
/// record (the first global, the rest static). Static callbacks (bpf_loop) need func_info in the
/// kernel; the object's own BTF would need libbpf's DATASEC fix-ups first.
std::vector<std::uint8_t> func_info_btf(std::span<const loader::FuncInfo> funcs,
                                        std::vector<bpf_func_info>& records_out);

/// A BTF blob for func_info with each function's real linkage and prototype, taken from the object's
/// BTF: FUNC, FUNC_PROTO and the types it names — ints (enums as ints of their size), pointers, arrays,
/// structs and unions by name and size without members (the kernel types a global function's argument
/// by kind, size and, for the ctx, struct name only), forward declarations; modifiers and typedefs are
/// skipped. The kernel then verifies global functions on their own, as with libbpf.
std::vector<std::uint8_t> prototype_btf(const loader::Btf& btf, std::span<const loader::FuncInfo> funcs,
                                        std::vector<bpf_func_info>& records_out);

}  // namespace bpfvm::testing
