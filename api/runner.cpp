// Runner: a host-held RunState and RunOutput for per-event runs of one program (run_program does the
// run; a plain JIT program's later runs on an input of the same size take the held path below).
#include <cstring>

#include "api/impl.hpp"
#include "jit/native_run.hpp"
#include "maps/run_domain.hpp"

namespace bpfvm {

struct Runner::Impl {
  std::shared_ptr<const Program::Impl> program;  // keeps the program, its object and maps alive
  RunState state;
  RunOutput out;
  /// Plain JIT programs (input in r1, length in r2; no context fields to fill): the JIT entry kept
  /// set up on state.ctx, made on the first run (it holds the run's stack, ~20 KiB).
  bool holdable = false;
  std::unique_ptr<jit::HeldRun> held;
  /// A run_program call since held was prepared (it may have reset the context's JIT hooks).
  bool held_stale = true;
};

namespace {
// Marks the runner's state in use for one run; a run re-entering it (from a helper) is refused.
class InUse {
 public:
  explicit InUse(RunState& s) : s_(s) { s_.in_use = true; }
  ~InUse() { s_.in_use = false; }
  InUse(const InUse&) = delete;
  InUse& operator=(const InUse&) = delete;

 private:
  RunState& s_;
};

Error reentered() {
  return make_error(Errc::InvalidArgument, "Runner::run re-entered from its own run (a Runner is not re-entrant)");
}
}  // namespace

Runner::Runner(const Program& program) : impl_(std::make_unique<Impl>()) {
  const Program::Impl& p = *program.impl_;
  impl_->program = program.impl_;
  impl_->holdable = p.jit && !p.interpreter && p.plain_input && !p.packet_type && p.ctx_pointer_fields.empty() &&
                    p.run_refusal.empty();
}
Runner::Runner(Runner&&) noexcept = default;
Runner& Runner::operator=(Runner&&) noexcept = default;
Runner::~Runner() = default;

Runner Program::runner() const { return Runner(*this); }

Result<void> Runner::run(const RunInput& input) {
  Impl& r = *impl_;
  if (r.state.in_use) [[unlikely]] return reentered();
  InUse in_use(r.state);
  r.held_stale = true;
  return run_program(*r.program, r.state, input, r.out);
}

// The held path: what run_program does for a plain program whose state is set up for this buffer
// (the input copied into data_out, the helper state's per-run fields, a CPU slot, results), with
// the JIT entered through the held JitState and one Result. The first run, another input size, a
// failed run (the state is reset), a re-entered call and any run(RunInput) since the last held
// preparation take run(RunInput) instead (a successful one prepares the HeldRun again).
Result<std::uint64_t> Runner::run(std::span<const std::uint8_t> data, void* host_data) {
  Impl& r = *impl_;
  RunState& state = r.state;
  std::vector<std::uint8_t>& buffer = r.out.data_out;
  if (r.held_stale || state.prepared_program == 0 || state.in_use || data.size() != buffer.size()) [[unlikely]] {
    if (auto ran = run(RunInput{.data = data, .host_data = host_data}); !ran) return std::move(ran).error();
    // run_program left the state set up for this input's size: the next run of this size is held.
    if (r.holdable && state.prepared_program != 0) {
      const Program::Impl& p = *r.program;
      if (!r.held) r.held = std::make_unique<jit::HeldRun>();
      r.held->prepare(*p.jit, state.ctx, vm::ExecOptions{.budget_insns = p.options.budget_insns,
                                                        .checked = p.options.checked});
      r.held_stale = false;
    }
    return r.out.r0;
  }
  InUse in_use(state);
  clear_results(r.out);
  // The program may write its input (a plain program's is writable): it gets a copy, never the
  // caller's bytes. memmove: the caller may pass output().data_out back in.
  if (!data.empty()) std::memmove(buffer.data(), data.data(), data.size());
  state.begin_run(host_data);
  const std::uint64_t args[] = {buffer.empty() ? 0 : reinterpret_cast<std::uintptr_t>(buffer.data()), data.size()};
  maps::RunGuard guard(*r.program->object->maps.domain());
  state.helper_run.cpu = guard.cpu();
  if (!r.held->run(args)) [[unlikely]] {
    state.prepared_program = 0;  // as run_program: the context may have stopped mid-change
    return r.held->take_error();
  }
  record_results(r.held->r0(), r.held->insns_executed(), state.helper_run.redirect, r.out);
  return r.out.r0;
}

const RunOutput& Runner::output() const { return impl_->out; }

}  // namespace bpfvm
