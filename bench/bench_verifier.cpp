// Verifier speed: bpfvm's verification time per program (the clang-built examples, the
// tests/verifier/accept suite, the large programs of bench/programs_verifier) next to the kernel's own
// verification time for the same programs.
//
//   bpfvm/<program>   verifier::verify (suite files) or Object::load's VerifierReport::time_us (ELF
//                     programs; manual time, so interpreter preparation is not counted).
//   kernel/<program>  BPF_PROG_LOAD with log_level BPF_LOG_STATS; the iteration time is the log's
//                     "verification time N usec" (1 us resolution), `wall_us` the whole syscall (JIT
//                     included), `processed` the log's "processed N insns". Skipped without bpf().
// Suite files are loaded into the kernel as tests/verifier/test_kernel_verdicts.cpp does (plain
// programs: a socket filter whose first slots set r1/r2 to a map value of `mem` bytes); files the
// kernel refuses are reported as errors, not timed.
#include <benchmark/benchmark.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"
#include "loader/object.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "tests/runtime/kernel_object.hpp"
#include "tests/verifier/complexity_programs.hpp"
#include "tests/verifier/verifier_test_support.hpp"
#include "verifier/verifier.hpp"
#include "vm/data_file.hpp"
#include "vm/isa.hpp"
#include "vm/program.hpp"

using namespace bpfvm;

