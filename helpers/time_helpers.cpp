// Time, randomness and CPU helpers; also the host defaults of Clocks.
#include <linux/bpf.h>
#include <time.h>

#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers {

namespace {
std::uint64_t read_clock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}
}  // namespace

Clocks Clocks::host() {
  Clocks c;
  c.monotonic_ns = [] { return read_clock(CLOCK_MONOTONIC); };
  c.boot_ns = [] { return read_clock(CLOCK_BOOTTIME); };
  c.coarse_ns = [] { return read_clock(CLOCK_MONOTONIC_COARSE); };
  c.tai_ns = [] { return read_clock(CLOCK_TAI); };
  c.realtime_ns = [] { return read_clock(CLOCK_REALTIME); };
  return c;
}

namespace detail {
namespace {

using vm::ArgType;
using vm::RetType;

#define BPFVM_NOARGS std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t

std::uint64_t ktime_get_ns(BPFVM_NOARGS, vm::RunContext* run) { return runtime_of(run).clocks.monotonic_ns(); }
std::uint64_t ktime_get_boot_ns(BPFVM_NOARGS, vm::RunContext* run) { return runtime_of(run).clocks.boot_ns(); }
std::uint64_t ktime_get_coarse_ns(BPFVM_NOARGS, vm::RunContext* run) { return runtime_of(run).clocks.coarse_ns(); }
std::uint64_t ktime_get_tai_ns(BPFVM_NOARGS, vm::RunContext* run) { return runtime_of(run).clocks.tai_ns(); }

// jiffies64: ticks of CONFIG_HZ since boot. The kernel starts jiffies at INITIAL_JIFFIES
// (-300 s worth, wrapping the 32-bit value early); we count from boot, which programs can't tell apart
// except by the absolute value.
std::uint64_t jiffies64(BPFVM_NOARGS, vm::RunContext* run) {
  const auto& c = runtime_of(run).clocks;
  return c.boot_ns() / (1'000'000'000ull / c.hz);
}

// splitmix64: each run gets its own stream (seeded from the runtime seed, the run's address and
// the clock), like the kernel's per-CPU prandom state. Not for cryptography, as in the kernel.
std::uint64_t get_prandom_u32(BPFVM_NOARGS, vm::RunContext* run) {
  HelperRun* s = run_state(run);
  std::uint64_t local = 0;
  std::uint64_t& st = s ? s->prandom_state : local;
  if (st == 0) {
    const auto& rt = runtime_of(run);
    st = (rt.prandom_seed ? rt.prandom_seed : rt.clocks.monotonic_ns()) ^ reinterpret_cast<std::uintptr_t>(run);
    if (st == 0) st = 1;
  }
  std::uint64_t z = (st += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<std::uint32_t>(z ^ (z >> 31));
}

std::uint64_t get_smp_processor_id(BPFVM_NOARGS, vm::RunContext* run) {
  const HelperRun* s = run_state(run);
  return s ? s->cpu : 0;
}

std::uint64_t get_numa_node_id(BPFVM_NOARGS, vm::RunContext*) { return 0; }

#undef BPFVM_NOARGS

}  // namespace

void add_time_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_ktime_get_ns, "bpf_ktime_get_ns", ktime_get_ns, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_ktime_get_boot_ns, "bpf_ktime_get_boot_ns", ktime_get_boot_ns, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_ktime_get_coarse_ns, "bpf_ktime_get_coarse_ns", ktime_get_coarse_ns, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_ktime_get_tai_ns, "bpf_ktime_get_tai_ns", ktime_get_tai_ns, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_jiffies64, "bpf_jiffies64", jiffies64, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_get_prandom_u32, "bpf_get_prandom_u32", get_prandom_u32, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_get_smp_processor_id, "bpf_get_smp_processor_id", get_smp_processor_id, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_get_numa_node_id, "bpf_get_numa_node_id", get_numa_node_id, rt, RetType::Integer, {}));
}

}  // namespace detail
}  // namespace bpfvm::helpers
