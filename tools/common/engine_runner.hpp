// EngineRunner: runs a plain program (r1 = input buffer, r2 = its length) on a chosen engine, the way
// the CLI's `run` and the conformance plugin need it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "bpfvm/result.hpp"
#include "vm/helper_registry.hpp"
#include "vm/interpreter.hpp"
#include "vm/program.hpp"

namespace bpfvm::tools {

enum class EngineKind { Interpreter, Jit };

/// "interp" or "jit".
Result<EngineKind> parse_engine(std::string_view name);

class EngineRunner {
 public:
  /// Registers the helpers plain programs may call (kernel ids; 5 = bpf_ktime_get_ns).
  EngineRunner();

  /// Runs once on a private copy of `mem`; checked mode confines loads/stores to the stack and it.
  Result<vm::ExecResult> run(const vm::Program& program, EngineKind engine,
                             std::span<const std::uint8_t> mem, const vm::ExecOptions& options);

  vm::HelperRegistry& helpers() { return helpers_; }

 private:
  vm::HelperRegistry helpers_;
};

}  // namespace bpfvm::tools
