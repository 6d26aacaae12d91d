// Interpreter speed on a few programs from the conformance suite and examples/.
// Run: build/bench/bench_interpreter --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "bench/conformance_program.hpp"
#include "vm/assembler.hpp"
#include "vm/interpreter.hpp"

using namespace bpfvm;

namespace {

using Loaded = bench::ConformanceProgram;

void run_program(benchmark::State& state, const Loaded& loaded, bool checked) {
  vm::HelperRegistry helpers;
  auto in = vm::Interpreter::create(loaded.program, helpers);
  auto mem = loaded.mem;
  vm::RunContext ctx;
  const auto base = reinterpret_cast<std::uintptr_t>(mem.data());
  ctx.regions.push_back(vm::Region{base, mem.size(), true, "input"});
  const std::uint64_t args[] = {base, mem.size()};
  std::uint64_t insns = 0;
  for (auto _ : state) {
    auto r = in->run(ctx, args, {.checked = checked});
    benchmark::DoNotOptimize(r);
    insns += r->insns_executed;
  }
  state.counters["insns/s"] = benchmark::Counter(static_cast<double>(insns), benchmark::Counter::kIsRate);
}

void BM_prime(benchmark::State& state) {
  static const auto loaded = bench::load_conformance_program(BPFVM_CONFORMANCE_DIR "/tests/prime.data");
  run_program(state, loaded, state.range(0) != 0);
}
BENCHMARK(BM_prime)->Arg(0)->Arg(1)->ArgName("checked");

void BM_subnet(benchmark::State& state) {
  static const auto loaded = bench::load_conformance_program(BPFVM_CONFORMANCE_DIR "/tests/subnet.data");
  run_program(state, loaded, state.range(0) != 0);
}
BENCHMARK(BM_subnet)->Arg(0)->Arg(1)->ArgName("checked");

void BM_inet_checksum_1500(benchmark::State& state) {
  static const auto loaded = [] {
    FILE* f = std::fopen(BPFVM_SOURCE_DIR "/examples/asm/inet_checksum.s", "rb");
    std::string text;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    auto program = vm::decode_program(std::move(*vm::assemble(text)), "inet_checksum");
    Loaded l{std::move(*program), std::vector<std::uint8_t>(1500)};
    for (std::size_t i = 0; i < l.mem.size(); ++i) l.mem[i] = static_cast<std::uint8_t>(i * 7);
    return l;
  }();
  run_program(state, loaded, state.range(0) != 0);
}
BENCHMARK(BM_inet_checksum_1500)->Arg(0)->Arg(1)->ArgName("checked");

}  // namespace

BENCHMARK_MAIN();
