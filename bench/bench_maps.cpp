// Map operation cost from a program: the kernel (BPF_PROG_TEST_RUN with repeat) against bpfvm's
// interpreter and JIT in the same process, on a 1M-entry hash map (8-byte keys, all prefilled), a
// 1,024-entry array and a full 4,096-entry LRU hash. Two kinds of program:
//  - one lookup of the packet's key (always the same key: a cache-hot hit), net of the empty program;
//  - 64 operations per run on keys spread over the whole map from a random start per run (hits,
//    misses, lookup + update(BPF_ANY) of existing keys, delete + re-insert, LRU inserts that evict),
//    net of a loop with the same key arithmetic and no map call, divided by 64: ns_per_op.
// ns_base and ns_per_run are the raw figures of the baseline and the program, both measured in the
// same iteration; each counter is the minimum over iterations (the machine is shared; the minimum is
// the least disturbed). The kernel times itself (BPF_PROG_TEST_RUN's duration, which leaves out
// preemption); bpfvm is timed in thread CPU time for the same reason.
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"
#include "loader/object.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "tests/runtime/kernel_object.hpp"

namespace {

using namespace bpfvm;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kHashEntries = 1u << 20;
constexpr std::uint32_t kRepeat = 20000;  // runs per measurement of single-operation programs, both sides
constexpr std::uint32_t kLoopRepeat = 1000;  // runs per measurement of the 64-operation programs

// What one benchmark runs: the program, its baseline, and how many map operations one run does.
struct Case {
  const char* program;
  const char* baseline;
  std::uint32_t ops;
  std::uint32_t repeat() const { return ops == 1 ? kRepeat : kLoopRepeat; }
};

Bytes read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// A 64-byte packet whose first 8 bytes are the key (hash key; its low 10 bits index the array).
Bytes packet_for(std::uint64_t key) {
  Bytes p(64, 0);
  std::memcpy(p.data(), &key, sizeof key);
  return p;
}

constexpr std::uint64_t kKey = 0x12345 * 2 + 1;  // a prefilled key

// Keys 1, 3, 5, ... 2^21 - 1: the benchmark looks up one of them (a hit).
template <class Update>
void prefill_hash(Update&& update) {
  for (std::uint64_t i = 0; i < kHashEntries; ++i) {
    const std::uint64_t key = i * 2 + 1, value = i;
    update(key, value);
  }
}

struct KernelSide {
  std::optional<testing::KernelObject> object;
  std::string unavailable;
};

KernelSide& kernel_side() {
  static KernelSide side = [] {
    KernelSide s;
    if (!testing::kernel_bpf_available()) {
      s.unavailable = testing::kernel_bpf_unavailable_reason();
      return s;
    }
    auto obj = loader::load_object(read_file(BPFVM_BENCH_MAPS_OBJECT));
    if (!obj) {
      s.unavailable = obj.error().message();
      return s;
    }
    auto k = testing::KernelObject::load(*obj);
    if (!k) {
      s.unavailable = k.error().reason;
      return s;
    }
    const testing::Fd& map = *k->map("hash1m");
    prefill_hash([&](std::uint64_t key, std::uint64_t value) {
      testing::map_update(map, {reinterpret_cast<const std::uint8_t*>(&key), 8},
                          {reinterpret_cast<const std::uint8_t*>(&value), 8});
    });
    for (std::uint64_t key = 0; key < 64; ++key)
      testing::map_update(*k->map("flows"), {reinterpret_cast<const std::uint8_t*>(&key), 8},
                          {reinterpret_cast<const std::uint8_t*>(&key), 8});
    s.object = std::move(*k);
    return s;
  }();
  return side;
}

struct VmSide {
  Vm vm;
  std::optional<Object> object;
  std::string error;
};

VmSide& vm_side() {
  static VmSide side = [] {
    VmSide s;
    auto obj = s.vm.open_elf(read_file(BPFVM_BENCH_MAPS_OBJECT), {}, "bench_maps");
    if (!obj) {
      s.error = obj.error().message();
      return s;
    }
    auto map = obj->map("hash1m");
    prefill_hash([&](std::uint64_t key, std::uint64_t value) {
      if (!map->update(key, value)) s.error = "prefill failed";
    });
    for (std::uint64_t key = 0; key < 64; ++key)
      if (!obj->map("flows")->update(key, key)) s.error = "prefill failed";
    s.object = std::move(*obj);
    return s;
  }();
  return side;
}

// bpfvm's side is timed in thread CPU time, as the kernel's test-run timer leaves out the time the
// task was preempted: on a shared machine wall time would charge bpfvm for other processes' work.
double thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

void report(benchmark::State& state, const Case& c, double target_ns, double base_ns) {
  state.counters["ns_per_run"] = target_ns;
  state.counters["ns_base"] = base_ns;
  state.counters["ns_per_op"] = (target_ns - base_ns) / c.ops;
}

void BM_kernel(benchmark::State& state, Case c) {
  auto& k = kernel_side();
  if (!k.object) {
    state.SkipWithError(("kernel oracle unavailable: " + k.unavailable).c_str());
    return;
  }
  const Bytes pkt = packet_for(kKey);
  double target = 1e18, base = 1e18;
  for (auto _ : state) {
    auto e = testing::test_run(*k.object->program(c.baseline), pkt, c.repeat());
    auto t = testing::test_run(*k.object->program(c.program), pkt, c.repeat());
    if (!e || !t || t->retval != XDP_PASS) {
      state.SkipWithError("test run failed or an operation did not do what the program expects");
      return;
    }
    base = std::min<double>(base, e->duration_ns);
    target = std::min<double>(target, t->duration_ns);
    state.SetIterationTime(t->duration_ns * c.repeat() * 1e-9);
  }
  report(state, c, target, base);
}

void BM_bpfvm(benchmark::State& state, Case c, Engine engine) {
  auto& v = vm_side();
  if (!v.object || !v.error.empty()) {
    state.SkipWithError(v.error.c_str());
    return;
  }
  auto base_prog = v.object->load(c.baseline, ProgramOptions{.engine = engine});
  auto prog = v.object->load(c.program, ProgramOptions{.engine = engine});
  if (!base_prog || !prog) {
    state.SkipWithError(("load: " + (prog ? base_prog.error() : prog.error()).message()).c_str());
    return;
  }
  const Bytes pkt = packet_for(kKey);
  const RunInput in{pkt, {}, c.repeat(), nullptr};
  RunOutput e, t;
  double target = 1e18, base = 1e18;
  for (auto _ : state) {
    const double t0 = thread_cpu_ns();
    const bool base_ok = base_prog->run(in, e).has_value();
    const double t1 = thread_cpu_ns();
    const bool ok = prog->run(in, t).has_value();
    const double t2 = thread_cpu_ns();
    if (!base_ok || !ok || t.retval != XDP_PASS) {
      state.SkipWithError("run failed or an operation did not do what the program expects");
      return;
    }
    base = std::min(base, (t1 - t0) / c.repeat());
    target = std::min(target, (t2 - t1) / c.repeat());
    state.SetIterationTime((t2 - t1) * 1e-9);
  }
  report(state, c, target, base);
}

#define MAP_BENCH(name, program, baseline, ops)                                                                \
  BENCHMARK_CAPTURE(BM_kernel, name, Case{program, baseline, ops})->UseManualTime();                        \
  BENCHMARK_CAPTURE(BM_bpfvm, name##_jit, Case{program, baseline, ops}, Engine::Jit)->UseManualTime();     \
  BENCHMARK_CAPTURE(BM_bpfvm, name##_jit_opt, Case{program, baseline, ops}, Engine::JitOptimized)->UseManualTime(); \
  BENCHMARK_CAPTURE(BM_bpfvm, name##_interpreter, Case{program, baseline, ops}, Engine::Interpreter)->UseManualTime()

MAP_BENCH(hash_lookup_one_key, "hash_lookup", "empty", 1);
MAP_BENCH(array_lookup, "array_lookup", "empty", 1);
MAP_BENCH(hash_hit_random, "hash_hit64", "loop_only", 64);
MAP_BENCH(hash_miss_random, "hash_miss64", "loop_only", 64);
MAP_BENCH(hash_lookup_update_existing, "hash_update64", "loop_only", 64);
MAP_BENCH(flow_table_update_64_keys, "flow_update64", "flow_loop_only", 64);
MAP_BENCH(hash_delete_reinsert, "hash_delete_insert64", "loop_only", 64);
MAP_BENCH(lru_insert_evict, "lru_insert64", "loop_only", 64);

}  // namespace

BENCHMARK_MAIN();
