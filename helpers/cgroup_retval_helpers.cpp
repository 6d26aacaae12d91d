// bpf_get_retval / bpf_set_retval: the cgroup hook's return value (struct bpf_cg_run_ctx's retval),
// which the run reports as RunOutput::cgroup_retval (api/program.cpp).
#include <linux/bpf.h>

#include <cstring>

#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

HelperRun* run_state(vm::RunContext* run) { return static_cast<HelperRun*>(run->host); }

// The int the kernel returns, sign-extended into r0.
std::uint64_t get_retval(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                         vm::RunContext* run) {
  const HelperRun* hr = run_state(run);
  if (hr == nullptr) return fault(run, "bpf_get_retval needs the run's helper state");
  std::int32_t retval = hr->cgroup_retval;
  if (hr->cgroup_retval_field != nullptr) std::memcpy(&retval, hr->cgroup_retval_field, sizeof retval);
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(retval));
}

// bpf_set_retval(int retval): stores it; 0. (The kernel checks nothing: any int is kept.)
std::uint64_t set_retval(std::uint64_t retval, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                         vm::RunContext* run) {
  HelperRun* hr = run_state(run);
  if (hr == nullptr) return fault(run, "bpf_set_retval needs the run's helper state");
  const auto value = static_cast<std::int32_t>(static_cast<std::uint32_t>(retval));
  hr->cgroup_retval = value;
  if (hr->cgroup_retval_field != nullptr) std::memcpy(hr->cgroup_retval_field, &value, sizeof value);
  return 0;
}

}  // namespace

void add_cgroup_retval_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_get_retval, "bpf_get_retval", get_retval, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_set_retval, "bpf_set_retval", set_retval, rt, RetType::Integer, {ArgType::Anything}));
}

}  // namespace bpfvm::helpers::detail
