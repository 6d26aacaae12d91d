// JIT speed: compile time per 1,000 instructions (target ≤ 100 µs), and run time of conformance
// programs on each variant next to the interpreter.
// Run: build/bench/bench_jit --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>

#include "bench/conformance_program.hpp"
#include "jit/jit_program.hpp"
#include "vm/interpreter.hpp"

using namespace bpfvm;

namespace {

using Loaded = bench::ConformanceProgram;

// n straight-line ALU/memory instructions (a typical mix), then exit.
vm::Program straight_line(std::size_t n) {
  std::mt19937 rng(1);
  std::vector<vm::Insn> insns;
  const auto add = isa::find_op("add", isa::Operand::Reg), mul = isa::find_op("mul", isa::Operand::Imm),
             stx = isa::find_op("stxdw", isa::Operand::Reg), ldx = isa::find_op("ldxdw", isa::Operand::Reg),
             jgt = isa::find_op("jgt", isa::Operand::Imm), mov = isa::find_op("mov", isa::Operand::Imm);
  for (std::uint8_t r = 0; r < 10; ++r) insns.push_back({isa::kOps[mov].code, r, 0, 0, r});
  while (insns.size() < n) {
    const auto k = rng() % 5;
    const auto r = static_cast<std::uint8_t>(rng() % 10), s = static_cast<std::uint8_t>(rng() % 10);
    if (k == 0) insns.push_back({isa::kOps[add].code, r, s, 0, 0});
    else if (k == 1) insns.push_back({isa::kOps[mul].code, r, 0, 0, 3});
    else if (k == 2) insns.push_back({isa::kOps[stx].code, 10, s, -8, 0});
    else if (k == 3) insns.push_back({isa::kOps[ldx].code, r, 10, -8, 0});
    else if (insns.size() + 1 < n) insns.push_back({isa::kOps[jgt].code, r, 0, 1, 5});
    else insns.push_back({isa::kOps[add].code, r, s, 0, 0});  // `jgt +1` as the last one would jump past the exit
  }
  insns.push_back({isa::kOps[isa::find_op("exit", isa::Operand::None)].code, 0, 0, 0, 0});
  auto p = vm::decode_program(std::move(insns), "straight");
  if (!p) {
    std::fprintf(stderr, "straight_line(%zu): %s\n", n, p.error().message().c_str());
    std::abort();
  }
  return *p;
}

vm::Program decoded(std::vector<vm::Insn> insns, const char* name) {
  auto p = vm::decode_program(std::move(insns), name);
  if (!p) {
    std::fprintf(stderr, "%s: %s\n", name, p.error().message().c_str());
    std::abort();
  }
  return *p;
}

// Shapes that once made a stage of the optimizing tier quadratic (jit/opt/README.md "Compile time"):
// n `ja +0` in a row, each its own empty block forwarded to the next (forwarding_targets walked the
// rest of the chain from each), and n/4 two-iteration loops in a row carrying r0 (each loop's phi
// joined the group of the one before; coalescing compared every member).
vm::Program jump_chain(std::size_t n) {
  std::vector<vm::Insn> insns;
  insns.push_back({isa::kOps[isa::find_op("mov", isa::Operand::Imm)].code, 0, 0, 0, 1});
  while (insns.size() + 1 < n) insns.push_back({isa::kOps[isa::find_op("ja", isa::Operand::None)].code, 0, 0, 0, 0});
  insns.push_back({isa::kOps[isa::find_op("exit", isa::Operand::None)].code, 0, 0, 0, 0});
  return decoded(std::move(insns), "jump_chain");
}

vm::Program loop_chain(std::size_t n) {
  const auto mov = isa::kOps[isa::find_op("mov", isa::Operand::Imm)].code,
             add = isa::kOps[isa::find_op("add", isa::Operand::Imm)].code,
             sub = isa::kOps[isa::find_op("sub", isa::Operand::Imm)].code,
             jne = isa::kOps[isa::find_op("jne", isa::Operand::Imm)].code;
  std::vector<vm::Insn> insns{{mov, 0, 0, 0, 0}};
  while (insns.size() + 5 <= n) {
    insns.push_back({mov, 1, 0, 0, 2});
    insns.push_back({add, 0, 0, 0, 1});
    insns.push_back({sub, 1, 0, 0, 1});
    insns.push_back({jne, 1, 0, -3, 0});
  }
  insns.push_back({isa::kOps[isa::find_op("exit", isa::Operand::None)].code, 0, 0, 0, 0});
  return decoded(std::move(insns), "loop_chain");
}

void BM_compile(benchmark::State& state) {
  const auto program = straight_line(static_cast<std::size_t>(state.range(0)));
  vm::HelperRegistry helpers;
  jit::JitOptions jo;
  jo.checked = state.range(1) != 0;
  for (auto _ : state) {
    auto jp = jit::JitProgram::compile(program, helpers, {}, jo);
    benchmark::DoNotOptimize(jp);
  }
  // Seconds per instruction: "100n" here means 100 µs per 1,000 instructions.
  state.counters["per_insn"] = benchmark::Counter(
      static_cast<double>(program.size()), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_compile)->Args({1000, 0})->Args({1000, 1})->Args({10000, 0})->ArgNames({"insns", "checked"});

// The optimizing tier (jit/opt/, fast variant only): lowering, passes, allocation, selection.
void compile_optimized_rounds(benchmark::State& state, const vm::Program& program) {
  vm::HelperRegistry helpers;
  jit::JitOptions jo;
  jo.optimize = true;
  for (auto _ : state) {
    auto jp = jit::JitProgram::compile(program, helpers, {}, jo);
    if (!jp || jp->tier(jit::Variant::Fast) != jit::Tier::Optimized) state.SkipWithError("not optimized");
    benchmark::DoNotOptimize(jp);
  }
  state.counters["per_insn"] = benchmark::Counter(
      static_cast<double>(program.size()), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_compile_optimized(benchmark::State& state) {
  compile_optimized_rounds(state, straight_line(static_cast<std::size_t>(state.range(0))));
}
BENCHMARK(BM_compile_optimized)->Arg(1000)->Arg(4000)->Arg(10000)->ArgName("insns");

// The optimizing tier on the shapes above (callgrind: instructions per compiled insn flat from 4,000
// to 24,000; the CPU time per insn grows some with the working set).
void BM_compile_optimized_shape(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(1));
  compile_optimized_rounds(state, state.range(0) == 0 ? jump_chain(n) : loop_chain(n));
}
BENCHMARK(BM_compile_optimized_shape)
    ->ArgsProduct({{0, 1}, {4000, 24000}})
    ->ArgNames({"loops", "insns"});  // loops:0 = ja chain, 1 = loop chain

template <class Engine>
void run_loop(benchmark::State& state, const Engine& engine, const Loaded& loaded, vm::ExecOptions opt) {
  auto mem = loaded.mem;
  vm::RunContext ctx;
  const auto base = reinterpret_cast<std::uintptr_t>(mem.data());
  ctx.regions.push_back(vm::Region{base, mem.size(), true, "input"});
  const std::uint64_t args[] = {base, mem.size()};
  for (auto _ : state) {
    auto r = engine.run(ctx, args, opt);
    benchmark::DoNotOptimize(r);
  }
}

// range(0): 0 = interpreter, 1 = JIT fast, 2 = JIT counted (budget), 3 = JIT checked; the
// optimizing tier (fast): 4 = every pass, 5 = no constant folding, 6 = no zext removal, 7 = no DCE.
void run_program(benchmark::State& state, const Loaded& loaded) {
  vm::HelperRegistry helpers;
  vm::ExecOptions opt;
  opt.checked = state.range(0) == 3;
  opt.budget_insns = state.range(0) == 2 ? 1'000'000'000 : 0;
  if (state.range(0) == 0) {
    auto in = vm::Interpreter::create(loaded.program, helpers);
    run_loop(state, *in, loaded, opt);
  } else {
    jit::JitOptions jo;
    jo.optimize = state.range(0) >= 4;
    jo.passes.fold_constants = state.range(0) != 5;
    jo.passes.remove_zext = state.range(0) != 6;
    jo.passes.dce = state.range(0) != 7;
    auto jp = jit::JitProgram::compile(loaded.program, helpers, {}, jo);
    if (jo.optimize && jp->tier(jit::Variant::Fast) != jit::Tier::Optimized) state.SkipWithError("not optimized");
    run_loop(state, *jp, loaded, opt);
  }
}

void BM_prime(benchmark::State& state) {
  static const auto loaded = bench::load_conformance_program(BPFVM_CONFORMANCE_DIR "/tests/prime.data");
  run_program(state, loaded);
}
BENCHMARK(BM_prime)->DenseRange(0, 7)->ArgName("engine");

void BM_subnet(benchmark::State& state) {
  static const auto loaded = bench::load_conformance_program(BPFVM_CONFORMANCE_DIR "/tests/subnet.data");
  run_program(state, loaded);
}
BENCHMARK(BM_subnet)->DenseRange(0, 7)->ArgName("engine");

}  // namespace

BENCHMARK_MAIN();
