// Per-call cost of running a program through the public API once per event (the embedder's case):
// a trivial program, called with repeat = 1 in a loop, through the C++ API (reused RunOutput, and the
// allocating Result<RunOutput> form for comparison), the host-held Runner (C++ Runner::run, C
// bpfvm_runner_run) and the C API (bpfvm_program_run, bpfvm_program_test_run with caller buffers). Google Benchmark's time per iteration is the figure.
// Also the fuzzing harness's throughput (what `bpfvm fuzz` does per input: mutate, checked run with
// edge coverage, map restore, JIT comparison on new coverage) on the XDP examples.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <optional>
#include <utility>
#include <vector>

#include "bpfvm/bpfvm.h"
#include "bpfvm/bpfvm.hpp"
#include "bpfvm/fuzz.hpp"
#include "helpers/runtime.hpp"

namespace {

using namespace bpfvm;

// r0 = the first input byte: trivial, but it reads its input so nothing is folded away.
constexpr const char* kPlain = "ldxb %r0, [%r1+0]\nexit\n";
// An XDP program that returns XDP_PASS (the "empty XDP program").
constexpr const char* kXdp = "mov %r0, 2\nexit\n";

struct Loaded {
  Vm vm;
  std::optional<Object> object;
  std::optional<Program> program;
};

Loaded& loaded(bool xdp, Engine engine) {
  static Loaded cells[2][2];
  Loaded& l = cells[xdp][engine == Engine::Jit];
  if (!l.program) {
    auto type = xdp ? *ProgramType::kernel(6) : ProgramType::plain(64);
    auto obj = l.vm.open_assembly(xdp ? kXdp : kPlain, type, "p");
    l.object.emplace(std::move(*obj));
    auto prog = l.object->load("p", ProgramOptions{.engine = engine});
    l.program.emplace(std::move(*prog));
  }
  return l;
}

const std::vector<std::uint8_t> kInput(64, 7);

void BM_cpp_run_reused(benchmark::State& state, bool xdp, Engine engine) {
  const Program& p = *loaded(xdp, engine).program;
  const RunInput in{kInput, {}, 1, nullptr};
  RunOutput out;
  for (auto _ : state) {
    auto r = p.run(in, out);
    if (!r) state.SkipWithError(r.error().reason.c_str());
    benchmark::DoNotOptimize(out.r0);
  }
}

// A host-held Runner (the per-event form): input in, r0 out.
void BM_cpp_runner(benchmark::State& state, bool xdp, Engine engine) {
  Runner runner = loaded(xdp, engine).program->runner();
  for (auto _ : state) {
    auto r = runner.run(kInput);
    if (!r) state.SkipWithError(r.error().reason.c_str());
    benchmark::DoNotOptimize(*r);
  }
}

void BM_cpp_run_result(benchmark::State& state, bool xdp, Engine engine) {
  const Program& p = *loaded(xdp, engine).program;
  const RunInput in{kInput, {}, 1, nullptr};
  for (auto _ : state) {
    auto r = p.run(in);
    if (!r) state.SkipWithError(r.error().reason.c_str());
    benchmark::DoNotOptimize(r->r0);
  }
}

// Inside one call: the same program repeated; the engine's own per-run cost, for comparison.
void BM_cpp_repeat_inside(benchmark::State& state, bool xdp, Engine engine) {
  const Program& p = *loaded(xdp, engine).program;
  constexpr std::uint32_t kRepeat = 100000;
  const RunInput in{kInput, {}, kRepeat, nullptr};
  RunOutput out;
  for (auto _ : state) {
    auto r = p.run(in, out);
    if (!r) state.SkipWithError(r.error().reason.c_str());
    state.SetIterationTime(out.ns_per_run * 1e-9);
  }
}

struct CProgram {
  bpfvm_vm* vm = nullptr;
  bpfvm_object* object = nullptr;
  bpfvm_program* program = nullptr;
};

CProgram& c_program(bool xdp, int engine) {
  static CProgram cells[2][2];
  CProgram& c = cells[xdp][engine];
  if (c.program == nullptr) {
    bpfvm_error err;
    bpfvm_vm_create(0, &c.vm, &err);
    bpfvm_vm_open_assembly(c.vm, xdp ? kXdp : kPlain, xdp ? 6 /* BPF_PROG_TYPE_XDP */ : 0, 64, "p", &c.object, &err);
    bpfvm_program_options o = BPFVM_PROGRAM_OPTIONS_DEFAULT;
    o.engine = engine;
    if (bpfvm_object_load(c.object, "p", &o, &c.program, &err) != BPFVM_OK) c.program = nullptr;
  }
  return c;
}

void BM_c_program_run(benchmark::State& state, int engine) {
  bpfvm_program* p = c_program(false, engine).program;
  if (p == nullptr) return state.SkipWithError("load failed");
  std::uint64_t r0 = 0;
  for (auto _ : state) {
    if (bpfvm_program_run(p, kInput.data(), kInput.size(), &r0, nullptr) != BPFVM_OK) state.SkipWithError("run failed");
    benchmark::DoNotOptimize(r0);
  }
}

void BM_c_runner(benchmark::State& state, bool xdp, int engine) {
  bpfvm_program* p = c_program(xdp, engine).program;
  if (p == nullptr) return state.SkipWithError("load failed");
  bpfvm_runner* runner = nullptr;
  if (bpfvm_runner_new(p, &runner, nullptr) != BPFVM_OK) return state.SkipWithError("runner failed");
  std::uint64_t r0 = 0;
  for (auto _ : state) {
    if (bpfvm_runner_run(runner, kInput.data(), kInput.size(), &r0, nullptr) != BPFVM_OK) state.SkipWithError("run failed");
    benchmark::DoNotOptimize(r0);
  }
  bpfvm_runner_destroy(runner);
}

void BM_c_test_run(benchmark::State& state, bool xdp, int engine) {
  bpfvm_program* p = c_program(xdp, engine).program;
  if (p == nullptr) return state.SkipWithError("load failed");
  std::vector<std::uint8_t> data_out(256), ctx_out(256);
  bpfvm_test_run run{};
  run.data_in = kInput.data();
  run.data_size_in = kInput.size();
  for (auto _ : state) {
    run.data_out = data_out.data();
    run.data_size_out = data_out.size();
    run.ctx_out = ctx_out.data();
    run.ctx_size_out = ctx_out.size();
    if (bpfvm_program_test_run(p, &run, nullptr) != BPFVM_OK) state.SkipWithError("run failed");
    benchmark::DoNotOptimize(run.r0);
  }
}

void BM_fuzz_harness(benchmark::State& state, const char* object, const char* program) {
  auto h = fuzz::Harness::open(std::string(BPFVM_EXAMPLES_DIR) + "/" + object, program);
  if (!h) return state.SkipWithError(h.error().message().c_str());
  // An IPv4/UDP frame to mutate from, as a corpus entry would be.
  std::uint8_t base[64] = {};
  base[12] = 0x08, base[14] = 0x45, base[23] = 17;
  std::uint8_t input[256];
  unsigned seed = 1;
  for (auto _ : state) {
    std::memcpy(input, base, sizeof base);
    const std::size_t size = h->mutate(input, sizeof base, sizeof input, seed++);
    auto verdict = h->run({input, size});
    benchmark::DoNotOptimize(verdict.retval);
  }
  state.counters["execs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["insns"] = static_cast<double>(h->program().bytecode().size() / 8);
}

// Creating a Vm, an embedder's cost per plugin instance: its helper table and helper runtime. It reads
// nothing of the process (helpers/process_identity.hpp: the task, netns cookies and cgroup are read when
// a helper first asks).
void BM_vm_create(benchmark::State& state) {
  for (auto _ : state) {
    Vm vm;
    benchmark::DoNotOptimize(&vm);
  }
}

// A host-held run of a program calling bpf_get_current_cgroup_id `calls` times: the calling thread's
// cgroup chain is read at the run's first call (/proc/thread-self/cgroup and a stat per level), then kept
// for the run.
void BM_cgroup_id_run(benchmark::State& state, int calls) {
  std::string text;
  for (int i = 0; i < calls; ++i) text += "call 80\n";
  text += "exit\n";
  Vm vm;
  auto obj = vm.open_assembly(text, ProgramType::plain(64), "p");
  if (!obj) return state.SkipWithError(obj.error().message().c_str());
  auto prog = obj->load("p", ProgramOptions{.engine = Engine::Jit});
  if (!prog) return state.SkipWithError(prog.error().message().c_str());
  Runner runner = prog->runner();
  for (auto _ : state) {
    auto r = runner.run(kInput);
    if (!r) return state.SkipWithError(r.error().reason.c_str());
    benchmark::DoNotOptimize(*r);
  }
}

// What a re-read of the calling thread's cgroup chain costs (helpers::ProcessIdentity::cgroup_ids, once
// per kCgroupRereadNs per run state): the /proc read and one stat when the path is the one read before
// (`same_path`), the /proc read and a stat per level when it is not.
void BM_cgroup_chain_reread(benchmark::State& state, bool same_path) {
  const helpers::ProcessIdentity process;
  helpers::HelperRun run;
  std::vector<std::uint64_t> scratch;
  for (auto _ : state) {
    run.cgroup_read_ns = 0;
    if (!same_path) run.cgroup_path.clear();
    benchmark::DoNotOptimize(process.cgroup_ids(&run, scratch).data());
  }
  state.counters["levels"] = static_cast<double>(run.cgroup_ids.size());
}

constexpr int kInterp = BPFVM_ENGINE_INTERPRETER, kJit = BPFVM_ENGINE_JIT;

BENCHMARK_CAPTURE(BM_cpp_run_reused, plain_jit, false, Engine::Jit);
BENCHMARK_CAPTURE(BM_cpp_run_reused, plain_interpreter, false, Engine::Interpreter);
BENCHMARK_CAPTURE(BM_cpp_run_result, plain_jit, false, Engine::Jit);
BENCHMARK_CAPTURE(BM_cpp_runner, plain_jit, false, Engine::Jit);
BENCHMARK_CAPTURE(BM_cpp_runner, plain_interpreter, false, Engine::Interpreter);
BENCHMARK_CAPTURE(BM_c_runner, plain_jit, false, kJit);
BENCHMARK_CAPTURE(BM_c_runner, plain_interpreter, false, kInterp);
BENCHMARK_CAPTURE(BM_cpp_repeat_inside, plain_jit, false, Engine::Jit)->UseManualTime()->Iterations(20);
BENCHMARK_CAPTURE(BM_c_program_run, plain_jit, kJit);
BENCHMARK_CAPTURE(BM_c_program_run, plain_interpreter, kInterp);
BENCHMARK_CAPTURE(BM_c_test_run, plain_jit, false, kJit);
BENCHMARK_CAPTURE(BM_cpp_run_reused, xdp_jit, true, Engine::Jit);
BENCHMARK_CAPTURE(BM_cpp_run_result, xdp_jit, true, Engine::Jit);
BENCHMARK_CAPTURE(BM_cpp_runner, xdp_jit, true, Engine::Jit);
BENCHMARK_CAPTURE(BM_cpp_runner, xdp_interpreter, true, Engine::Interpreter);
BENCHMARK_CAPTURE(BM_c_runner, xdp_jit, true, kJit);
BENCHMARK_CAPTURE(BM_c_runner, xdp_interpreter, true, kInterp);
BENCHMARK_CAPTURE(BM_cpp_repeat_inside, xdp_jit, true, Engine::Jit)->UseManualTime()->Iterations(20);
BENCHMARK_CAPTURE(BM_c_test_run, xdp_jit, true, kJit);
BENCHMARK_CAPTURE(BM_c_test_run, xdp_interpreter, true, kInterp);
BENCHMARK_CAPTURE(BM_fuzz_harness, xdp_parse, "xdp_parse.bpf.o", "xdp_count");
BENCHMARK(BM_vm_create);
BENCHMARK_CAPTURE(BM_cgroup_id_run, one_call, 1);
BENCHMARK_CAPTURE(BM_cgroup_id_run, four_calls, 4);
BENCHMARK_CAPTURE(BM_cgroup_chain_reread, same_path, true);
BENCHMARK_CAPTURE(BM_cgroup_chain_reread, new_path, false);

}  // namespace

BENCHMARK_MAIN();
