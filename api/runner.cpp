// Runner: a host-held RunState and RunOutput for per-event runs of one program (run_program does the run).
#include "api/impl.hpp"

namespace bpfvm {

struct Runner::Impl {
  std::shared_ptr<const Program::Impl> program;  // keeps the program, its object and maps alive
  RunState state;
  RunOutput out;
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

Runner::Runner(const Program& program) : impl_(std::make_unique<Impl>()) { impl_->program = program.impl_; }
Runner::Runner(Runner&&) noexcept = default;
Runner& Runner::operator=(Runner&&) noexcept = default;
Runner::~Runner() = default;

Runner Program::runner() const { return Runner(*this); }

Result<void> Runner::run(const RunInput& input) {
  Impl& r = *impl_;
  if (r.state.in_use) [[unlikely]] return reentered();
  InUse in_use(r.state);
  return run_program(*r.program, r.state, input, r.out);
}

Result<std::uint64_t> Runner::run(std::span<const std::uint8_t> data, void* host_data) {
  if (auto ran = run(RunInput{.data = data, .host_data = host_data}); !ran) [[unlikely]]
    return std::move(ran).error();
  return impl_->out.r0;
}

const RunOutput& Runner::output() const { return impl_->out; }

}  // namespace bpfvm