namespace {

constexpr std::uint8_t kLddwCode = 0x18;
constexpr std::uint8_t kCallCode = 0x85;
constexpr std::uint32_t kLogStats = 4;  // BPF_LOG_STATS

std::vector<std::uint8_t> slurp(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

std::vector<std::filesystem::path> files_with(const std::filesystem::path& dir, const std::string& ext) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

int create_map(std::uint32_t type, std::uint32_t key_size, std::uint32_t value_size, std::uint32_t max_entries,
               std::uint32_t flags, int inner_fd = -1) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_type = type;
  attr.key_size = key_size;
  attr.value_size = value_size;
  attr.max_entries = max_entries;
  attr.map_flags = flags;
  if (inner_fd >= 0) attr.inner_map_fd = static_cast<std::uint32_t>(inner_fd);
  const long fd = syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
  return fd < 0 ? -errno : static_cast<int>(fd);
}

/// A program ready for BPF_PROG_LOAD: patched instructions, the maps and BTF it refers to.
struct KernelProgram {
  bpf_prog_type type = BPF_PROG_TYPE_SOCKET_FILTER;
  std::uint32_t expected_attach_type = 0;
  std::vector<vm::Insn> insns;
  std::vector<testing::Fd> maps;  // kept open while the program is loaded
  testing::Fd btf;
  std::vector<bpf_func_info> func_info;
  std::string error;  // why it could not be prepared
};

void patch_maps(std::vector<vm::Insn>& insns, std::size_t from, const std::vector<int>& fds, std::string& error) {
  for (std::size_t pc = from; pc + 1 < insns.size(); ++pc) {
    auto& in = insns[pc];
    if (in.code != kLddwCode) continue;
    const auto src = static_cast<isa::LddwSrc>(in.src);
    const bool fd = src == isa::LddwSrc::MapFd || src == isa::LddwSrc::MapIdx;
    const bool value = src == isa::LddwSrc::MapValue || src == isa::LddwSrc::MapIdxValue;
    if (fd || value) {
      const auto index = static_cast<std::size_t>(in.imm);
      if (index >= fds.size() || fds[index] < 0) {
        error = "no map " + std::to_string(index);
        return;
      }
      in.src = static_cast<std::uint8_t>(fd ? isa::LddwSrc::MapFd : isa::LddwSrc::MapValue);
      in.imm = fds[index];
    }
    ++pc;
  }
}

/// func_info for programs taking a function's address (bpf_loop callbacks need it in the kernel).
void add_func_info(KernelProgram& k) {
  std::vector<std::uint32_t> starts{0};
  bool pseudo_func = false;
  for (std::size_t pc = 0; pc < k.insns.size(); ++pc) {
    const auto& in = k.insns[pc];
    const auto target = static_cast<std::int64_t>(pc) + 1 + in.imm;
    if (in.code == kCallCode && in.src == 1) starts.push_back(static_cast<std::uint32_t>(target));
    if (in.code == kLddwCode) {
      if (in.src == static_cast<std::uint8_t>(isa::LddwSrc::Func)) {
        pseudo_func = true;
        starts.push_back(static_cast<std::uint32_t>(target));
      }
      ++pc;
    }
  }
  if (!pseudo_func) return;
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  std::vector<std::string> names;
  for (std::size_t i = 0; i < starts.size(); ++i) names.push_back("f" + std::to_string(i));
  std::vector<loader::FuncInfo> funcs;
  for (std::size_t i = 0; i < starts.size(); ++i) funcs.push_back({starts[i], 0, names[i]});
  auto btf = testing::load_btf(testing::func_info_btf(funcs, k.func_info));
  if (!btf) {
    k.error = btf.error().message();
    return;
  }
  k.btf = std::move(*btf);
}

struct KernelStats {
  bool ok = false;
  double verification_us = 0, wall_us = 0, processed = 0;
  std::string error;
};

double number_after(const std::string& log, const std::string& key) {
  const auto at = log.rfind(key);
  return at == std::string::npos ? -1 : std::strtod(log.c_str() + at + key.size(), nullptr);
}

KernelStats kernel_load(const KernelProgram& k) {
  KernelStats s;
  const auto bytes = vm::encode_program(k.insns);
  static constexpr char kLicense[] = "GPL";
  std::string log(1u << 16, '\0');
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = k.type;
  attr.expected_attach_type = k.expected_attach_type;
  attr.insns = reinterpret_cast<std::uintptr_t>(bytes.data());
  attr.insn_cnt = static_cast<std::uint32_t>(k.insns.size());
  attr.license = reinterpret_cast<std::uintptr_t>(kLicense);
  attr.log_level = kLogStats;
  attr.log_buf = reinterpret_cast<std::uintptr_t>(log.data());
  attr.log_size = static_cast<std::uint32_t>(log.size());
  if (k.btf.valid()) {
    attr.prog_btf_fd = static_cast<std::uint32_t>(k.btf.get());
    attr.func_info = reinterpret_cast<std::uintptr_t>(k.func_info.data());
    attr.func_info_cnt = static_cast<std::uint32_t>(k.func_info.size());
    attr.func_info_rec_size = sizeof(bpf_func_info);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const long fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
  const auto t1 = std::chrono::steady_clock::now();
  if (fd < 0) {
    s.error = "BPF_PROG_LOAD: " + std::string(std::strerror(errno));
    return s;
  }
  close(static_cast<int>(fd));
  log.resize(std::strlen(log.c_str()));
  s.ok = true;
  s.wall_us = std::chrono::duration<double, std::micro>(t1 - t0).count();
  s.verification_us = number_after(log, "verification time ");
  s.processed = number_after(log, "processed ");
  return s;
}

void bench_kernel(benchmark::State& state, std::shared_ptr<KernelProgram> k) {
  if (!testing::kernel_bpf_available()) {
    state.SkipWithError(("no bpf(): " + testing::kernel_bpf_unavailable_reason()).c_str());
    return;
  }
  if (!k->error.empty()) {
    state.SkipWithError(k->error.c_str());
    return;
  }
  KernelStats last;
  double wall = 0;
  for (auto _ : state) {
    last = kernel_load(*k);
    if (!last.ok) {
      state.SkipWithError(last.error.c_str());
      return;
    }
    wall += last.wall_us;
    state.SetIterationTime(std::max(last.verification_us, 0.0) * 1e-6);
  }
  state.counters["wall_us"] = wall / static_cast<double>(state.iterations());
  state.counters["processed"] = last.processed;
  state.counters["insns"] = static_cast<double>(k->insns.size());
}

// ---------------------------------------------------------------------------------------------------
// Suite files.

struct SuiteFile {
  std::string name;
  vm::Program program;
  verifier::VerifierOptions options;
};

std::shared_ptr<KernelProgram> kernel_program_for_file(const std::string& name, const vm::DataFile& file,
                                                       const std::vector<vm::Insn>& body,
                                                       const std::vector<int>& suite_fds) {
  auto k = std::make_shared<KernelProgram>();
  auto starts = [&](const char* p) { return name.rfind(p, 0) == 0; };
  bool plain = false;
  if (starts("xdp-")) k->type = BPF_PROG_TYPE_XDP;
  else if (starts("tc-")) k->type = BPF_PROG_TYPE_SCHED_CLS;
  else if (starts("socket-")) k->type = BPF_PROG_TYPE_SOCKET_FILTER;
  else if (starts("kprobe-")) k->type = BPF_PROG_TYPE_KPROBE;
  else if (starts("tracepoint-")) k->type = BPF_PROG_TYPE_TRACEPOINT;
  else if (starts("rawtp-")) k->type = BPF_PROG_TYPE_RAW_TRACEPOINT;
  else plain = true;
  if (plain) {
    std::vector<std::uint8_t> value = file.mem;
    if (value.empty()) value.resize(8);
    const int fd = create_map(BPF_MAP_TYPE_ARRAY, 4, static_cast<std::uint32_t>(value.size()), 1, 0);
    if (fd < 0) {
      k->error = "mem map: " + std::string(std::strerror(-fd));
      return k;
    }
    k->maps.emplace_back(fd);
    const std::uint32_t key = 0;
    testing::map_update(k->maps.back(), {reinterpret_cast<const std::uint8_t*>(&key), 4}, value);
    k->insns.push_back({kLddwCode, 1, static_cast<std::uint8_t>(isa::LddwSrc::MapValue), 0, fd});
    k->insns.push_back({0, 0, 0, 0, 0});
    if (file.mem.empty()) k->insns.push_back({0x07, 1, 0, 0, 8});  // r1 = one past the value
    k->insns.push_back({0xb7, 2, 0, 0, static_cast<std::int32_t>(file.mem.size())});
  }
  const std::size_t prefix = k->insns.size();
  k->insns.insert(k->insns.end(), body.begin(), body.end());
  patch_maps(k->insns, prefix, suite_fds, k->error);
  if (k->error.empty()) add_func_info(*k);
  return k;
}

void bench_bpfvm_file(benchmark::State& state, std::shared_ptr<SuiteFile> f) {
  verifier::VerifierStats stats;
  for (auto _ : state) {
    auto verified = verifier::verify(f->program, f->options);
    if (!verified) {
      state.SkipWithError(verified.error().message().c_str());
      return;
    }
    stats = verified->stats();
    benchmark::DoNotOptimize(verified);
  }
  state.counters["processed"] = static_cast<double>(stats.insns_processed);
  state.counters["insns"] = static_cast<double>(f->program.size());
}

// ---------------------------------------------------------------------------------------------------
// ELF objects (examples, bench/programs_verifier).

struct ElfProgram {
  std::shared_ptr<Object> object;
  std::string name;
};

void bench_bpfvm_elf(benchmark::State& state, ElfProgram p) {
  VerifierReport report;
  for (auto _ : state) {
    auto loaded = p.object->load(p.name);
    if (!loaded) {
      state.SkipWithError(loaded.error().message().c_str());
      return;
    }
    report = loaded->verifier_report();
    state.SetIterationTime(report.time_us * 1e-6);
  }
  state.counters["processed"] = static_cast<double>(report.insns_processed);
}

struct ElfKernelMaps {
  std::vector<testing::Fd> fds;
  std::string error;
};

std::shared_ptr<ElfKernelMaps> create_object_maps(const loader::Object& object) {
  auto out = std::make_shared<ElfKernelMaps>();
  if (!testing::kernel_bpf_available()) return out;
  for (const auto& spec : object.maps) {
    testing::Fd inner;
    if (spec.inner) inner.reset(create_map(spec.inner->type, spec.inner->key_size, spec.inner->value_size,
                                           spec.inner->max_entries, spec.inner->map_flags));
    const int fd = create_map(spec.type, spec.key_size, spec.value_size, spec.max_entries, spec.map_flags,
                              inner.valid() ? inner.get() : -1);
    if (fd < 0) {
      out->error = "map " + spec.name + ": " + std::strerror(-fd);
      return out;
    }
    out->fds.emplace_back(fd);
    if (!spec.initial_value.empty()) {
      std::vector<std::uint8_t> value = spec.initial_value;
      value.resize(spec.value_size, 0);
      const std::uint32_t key = 0;
      testing::map_update(out->fds.back(), {reinterpret_cast<const std::uint8_t*>(&key), 4}, value);
    }
    if (spec.frozen) testing::map_freeze(out->fds.back());
  }
  return out;
}

std::shared_ptr<const std::vector<std::uint8_t>> vmlinux_btf() {
  static const auto bytes = std::make_shared<const std::vector<std::uint8_t>>(slurp("/sys/kernel/btf/vmlinux"));
  return bytes;
}

void register_elf(const std::filesystem::path& path, const std::string& group) {
  static Vm vm;
  LoadOptions options;
  options.target_btf = *vmlinux_btf();
  options.kconfig["LINUX_KERNEL_VERSION"] = std::to_string((6u << 16) | (18u << 8));
  auto object = vm.open_elf_file(path.string(), options);
  const std::string stem = group + "/" + path.stem().stem().string();
  if (!object) {
    benchmark::RegisterBenchmark(("bpfvm/" + stem).c_str(), [msg = object.error().message()](benchmark::State& s) {
      s.SkipWithError(msg.c_str());
    });
    return;
  }
  auto shared = std::make_shared<Object>(std::move(*object));

  loader::LoadOptions lo;
  lo.target_btf = *vmlinux_btf();
  lo.kconfig["LINUX_KERNEL_VERSION"] = std::to_string((6u << 16) | (18u << 8));
  lo.object_name = path.stem().stem().string();
  const auto bytes = slurp(path);
  auto raw = loader::load_object(bytes, lo);
  std::shared_ptr<ElfKernelMaps> maps;
  if (raw) maps = create_object_maps(*raw);

  for (const auto& info : shared->programs()) {
    const std::string name = stem + ":" + info.name;
    benchmark::RegisterBenchmark(("bpfvm/" + name).c_str(), bench_bpfvm_elf, ElfProgram{shared, info.name})
        ->UseManualTime()->Unit(benchmark::kMicrosecond);
    auto k = std::make_shared<KernelProgram>();
    const loader::ProgramSpec* spec = raw ? raw->find_program(info.name) : nullptr;
    if (!spec) {
      k->error = raw ? "no such program in the loader's object" : raw.error().message();
    } else if (!maps->error.empty()) {
      k->error = maps->error;
    } else {
      k->type = static_cast<bpf_prog_type>(spec->prog_type);
      k->expected_attach_type = spec->expected_attach_type;
      k->insns = spec->program.insns;
      std::vector<int> fds;
      for (const auto& fd : maps->fds) fds.push_back(fd.get());
      patch_maps(k->insns, 0, fds, k->error);
      if (k->error.empty()) add_func_info(*k);
    }
    auto keep_maps = maps;  // the maps outlive every kernel benchmark of this object
    benchmark::RegisterBenchmark(("kernel/" + name).c_str(),
                                 [k, keep_maps](benchmark::State& s) { bench_kernel(s, k); })
        ->UseManualTime()->Unit(benchmark::kMicrosecond);
  }
}

void register_suite() {
  static const auto helpers = verifier::test::kernel_like_helpers();
  static std::vector<testing::Fd> suite_maps;
  std::vector<int> suite_fds;
  if (testing::kernel_bpf_available()) {
    for (const auto& info : verifier::test::suite_maps()) {
      testing::Fd inner;
      if (info.inner) inner.reset(create_map(info.inner->type, info.inner->key_size, info.inner->value_size,
                                             info.inner->max_entries, info.inner->flags));
      suite_maps.emplace_back(create_map(info.type, info.key_size, info.value_size, info.max_entries, info.flags,
                                         inner.valid() ? inner.get() : -1));
      suite_fds.push_back(suite_maps.back().get());
    }
  }
  const auto dir = std::filesystem::path(BPFVM_SOURCE_DIR) / "tests" / "verifier" / "accept";
  for (const auto& path : files_with(dir, ".data")) {
    const std::string name = "accept/" + path.stem().string();
    auto file = vm::read_data_file(path);
    if (!file) continue;
    auto insns = vm::program_of(*file);
    if (!insns) continue;
    auto program = vm::decode_program(*insns, path.filename().string());
    if (!program) continue;
    auto f = std::make_shared<SuiteFile>(SuiteFile{name, std::move(*program), {}});
    f->options = verifier::test::options_for(path, static_cast<std::uint32_t>(file->mem.size()), helpers);
    benchmark::RegisterBenchmark(("bpfvm/" + name).c_str(), bench_bpfvm_file, f)->Unit(benchmark::kMicrosecond);
    auto k = testing::kernel_bpf_available() ? kernel_program_for_file(path.filename().string(), *file, *insns, suite_fds)
                                             : std::make_shared<KernelProgram>();
    benchmark::RegisterBenchmark(("kernel/" + name).c_str(), [k](benchmark::State& s) { bench_kernel(s, k); })
        ->UseManualTime()->Unit(benchmark::kMicrosecond);
  }
}

// ---------------------------------------------------------------------------------------------------
// Issue #20's stress shapes (tests/verifier/complexity_programs.hpp), as socket filters. Both columns
// are timed whatever the verdict (most shapes hit a complexity limit); `accepted` says which.

void bench_bpfvm_stress(benchmark::State& state, std::shared_ptr<const testing::ComplexityProgram> shape) {
  auto program = vm::decode_program(testing::assemble_complexity_program(*shape), shape->name);
  if (!program) {
    state.SkipWithError(program.error().message().c_str());
    return;
  }
  verifier::VerifierOptions options;
  options.program_type = verifier::program_types::socket_filter();
  bool accepted = false;
  verifier::VerifierStats stats;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto verified = verifier::verify(*program, options);
    const auto t1 = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    accepted = verified.has_value();
    if (verified) stats = verified->stats();
  }
  state.counters["accepted"] = accepted;
  if (accepted) {
    state.counters["processed"] = static_cast<double>(stats.insns_processed);
    state.counters["states"] = static_cast<double>(stats.states_stored);
    state.counters["peak_MB"] = static_cast<double>(stats.peak_memory_bytes) / (1 << 20);
  }
}

void bench_kernel_stress(benchmark::State& state, std::shared_ptr<const testing::ComplexityProgram> shape) {
  if (!testing::kernel_bpf_available()) {
    state.SkipWithError(("no bpf(): " + testing::kernel_bpf_unavailable_reason()).c_str());
    return;
  }
  const auto insns = testing::assemble_complexity_program(*shape);
  bool accepted = false;
  double processed = 0;
  for (auto _ : state) {
    const auto load = testing::load_program_stats(BPF_PROG_TYPE_SOCKET_FILTER, insns);
    state.SetIterationTime(std::max(load.number_after("verification time "), 0.0) * 1e-6);
    accepted = load.accepted();
    processed = load.number_after("processed ");
  }
  state.counters["accepted"] = accepted;
  state.counters["processed"] = processed;
}

void register_stress() {
  for (auto& shape : testing::complexity_programs()) {
    auto shared = std::make_shared<const testing::ComplexityProgram>(std::move(shape));
    benchmark::RegisterBenchmark(("bpfvm/stress/" + shared->name).c_str(), bench_bpfvm_stress, shared)
        ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
    benchmark::RegisterBenchmark(("kernel/stress/" + shared->name).c_str(), bench_kernel_stress, shared)
        ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // --write-stress-programs=DIR: write each stress shape as DIR/<name>.s (for `bpfvm verify X.s --type
  // socket` under /usr/bin/time, which gives its peak memory) and exit.
  const std::string write_flag = "--write-stress-programs=";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(write_flag, 0) != 0) continue;
    for (const auto& shape : testing::complexity_programs())
      std::ofstream(arg.substr(write_flag.size()) + "/" + shape.name + ".s") << shape.asm_text;
    return 0;
  }
  for (const auto& path : files_with(BPFVM_EXAMPLES_DIR, ".o")) register_elf(path, "examples");
  for (const auto& path : files_with(BPFVM_VERIFIER_BENCH_PROGRAMS_DIR, ".o")) register_elf(path, "large");
  register_suite();
  register_stress();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
