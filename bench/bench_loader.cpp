// Loader speed: parse + relocate the example objects, and the cost of parsing a target BTF.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "loader/object.hpp"

namespace {

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

std::shared_ptr<const bpfvm::loader::CoreTarget> vmlinux() {
  static const auto parsed = [] {
    std::shared_ptr<const bpfvm::loader::CoreTarget> out;
    const auto bytes = slurp("/sys/kernel/btf/vmlinux");
    if (auto r = bpfvm::loader::CoreTarget::parse(bytes)) out = *r;
    return out;
  }();
  return parsed;
}

void load_example(benchmark::State& state, const char* name) {
  const auto bytes = slurp(std::string(BPFVM_EXAMPLES_DIR) + "/" + name + ".bpf.o");
  bpfvm::loader::LoadOptions options;
  options.core_target = vmlinux();
  options.kconfig["LINUX_KERNEL_VERSION"] = "393216";
  std::size_t insns = 0;
  for (auto _ : state) {
    auto obj = bpfvm::loader::load_object(bytes, options);
    if (!obj) {
      state.SkipWithError(obj.error().message().c_str());
      return;
    }
    insns = 0;
    for (const auto& p : obj->programs) insns += p.program.size();
    benchmark::DoNotOptimize(obj);
  }
  state.counters["insns"] = static_cast<double>(insns);
  state.counters["bytes"] = static_cast<double>(bytes.size());
}

void parse_vmlinux_btf(benchmark::State& state) {
  const auto bytes = slurp("/sys/kernel/btf/vmlinux");
  for (auto _ : state) {
    auto btf = bpfvm::loader::Btf::parse(bytes);
    benchmark::DoNotOptimize(btf);
  }
  state.counters["bytes"] = static_cast<double>(bytes.size());
}

// Parse plus the essential-name index CO-RE candidate search uses (once per target, shared by loads).
void parse_vmlinux_core_target(benchmark::State& state) {
  const auto bytes = slurp("/sys/kernel/btf/vmlinux");
  for (auto _ : state) {
    auto target = bpfvm::loader::CoreTarget::parse(bytes);
    benchmark::DoNotOptimize(target);
  }
  state.counters["bytes"] = static_cast<double>(bytes.size());
}

}  // namespace

BENCHMARK_CAPTURE(load_example, globals_subprog, "globals_subprog")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(load_example, maps, "maps")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(load_example, core_task_vmlinux, "core_task")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(load_example, xdp_parse, "xdp_parse")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(load_example, large_unrolled, "large_unrolled")->Unit(benchmark::kMicrosecond);
BENCHMARK(parse_vmlinux_btf)->Unit(benchmark::kMillisecond);
BENCHMARK(parse_vmlinux_core_target)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
