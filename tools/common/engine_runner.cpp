// EngineRunner: the tools' way to run a plain program on the interpreter or a JIT.
#include "tools/common/engine_runner.hpp"

#include <ctime>
#include <vector>


namespace bpfvm::tools {

namespace {
std::uint64_t ktime_get_ns(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                           vm::RunContext*) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}
}  // namespace

Result<EngineKind> parse_engine(std::string_view name) {
  if (name == "interp") return EngineKind::Interpreter;
  if (name == "jit") return EngineKind::Jit;
  return make_error(Errc::InvalidArgument, "unknown engine '" + std::string(name) + "' (interp|jit)");
}

EngineRunner::EngineRunner() {
  helpers_.add(vm::HelperEntry{5, "bpf_ktime_get_ns", &ktime_get_ns, nullptr, {}});
}

Result<void> EngineRunner::prepare(const vm::Program& program, EngineKind engine) {
  engine_ = engine;
  switch (engine) {
    case EngineKind::Interpreter: {
      auto in = vm::Interpreter::create(program, helpers_);
      if (!in) return std::move(in).error();
      interpreter_.emplace(std::move(*in));
      return {};
    }
    case EngineKind::Jit: {
#if BPFVM_HAVE_JIT
      // Builds the fast variant now; run() builds the checked/counted one on first use.
      auto jp = jit::JitProgram::compile(program, helpers_);
      if (!jp) return std::move(jp).error();
      jit_.emplace(std::move(*jp));
      return {};
#else
      return make_error(Errc::Unsupported, "engine not built: the JIT is not available yet");
#endif
    }
  }
  return make_error(Errc::Internal, "unknown engine");
}

Result<vm::ExecResult> EngineRunner::run(std::span<const std::uint8_t> mem, const vm::ExecOptions& options) const {
  std::vector<std::uint8_t> copy(mem.begin(), mem.end());
  vm::RunContext ctx;
  const auto base = reinterpret_cast<std::uintptr_t>(copy.data());
  ctx.regions.push_back(vm::Region{base, copy.size(), true, "input"});
  const std::uint64_t args[] = {copy.empty() ? 0 : base, copy.size()};
  switch (engine_) {
    case EngineKind::Interpreter:
      if (!interpreter_) break;
      return interpreter_->run(ctx, args, options);
    case EngineKind::Jit:
#if BPFVM_HAVE_JIT
      if (!jit_) break;
      return jit_->run(ctx, args, options);
#else
      break;
#endif
  }
  return make_error(Errc::InvalidArgument, "run before a successful prepare");
}

}  // namespace bpfvm::tools
