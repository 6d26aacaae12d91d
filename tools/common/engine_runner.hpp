// EngineRunner: runs a plain program (r1 = input buffer, r2 = its length) on a chosen engine, the way
// the CLI's `run` and the conformance plugin need it. Prepare once, run many times.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "bpfvm/result.hpp"
#include "vm/helper_registry.hpp"
#include "vm/interpreter.hpp"
#include "vm/program.hpp"
#if BPFVM_HAVE_JIT
#include "jit/jit_program.hpp"
#endif

namespace bpfvm::tools {

enum class EngineKind { Interpreter, Jit };

/// "interp" or "jit".
Result<EngineKind> parse_engine(std::string_view name);

class EngineRunner {
 public:
  /// Registers the helpers plain programs may call (kernel ids; 5 = bpf_ktime_get_ns).
  EngineRunner();
  EngineRunner(const EngineRunner&) = delete;
  EngineRunner& operator=(const EngineRunner&) = delete;

  /// Prepares `program` for `engine` (helpers resolved, code generated).
  Result<void> prepare(const vm::Program& program, EngineKind engine);

  /// Runs the prepared program on a private copy of `mem`; checked mode confines loads/stores to
  /// the stack and that copy.
  Result<vm::ExecResult> run(std::span<const std::uint8_t> mem, const vm::ExecOptions& options) const;

  vm::HelperRegistry& helpers() { return helpers_; }

 private:
  vm::HelperRegistry helpers_;
  EngineKind engine_ = EngineKind::Interpreter;
  std::optional<vm::Interpreter> interpreter_;
#if BPFVM_HAVE_JIT
  std::optional<jit::JitProgram> jit_;
#endif
};

}  // namespace bpfvm::tools
