// TimerQueue::run_due cost: N array values' timers, armed with distinct expiries in an order unlike
// their arming order, all due, fired by one run_due. The callback host only counts (no program runs),
// so the figure is the queue's own work per fired timer: ordering, disarming, the RunGuard entry.
#include <benchmark/benchmark.h>

#include <time.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "helpers/runtime.hpp"
#include "helpers/timer_queue.hpp"
#include "maps/map.hpp"

namespace {

using namespace bpfvm;

class CountingHost final : public helpers::TimerCallbackHost {
 public:
  Result<std::uint64_t> run_timer_callback(const vm::KeptCallback&, std::span<const std::uint64_t, 5>,
                                           std::span<const std::byte>) const override {
    ++calls;
    return std::uint64_t{0};
  }
  mutable std::uint64_t calls = 0;
};

Result<std::uint64_t> no_call(const void*, vm::RunContext&, std::uint64_t, std::span<const std::uint64_t, 5>) {
  return std::uint64_t{0};
}

void BM_run_due(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  maps::MapSpec spec;
  spec.type = maps::MapType::Array;
  spec.key_size = 4;
  spec.value_size = 16;
  spec.max_entries = n;
  spec.name = "timers";
  spec.timer_off = 0;
  auto map = maps::create_map(spec, std::make_shared<maps::RunDomain>(1));
  if (!map) {
    state.SkipWithError("create_map failed");
    return;
  }
  static constexpr std::uint64_t kNow = 1'000'000'000;
  helpers::Clocks clocks;
  clocks.monotonic_ns = clocks.boot_ns = clocks.realtime_ns = [] { return kNow; };
  auto host = std::make_shared<CountingHost>();
  const vm::KeptCallback callback{.call = no_call};
  helpers::TimerQueue queue;
  std::vector<const std::byte*> fields(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    fields[i] = static_cast<const std::byte*>((*map)->lookup(&i));
    if (queue.init(**map, fields[i], CLOCK_MONOTONIC) != 0 || queue.set_callback(fields[i], callback, host.get()) != 0) {
      state.SkipWithError("timer init failed");
      return;
    }
  }
  constexpr std::uint64_t kAbs = 1;  // BPF_F_TIMER_ABS
  for (auto _ : state) {
    state.PauseTiming();
    // Expiries interleave two runs of values (odd indices early, even late): neither arming order
    // nor its reverse.
    for (std::uint32_t i = 0; i < n; ++i) queue.start(fields[i], kNow - 1 - (i % 2 ? n - i : n + i), kAbs, clocks);
    state.ResumeTiming();
    auto fired = queue.run_due(clocks);
    if (!fired || *fired != n) state.SkipWithError("not every timer fired");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
}
BENCHMARK(BM_run_due)->Arg(1'000)->Arg(10'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
