// NativeAssembly: the asmjit side every backend shares (baseline and optimizing) — a CodeHolder with the error
// recorder and, for listings, a logger; after the emitter's pass, one flattened position-independent
// NativeCode. Included only by backend code (jit/x86_64/, jit/arm64/), where asmjit may appear.
#pragma once

#include <asmjit/core.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bpfvm/result.hpp"
#include "jit/asmjit_error_recorder.hpp"
#include "jit/native_code.hpp"

namespace bpfvm::jit {

/// The entry label of each function an optimizing-tier build emits: root pc 0 (the program) or a
/// callback's subprogram (opt::Function::root_pc).
struct FunctionEntry {
  std::uint32_t root_pc;
  asmjit::Label label;
};

/// The label of the function starting at root_pc (one of `entries`).
inline const asmjit::Label& function_entry(const std::vector<FunctionEntry>& entries, std::uint32_t root_pc) {
  return std::find_if(entries.begin(), entries.end(), [&](const FunctionEntry& f) { return f.root_pc == root_pc; })->label;
}

/// For NativeAssembly::finish: every pc enters at the program's function (entries[0]), a callback's
/// root pc at its own function.
inline std::vector<std::uint32_t> function_pc_offsets(const asmjit::CodeHolder& code,
                                                      const std::vector<FunctionEntry>& entries, std::size_t num_pcs) {
  auto offset = [&](const FunctionEntry& f) { return static_cast<std::uint32_t>(code.labelOffsetFromBase(f.label)); };
  std::vector<std::uint32_t> offsets(num_pcs, offset(entries.front()));
  for (const auto& f : entries) offsets[f.root_pc] = offset(f);
  return offsets;
}

class NativeAssembly {
 public:
  /// `arch` prefixes every error ("x86-64 JIT: ..."). reserve_bytes > 0: room for the usual
  /// output up front, so the buffer rarely grows (each growth copies it).
  NativeAssembly(const CompileRequest& req, const asmjit::Environment& env, const char* arch,
                 std::size_t reserve_bytes = 0)
      : req_(req), arch_(arch) {
    code_.init(env);
    code_.setErrorHandler(&errors_);
    if (req.listing) {
      logger_.addFlags(asmjit::FormatFlags::kMachineCode | asmjit::FormatFlags::kHexOffsets |
                       asmjit::FormatFlags::kHexImms);
      code_.setLogger(&logger_);
    }
    if (reserve_bytes > 0) code_.reserveBuffer(&code_.textSection()->buffer(), reserve_bytes);
  }
  NativeAssembly(const NativeAssembly&) = delete;
  NativeAssembly& operator=(const NativeAssembly&) = delete;

  asmjit::CodeHolder* holder() { return &code_; }
  const AsmjitErrorRecorder& errors() const { return errors_; }

  /// After the emitter's pass: flattens and resolves the code, refuses anything asmjit reported
  /// or anything not position independent, and copies bytes and offsets. pc_offsets(code) gives
  /// each pc's native offset once the code is flat; func_target_pcs are the pcs lddw_func names.
  template <class PcOffsets>
  Result<NativeCode> finish(const std::vector<std::uint32_t>& func_target_pcs, PcOffsets&& pc_offsets) {
    const std::string arch = arch_;
    if (errors_.failed()) return make_error(Errc::Internal, arch + " JIT: asmjit: " + errors_.message());
    code_.flatten();
    code_.resolveUnresolvedLinks();
    if (errors_.failed() || code_.hasUnresolvedLinks() || !code_.relocEntries().empty())
      return make_error(Errc::Internal, arch + " JIT: code is not position independent: " + errors_.message());
    NativeCode out;
    out.bytes.resize(code_.codeSize());
    code_.copyFlattenedData(out.bytes.data(), out.bytes.size());
    out.pc_offsets = pc_offsets(code_);
    for (auto pc : func_target_pcs) out.func_offsets.push_back(out.pc_offsets[pc]);
    std::sort(out.func_offsets.begin(), out.func_offsets.end());
    out.func_offsets.erase(std::unique(out.func_offsets.begin(), out.func_offsets.end()), out.func_offsets.end());
    if (req_.listing) req_.listing->append(logger_.data(), logger_.content().size());
    return out;
  }

 private:
  const CompileRequest& req_;
  const char* arch_;
  // Declared before code_: the CodeHolder refers to both until it is destroyed.
  AsmjitErrorRecorder errors_;
  asmjit::StringLogger logger_;
  asmjit::CodeHolder code_;
};

}  // namespace bpfvm::jit
