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
  /// out may hold results the held path never writes (timings, a redirect, sk_msg fields): a run
  /// through run_program or a held run that recorded a redirect. The held path clears them first.
  bool out_extra = true;

  /// run(RunInput)'s body (re-entry refused, the held run and the output's extra fields marked for
  /// renewal, run_program). Inline in both callers: each call layer costs the non-held path ~15
  /// instructions (issue #19).
  [[gnu::always_inline]] inline Result<void> run_unheld(const RunInput& input);
  /// Runner::run(data)'s other path: run_unheld, then the HeldRun prepared when it can take the
  /// next run. A separate function: the held path's frame stays small.
  [[gnu::noinline]] Result<std::uint64_t> run_and_hold(std::span<const std::uint8_t> data, void* host_data);
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

// The held path's input copy: up to 64 bytes without a call into libc (issue #19: memmove through
// the PLT was ~14 instructions of a 64-byte run). Every byte is loaded before any is stored, so `src`
// may overlap `dst` (the caller may pass output().data_out back in), as memmove allows.
inline void copy_input(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
  auto load = [](const std::uint8_t* p, auto word) {
    std::memcpy(&word, p, sizeof word);
    return word;
  };
  auto store = [](std::uint8_t* p, auto word) { std::memcpy(p, &word, sizeof word); };
  struct Block16 {
    std::uint64_t lo, hi;
  };
  if (n > 32 && n <= 64) {  // the first and the last 32 bytes
    const auto a = load(src, Block16{}), b = load(src + 16, Block16{});
    const auto c = load(src + n - 32, Block16{}), d = load(src + n - 16, Block16{});
    store(dst, a);
    store(dst + 16, b);
    store(dst + n - 32, c);
    store(dst + n - 16, d);
  } else if (n >= 16 && n <= 32) {
    const auto a = load(src, Block16{}), b = load(src + n - 16, Block16{});
    store(dst, a);
    store(dst + n - 16, b);
  } else if (n >= 8 && n < 16) {
    const auto a = load(src, std::uint64_t{}), b = load(src + n - 8, std::uint64_t{});
    store(dst, a);
    store(dst + n - 8, b);
  } else if (n != 0) {
    std::memmove(dst, src, n);
  }
}

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

Result<void> Runner::Impl::run_unheld(const RunInput& input) {
  if (state.in_use) [[unlikely]] return reentered();
  InUse in_use(state);
  held_stale = true;
  out_extra = true;
  return run_program(*program, state, input, out);
}

Result<void> Runner::run(const RunInput& input) { return impl_->run_unheld(input); }

Result<std::uint64_t> Runner::Impl::run_and_hold(std::span<const std::uint8_t> data, void* host_data) {
  if (auto ran = run_unheld(RunInput{.data = data, .host_data = host_data}); !ran) return std::move(ran).error();
  // run_program left the state set up for this input's size: the next run of this size is held.
  if (holdable && state.prepared_program != 0) {
    state.helper_run.redirect = {};  // recorded in out; the held path starts from none
    const Program::Impl& p = *program;
    if (!held) held = std::make_unique<jit::HeldRun>();
    held->prepare(*p.jit, state.ctx, vm::ExecOptions{.budget_insns = p.options.budget_insns,
                                                    .checked = p.options.checked});
    held_stale = false;
  }
  return out.r0;
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
  // held_stale covers prepared_program == 0: only run_program (through run(RunInput), which sets
  // held_stale) and a failed held run (below) reset the runner's state.
  if (r.held_stale || state.in_use || data.size() != buffer.size()) [[unlikely]]
    return r.run_and_hold(data, host_data);
  InUse in_use(state);
  // r0, retval and insns_executed are written below on either outcome; the rest only when set.
  if (r.out_extra) [[unlikely]] {
    clear_results(r.out);
    r.out_extra = false;
  }
  // The program may write its input (a plain program's is writable): it gets a copy, never the
  // caller's bytes. The caller may pass output().data_out back in: nothing to copy then.
  if (data.data() != buffer.data()) copy_input(buffer.data(), data.data(), data.size());
  // As RunState::begin_run; no redirect is recorded here (run_and_hold and a held run that recorded
  // one reset it, a failed run takes run_and_hold next).
  state.helper_run.prandom_state = 0;
  state.helper_run.embedder = host_data;
  const std::uint64_t args[] = {buffer.empty() ? 0 : reinterpret_cast<std::uintptr_t>(buffer.data()), data.size()};
  maps::RunGuard guard(*r.program->object->maps.domain());
  state.helper_run.cpu = guard.cpu();
  if (!r.held->run(args)) [[unlikely]] {
    state.prepared_program = 0;  // as run_program: the context may have stopped mid-change
    r.held_stale = true;
    r.out.r0 = 0;  // as clear_results
    r.out.retval = 0;
    r.out.insns_executed = 0;
    return r.held->take_error();
  }
  record_results(r.held->r0(), r.held->insns_executed(), state.helper_run.redirect, r.out);
  if (state.helper_run.redirect.set) [[unlikely]] {
    r.out_extra = true;
    state.helper_run.redirect = {};
  }
  return r.out.r0;
}

const RunOutput& Runner::output() const { return impl_->out; }

}  // namespace bpfvm
