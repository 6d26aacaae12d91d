// bpfvm's x86-64 JIT against the kernel's JIT on the benchmark programs of bench/programs/: time per
// run on every engine (kernel JIT, bpfvm JIT fast and checked, interpreter, native C), the geomean
// ratio bpfvm JIT / kernel JIT, and JIT compile time per 1,000 instructions of the real programs.
//
// Method: every program runs in rounds; in each round every column runs a batch of `repeat` runs of
// the empty XDP program (xdp_empty: r0 = XDP_PASS; exit) and a batch of the program, both on the
// program's packet: BPF_PROG_TEST_RUN repeat=N on the kernel, Program::run(RunInput{.repeat = N}) on
// bpfvm, a call loop through a function pointer for native C. The kernel's per-run figure is its own
// duration/N (its clock stops while it reschedules); bpfvm's and native C's use this thread's CPU
// time, so neither side counts time spent descheduled. A column's "work" figure is the median over
// rounds of (program - xdp_empty): the test-run harness overhead (~30 ns kernel, ~100 ns bpfvm) is
// subtracted engine by engine. Columns rotate their order per round, so load from other processes
// falls on all of them alike. Every engine's first answer is checked against native C first.
//
// Run: build-bench/bench/bench_jit_vs_kernel   (as root for the kernel column; see bench/README.md)
#include <benchmark/benchmark.h>

#include <linux/bpf.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/programs/native_kernels.h"
#include "bpfvm/bpfvm.hpp"
#include "helpers/contexts.hpp"
#include "helpers/kernel_helpers.hpp"
#include "jit/jit_program.hpp"
#include "loader/object.hpp"
#include "maps/map.hpp"
#include "tests/kernel/kernel_oracle.hpp"

using namespace bpfvm;

namespace {

constexpr int kRounds = 15;                   // rounds per program; a figure is the median over rounds
constexpr double kBatchTargetNs = 4'000'000;  // each batch runs for about 4 ms
constexpr std::uint32_t kMaxRepeat = 1'000'000;

enum class Column : int { Kernel, Jit, JitChecked, Interpreter, Native, JitOpt };
constexpr std::array kColumns = {Column::Kernel, Column::Jit, Column::JitChecked, Column::Interpreter, Column::Native,
                                 Column::JitOpt};
constexpr int kNumColumns = static_cast<int>(kColumns.size());
constexpr const char* column_name(Column c) {
  switch (c) {
    case Column::Kernel: return "kernel_jit";
    case Column::Jit: return "bpfvm_jit";
    case Column::JitChecked: return "bpfvm_jit_checked";
    case Column::Interpreter: return "bpfvm_interpreter";
    case Column::Native: return "native_c";
    case Column::JitOpt: return "bpfvm_jit_opt";
  }
  return "";
}

// ---- packets ------------------------------------------------------------------------------------

// Ethernet / IPv4 / UDP around `payload`, with consistent length fields.
std::vector<std::uint8_t> udp_packet(const std::vector<std::uint8_t>& payload) {
  const std::uint8_t eth[14] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00};
  const std::size_t ip_len = 20 + 8 + payload.size(), udp_len = 8 + payload.size();
  // Sized once: growing a 14-byte vector by insert trips GCC 12's -Warray-bounds false positive.
  std::vector<std::uint8_t> p;
  p.reserve(sizeof eth + ip_len);
  p.insert(p.end(), std::begin(eth), std::end(eth));
  const std::uint8_t ip[20] = {0x45, 0, std::uint8_t(ip_len >> 8), std::uint8_t(ip_len), 0, 1, 0x40, 0, 64, 17, 0, 0,
                               10, 0, 0, 1, 10, 0, 0, 2};
  p.insert(p.end(), std::begin(ip), std::end(ip));
  const std::uint8_t udp[8] = {0x30, 0x39, 0x00, 0x35, std::uint8_t(udp_len >> 8), std::uint8_t(udp_len), 0, 0};
  p.insert(p.end(), std::begin(udp), std::end(udp));
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

std::vector<std::uint8_t> pseudo_random_bytes(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) {
    seed = seed * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(seed >> 24);
  }
  return out;
}

// 16 words to match against the query "content-length": exact copies, shared prefixes, others.
std::vector<std::uint8_t> strcmp_payload() {
  const char* words[17] = {"content-length", "content-type", "content-length", "host", "user-agent",
                           "content-lengthx", "accept", "content-length", "accept-encoding", "connection",
                           "content-lengtH", "cookie", "content-length", "cache-control", "content-",
                           "x-forwarded-for", "content-length"};
  std::vector<std::uint8_t> out(32 * 17, 0);
  for (int i = 0; i < 17; ++i) std::memcpy(out.data() + 32 * i, words[i], std::strlen(words[i]));
  return out;
}

// A 64-byte query of non-zero bytes and 8 candidates equal to it up to byte 40 + 3 * k (two are equal).
std::vector<std::uint8_t> strcmp64_payload() {
  std::vector<std::uint8_t> out = pseudo_random_bytes(64 * 9, 6);
  for (int i = 0; i < 64; ++i) out[i] = std::uint8_t(out[i] | 1);
  for (int k = 0; k < 8; ++k) {
    std::memcpy(out.data() + 64 * (k + 1), out.data(), 64);
    if (k % 4 != 3) out[64 * (k + 1) + 40 + 3 * k] ^= 0x80;
  }
  return out;
}

// 8 records of 64 bytes: record k equals record 0 in its first k words.
std::vector<std::uint8_t> memcmp8_payload() {
  std::vector<std::uint8_t> out = pseudo_random_bytes(512, 7);
  for (int k = 1; k < 8; ++k) std::memcpy(out.data() + 64 * k, out.data(), 8 * std::size_t(k));
  return out;
}

// 8 frames of 128 bytes: IPv4/UDP, VLAN IPv4/TCP, IPv6/TCP, QinQ IPv4/UDP, ARP, IPv4 with options/UDP,
// IPv6/UDP, IPv4/ICMP.
std::vector<std::uint8_t> parse_payload() {
  std::vector<std::uint8_t> out(128 * 8, 0);
  auto frame = [&](int f, std::vector<std::uint16_t> tags, std::uint16_t proto, std::uint8_t l4, int ihl_words) {
    std::uint8_t* p = out.data() + 128 * f;
    // EtherType at 12, then per tag: TPID already written, TCI (2 bytes), the next EtherType.
    auto put16 = [](std::uint8_t* at, std::uint16_t v) { at[0] = std::uint8_t(v >> 8), at[1] = std::uint8_t(v); };
    put16(p + 12, tags.empty() ? proto : tags[0]);
    for (std::size_t k = 0; k < tags.size(); ++k) put16(p + 16 + 4 * k, k + 1 < tags.size() ? tags[k + 1] : proto);
    std::uint8_t* l3 = p + 14 + 4 * tags.size();
    std::size_t l4_off = 0;
    if (proto == 0x0800) {
      l3[0] = std::uint8_t(0x40 | ihl_words), l3[9] = l4;
      l4_off = 4 * std::size_t(ihl_words);
    } else if (proto == 0x86dd) {
      l3[0] = 0x60, l3[6] = l4;
      l4_off = 40;
    }
    if (l4_off) l3[l4_off] = std::uint8_t(f), l3[l4_off + 1] = 0x50 + std::uint8_t(f), l3[l4_off + 3] = 0x35;
  };
  frame(0, {}, 0x0800, 17, 5);
  frame(1, {0x8100}, 0x0800, 6, 5);
  frame(2, {}, 0x86dd, 6, 0);
  frame(3, {0x88a8, 0x8100}, 0x0800, 17, 5);
  frame(4, {}, 0x0806, 0, 0);
  frame(5, {}, 0x0800, 17, 8);
  frame(6, {}, 0x86dd, 17, 0);
  frame(7, {}, 0x0800, 1, 5);
  return out;
}

struct BenchProgram {
  const char* name;  // bench/programs/<name>.bpf.c, program xdp_<name>, bench_native_<name>
  bench_native_fn native;
  std::vector<std::uint8_t> packet;
};

std::vector<BenchProgram> bench_programs() {
  std::vector<BenchProgram> out;
  out.push_back({"empty", bench_native_empty, udp_packet(std::vector<std::uint8_t>(18, 0))});
  out.push_back({"primes", bench_native_primes, udp_packet({0xe8, 0x03, 0, 0})});  // N = 1000
  out.push_back({"memcpy", bench_native_memcpy, udp_packet(pseudo_random_bytes(256, 1))});
  out.push_back({"strcmp", bench_native_strcmp, udp_packet(strcmp_payload())});
  out.push_back({"switch", bench_native_switch, udp_packet(pseudo_random_bytes(64, 2))});
  out.push_back({"log2", bench_native_log2, udp_packet(pseudo_random_bytes(8, 3))});
  out.push_back({"map", bench_native_map, udp_packet(pseudo_random_bytes(64, 4))});
  out.push_back({"parse", bench_native_parse, udp_packet(parse_payload())});
  out.push_back({"checksum", bench_native_checksum, udp_packet(pseudo_random_bytes(1000, 5))});
  out.push_back({"branches", bench_native_branches, udp_packet(pseudo_random_bytes(256, 7))});
  out.push_back({"popcount_loop", bench_native_popcount_loop, udp_packet(pseudo_random_bytes(8, 8))});
  out.push_back({"calls", bench_native_calls, udp_packet(pseudo_random_bytes(256, 9))});
  out.push_back({"strcmp64", bench_native_strcmp64, udp_packet(strcmp64_payload())});
  out.push_back({"accum8", bench_native_accum8, udp_packet(pseudo_random_bytes(512, 10))});
  out.push_back({"mixed", bench_native_mixed, udp_packet(pseudo_random_bytes(64, 11))});
  out.push_back({"csum16", bench_native_csum16, udp_packet(pseudo_random_bytes(1024, 12))});
  // bench_kernels_classes.h: 512 random payload bytes each (memcmp8: 8 records sharing prefixes).
  const std::pair<const char*, bench_native_fn> classes[] = {
      {"alu_chain", bench_native_alu_chain}, {"alu32", bench_native_alu32}, {"divmod", bench_native_divmod},
      {"murmur", bench_native_murmur}, {"fnv1a", bench_native_fnv1a}, {"fletcher", bench_native_fletcher},
      {"jhash", bench_native_jhash}, {"rotate", bench_native_rotate}, {"bswap", bench_native_bswap},
      {"strlen", bench_native_strlen}, {"saturate", bench_native_saturate}, {"stride", bench_native_stride},
      {"adler32", bench_native_adler32}, {"spill16", bench_native_spill16}, {"nested", bench_native_nested},
      {"sort", bench_native_sort}, {"rank", bench_native_rank},
      {"xorshift", bench_native_xorshift}, {"swar", bench_native_swar}, {"bitmap", bench_native_bitmap},
      {"ctz", bench_native_ctz}, {"signed", bench_native_signed}, {"call_deep", bench_native_call_deep},
      {"rc4", bench_native_rc4}, {"matmul", bench_native_matmul}, {"memcmp8", bench_native_memcmp8},
      {"binary_search", bench_native_binary_search}};
  std::uint32_t seed = 100;
  for (const auto& [name, fn] : classes)
    out.push_back({name, fn, udp_packet(std::string_view(name) == "memcmp8" ? memcmp8_payload() : pseudo_random_bytes(512, seed++))});
  return out;
}

std::string object_path(const BenchProgram& p) { return std::string(BPFVM_BENCH_PROGRAMS_DIR "/") + p.name + ".bpf.o"; }

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// ---- engines ------------------------------------------------------------------------------------

struct Sample {
  double ns_per_run = 0;
  std::uint32_t retval = 0;
};

// The kernel: the object's maps created with bpf(), lddw map references patched to their fds
// (MapIdx → BPF_PSEUDO_MAP_FD, MapIdxValue → BPF_PSEUDO_MAP_VALUE), BPF_PROG_LOAD as XDP.
struct KernelProgram {
  std::vector<testing::Fd> maps;
  testing::Fd prog;

  static Result<KernelProgram> load(const std::string& path, const std::string& name) {
    auto obj = loader::load_object(read_file(path));
    if (!obj) return std::move(obj).error();
    const auto* spec = obj->find_program(name);
    if (spec == nullptr) return make_error(Errc::InvalidArgument, path + ": no program " + name);
    KernelProgram out;
    for (const auto& m : obj->maps) {
      testing::Fd fd;
      const testing::MapSpec ms{static_cast<bpf_map_type>(m.type), m.key_size, m.value_size, m.max_entries,
                                m.map_flags};
      if (int err = testing::map_create(ms, fd); err < 0)
        return make_error(Errc::Rejected, "BPF_MAP_CREATE " + m.name + ": errno " + std::to_string(-err));
      if (!m.initial_value.empty()) {
        const std::uint32_t key = 0;
        testing::map_update(fd, {reinterpret_cast<const std::uint8_t*>(&key), 4}, m.initial_value);
      }
      out.maps.push_back(std::move(fd));
    }
    auto insns = spec->program.insns;
    for (std::size_t pc = 0; pc + 1 < insns.size(); ++pc) {
      auto& in = insns[pc];
      if (in.code != (BPF_LD | BPF_IMM | BPF_DW)) continue;
      if (in.src == 5 || in.src == 6) {
        if (in.imm < 0 || std::size_t(in.imm) >= out.maps.size())
          return make_error(Errc::InvalidArgument, "pc " + std::to_string(pc) + ": bad map index");
        in.imm = out.maps[std::size_t(in.imm)].get();
        in.src = in.src == 5 ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
      }
      ++pc;  // second slot
    }
    auto fd = testing::load_program(BPF_PROG_TYPE_XDP, insns);
    if (!fd) return std::move(fd).error();
    out.prog = std::move(*fd);
    return out;
  }
};

// One program on one column: loaded, checked against native C, and ready to time.
struct Row {
  std::string skip;  // why this row cannot run (no kernel access, load failure, wrong answer)
  std::optional<KernelProgram> kernel;
  std::optional<Object> object;
  std::optional<Program> program;
  bench_native_fn native = nullptr;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// One program's figures on one column, one entry per round.
struct Figures {
  std::uint32_t repeat = 0, baseline_repeat = 0;  // calibrated batch sizes
  std::vector<double> raw;                         // ns per run, harness included
  std::vector<double> work;                        // raw minus xdp_empty's raw in the same round
};

struct Suite {
  Vm vm;
  std::vector<BenchProgram> programs = bench_programs();  // [0] is xdp_empty
  std::map<std::pair<std::size_t, Column>, Row> rows;
  std::map<std::pair<std::size_t, Column>, Figures> figures;
  std::map<std::string, double> compile_us_per_1k;
  std::map<std::string, double> compile_opt_us_per_1k;  // the optimizing tier
  std::map<std::string, std::size_t> insn_counts;
  std::vector<std::string> notes;

  static Result<Sample> sample(const Row& row, Column column, std::span<const std::uint8_t> packet, std::uint32_t repeat) {
    if (column == Column::Kernel) {
      auto r = testing::test_run(row.kernel->prog, packet, repeat);
      if (!r) return std::move(r).error();
      return Sample{double(r->duration_ns), r->retval};
    }
    if (column == Column::Native) {
      const bench_native_fn volatile fn = row.native;
      const std::uint8_t* begin = packet.data();
      const std::uint8_t* end = begin + packet.size();
      std::uint32_t last = 0;
      const double t0 = thread_cpu_ns();
      for (std::uint32_t i = 0; i < repeat; ++i) {
        last = fn(begin, end);
        benchmark::DoNotOptimize(last);
      }
      return Sample{(thread_cpu_ns() - t0) / repeat, last};
    }
    const double t0 = thread_cpu_ns();
    auto r = row.program->run(RunInput{packet, {}, repeat, nullptr});
    const double t1 = thread_cpu_ns();
    if (!r) return std::move(r).error();
    return Sample{(t1 - t0) / repeat, r->retval};
  }

  // Loads every row and checks its first run's answer against native C (fresh maps everywhere).
  void prepare() {
    const bool kernel_ok = testing::kernel_bpf_available();
    if (!kernel_ok) notes.push_back("kernel column skipped: " + testing::kernel_bpf_unavailable_reason());
    for (std::size_t i = 0; i < programs.size(); ++i) {
      const auto& bp = programs[i];
      const std::string prog_name = std::string("xdp_") + bp.name;
      const std::uint32_t expected = bp.native(bp.packet.data(), bp.packet.data() + bp.packet.size());
      for (Column c : kColumns) {
        Row& row = rows[{i, c}];
        row.native = bp.native;
        if (c == Column::Native) continue;  // its first run was `expected`
        if (c == Column::Kernel) {
          if (!kernel_ok) {
            row.skip = "bpf() unavailable: " + testing::kernel_bpf_unavailable_reason();
            continue;
          }
          auto k = KernelProgram::load(object_path(bp), prog_name);
          if (!k) {
            row.skip = "kernel refused: " + k.error().message();
            continue;
          }
          row.kernel = std::move(*k);
        } else {
          auto obj = vm.open_elf_file(object_path(bp));
          if (!obj) {
            row.skip = obj.error().message();
            continue;
          }
          row.object = std::move(*obj);
          ProgramOptions po;
          po.engine = c == Column::Interpreter ? Engine::Interpreter
                      : c == Column::JitOpt        ? Engine::JitOptimized
                                                   : Engine::Jit;
          po.checked = c == Column::JitChecked;
          // Per-pass figures: BPFVM_BENCH_OPT_PASSES_OFF=promote_stack,... leaves passes out.
          if (const char* off = std::getenv("BPFVM_BENCH_OPT_PASSES_OFF")) po.jit_opt_passes_off = off;
          auto p = row.object->load(prog_name, po);
          if (!p) {
            // The verifier is still being finished: fall back to an unverified load, and say so.
            const std::string why = p.error().message();
            po.verify = false;
            p = row.object->load(prog_name, po);
            if (p && c == Column::Jit)  // one note per program: every bpfvm column gets the same verdict
              notes.push_back(std::string(bp.name) + ": bpfvm's verifier refused it, so bpfvm columns load it with verify=false (" +
                              (rows[{i, Column::Kernel}].kernel ? "the kernel's verifier accepts it" : "no kernel verdict") +
                              "): " + why);
          }
          if (!p) {
            row.skip = p.error().message();
            continue;
          }
          insn_counts[bp.name] = row.object->programs().front().insn_count;
          if (c == Column::JitOpt && p->jit_tier() != JitTier::Optimized)
            notes.push_back(std::string(bp.name) + ": the optimizing tier fell back to the baseline");
          row.program = std::move(*p);
        }
        auto s = sample(row, c, bp.packet, 1);
        if (!s) {
          row.skip = s.error().message();
        } else if (s->retval != expected) {
          row.skip = "wrong answer " + std::to_string(s->retval) + ", native C says " + std::to_string(expected);
        }
      }
    }
  }

  // The batch size that makes one batch of `row` on `packet` last about kBatchTargetNs.
  static Result<std::uint32_t> calibrate(const Row& row, Column column, std::span<const std::uint8_t> packet) {
    for (std::uint32_t repeat = 16;; repeat *= 8) {
      const double t0 = thread_cpu_ns();
      auto s = sample(row, column, packet, repeat);
      const double took = thread_cpu_ns() - t0;
      if (!s) return std::move(s).error();
      if (took > kBatchTargetNs / 8 || repeat >= kMaxRepeat)
        return std::clamp<std::uint32_t>(std::uint32_t(double(repeat) * kBatchTargetNs / took), 1, kMaxRepeat);
    }
  }

  // One round for program `index`: on every column, a batch of xdp_empty and a batch of the program,
  // both on the program's packet, back to back. Columns rotate their order from round to round, so
  // load from other processes on this shared machine falls on all columns alike.
  Result<void> round(std::size_t index, std::size_t round_number) {
    const auto& packet = programs[index].packet;
    for (std::size_t k = 0; k < kColumns.size(); ++k) {
      const Column c = kColumns[(k + round_number) % kColumns.size()];
      const Row& row = rows[{index, c}];
      const Row& empty = rows[{0, c}];
      if (!row.skip.empty() || !empty.skip.empty()) continue;
      Figures& f = figures[{index, c}];
      if (f.repeat == 0) {
        auto r = calibrate(row, c, packet);
        if (!r) return std::move(r).error();
        auto b = calibrate(empty, c, packet);
        if (!b) return std::move(b).error();
        f.repeat = *r, f.baseline_repeat = *b;
      }
      auto base = sample(empty, c, packet, f.baseline_repeat);
      if (!base) return std::move(base).error();
      auto s = sample(row, c, packet, f.repeat);
      if (!s) return std::move(s).error();
      f.raw.push_back(s->ns_per_run);
      f.work.push_back(s->ns_per_run - base->ns_per_run);
    }
    return {};
  }

  // Work per run: the median over rounds; nullopt when the column did not run.
  std::optional<double> work_ns(std::size_t index, Column column) {
    const auto it = figures.find({index, column});
    if (it == figures.end() || it->second.work.empty()) return std::nullopt;
    return median(it->second.work);
  }
  std::optional<double> raw_ns(std::size_t index, Column column) {
    const auto it = figures.find({index, column});
    if (it == figures.end() || it->second.raw.empty()) return std::nullopt;
    return median(it->second.raw);
  }
};

// One benchmark per program; each iteration is one round over all columns. The figures are the
// counters (ns per run): <column> = work (minus xdp_empty), <column>_raw = with the harness.
void run_program(benchmark::State& state, Suite& suite, std::size_t index) {
  std::size_t n = 0;
  for (auto _ : state) {
    if (auto r = suite.round(index, n++); !r) {
      state.SkipWithError(r.error().message().c_str());
      return;
    }
  }
  for (Column c : kColumns) {
    if (auto w = suite.work_ns(index, c)) state.counters[column_name(c)] = *w;
    if (auto w = suite.raw_ns(index, c)) state.counters[std::string(column_name(c)) + "_raw"] = *w;
  }
  auto k = suite.work_ns(index, Column::Kernel), j = suite.work_ns(index, Column::Jit);
  if (k && j && *k > 0) state.counters["jit_over_kernel"] = *j / *k;
}

// Compile time of real programs: loaded as the kernel would see them (ctx accesses rewritten for
// XDP), kernel helpers registered, map references resolved to one stand-in array map (never run).
void compile_row(benchmark::State& state, Suite& suite, const std::string& path, const std::string& program_name,
                 const std::string& label) {
  auto obj = loader::load_object(read_file(path));
  if (!obj) {
    state.SkipWithError(obj.error().message().c_str());
    return;
  }
  const auto* spec = obj->find_program(program_name);
  if (spec == nullptr) {
    state.SkipWithError((path + ": no program " + program_name).c_str());
    return;
  }
  auto program = helpers::rewrite_ctx_access(spec->program, helpers::ProgType::Xdp);
  if (!program) {
    state.SkipWithError(program.error().message().c_str());
    return;
  }
  helpers::HelperRuntime runtime;
  vm::HelperRegistry registry;
  helpers::register_kernel_helpers(registry, runtime);
  // One real array map stands in for every map: the JIT asks a map lookup's map whether it is a
  // plain array (to inline the lookup), so the handle must be a live maps::Map, not dummy bytes.
  static const auto stand_in = maps::create_map(
      maps::MapSpec{.type = maps::MapType::Array, .key_size = 4, .value_size = 64, .max_entries = 64});
  if (!stand_in) {
    state.SkipWithError(stand_in.error().message().c_str());
    return;
  }
  const vm::PseudoResolver resolver = [](isa::LddwSrc, std::int32_t, std::int32_t, std::uint32_t) -> Result<std::uint64_t> {
    return reinterpret_cast<std::uintptr_t>(stand_in->get());
  };
  jit::JitOptions jo;
  jo.checked = state.range(0) == 1;
  jo.optimize = state.range(0) == 2;
  const double t0 = thread_cpu_ns();
  for (auto _ : state) {
    auto jp = jit::JitProgram::compile(*program, registry, resolver, jo);
    if (!jp) {
      state.SkipWithError(jp.error().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(jp);
  }
  // CPU ns per instruction = CPU µs per 1,000 instructions.
  const double us_per_1k = (thread_cpu_ns() - t0) / double(state.iterations()) / double(program->size());
  state.counters["insns"] = double(program->size());
  state.counters["us_per_1k_insns"] = us_per_1k;
  if (jo.optimize) {
    suite.compile_opt_us_per_1k[label] = us_per_1k;
  } else if (!jo.checked) {
    suite.compile_us_per_1k[label] = us_per_1k;
    suite.insn_counts.emplace(label, program->size());
  }
}

std::string cell(std::optional<double> v) {
  if (!v) return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, *v >= 100 || *v <= -100 ? "%.0f" : "%.1f", *v);
  return buf;
}

void print_summary(Suite& suite) {
  std::printf("\n## Work ns per run: median over %d rounds of (program batch - xdp_empty batch), same packet and engine\n\n",
              kRounds);
  std::printf("| program | insns | kernel JIT | bpfvm JIT | JIT checked | interpreter | native C | jit-opt | JIT/kernel | opt/JIT | opt/kernel | compile µs/1k insns | opt compile µs/1k |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  double log_sum[kNumColumns] = {}, ratio_log_sum = 0, opt_jit_log_sum = 0, opt_native_log_sum = 0;
  int ratio_n = 0, col_n[kNumColumns] = {}, opt_jit_n = 0, opt_native_n = 0;
  for (std::size_t i = 1; i < suite.programs.size(); ++i) {
    const auto& bp = suite.programs[i];
    std::optional<double> w[kNumColumns];
    for (Column c : kColumns) w[int(c)] = suite.work_ns(i, c);
    const int jo = int(Column::JitOpt), ji = int(Column::Jit), na = int(Column::Native);
    std::optional<double> opt_jit;
    if (w[jo] && w[ji] && *w[jo] > 0 && *w[ji] > 0) {
      opt_jit = *w[jo] / *w[ji];
      opt_jit_log_sum += std::log(*opt_jit), ++opt_jit_n;
    }
    if (w[jo] && w[na] && *w[jo] > 0 && *w[na] > 0) opt_native_log_sum += std::log(*w[jo] / *w[na]), ++opt_native_n;
    std::optional<double> ratio;
    if (w[0] && w[1] && *w[0] > 0 && *w[1] > 0) {
      ratio = *w[1] / *w[0];
      ratio_log_sum += std::log(*ratio);
      ++ratio_n;
      for (Column c : kColumns)
        if (w[int(c)] && *w[int(c)] > 0) log_sum[int(c)] += std::log(*w[int(c)] / *w[0]), ++col_n[int(c)];
    }
    std::optional<double> compile, opt_compile;
    if (auto it = suite.compile_us_per_1k.find(bp.name); it != suite.compile_us_per_1k.end()) compile = it->second;
    if (auto it = suite.compile_opt_us_per_1k.find(bp.name); it != suite.compile_opt_us_per_1k.end()) opt_compile = it->second;
    auto two = [](std::optional<double> v) {
      char buf[32] = "—";
      if (v) std::snprintf(buf, sizeof buf, "%.2f", *v);
      return std::string(buf);
    };
    std::optional<double> opt_kernel;
    if (w[jo] && w[0] && *w[0] > 0) opt_kernel = *w[jo] / *w[0];
    std::printf("| %s | %zu | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", bp.name, suite.insn_counts[bp.name],
                cell(w[0]).c_str(), cell(w[1]).c_str(), cell(w[2]).c_str(), cell(w[3]).c_str(), cell(w[4]).c_str(),
                cell(w[jo]).c_str(), two(ratio).c_str(), two(opt_jit).c_str(), two(opt_kernel).c_str(), cell(compile).c_str(),
                cell(opt_compile).c_str());
  }
  for (const char* name : {"large_unrolled", "unrolled_parse"}) {  // compile-only rows: the last two columns
    const auto it = suite.compile_us_per_1k.find(name);
    if (it == suite.compile_us_per_1k.end()) continue;
    std::optional<double> opt_compile;
    if (auto o = suite.compile_opt_us_per_1k.find(name); o != suite.compile_opt_us_per_1k.end()) opt_compile = o->second;
    std::printf("| %s (compile only) | %zu | | | | | | | | | | %s | %s |\n", name, suite.insn_counts[name],
                cell(it->second).c_str(), cell(opt_compile).c_str());
  }
  std::printf("\nRaw ns per run including the harness (bpfvm JIT / kernel JIT):");
  for (std::size_t i = 1; i < suite.programs.size(); ++i) {
    auto j = suite.raw_ns(i, Column::Jit), k = suite.raw_ns(i, Column::Kernel);
    std::printf(" %s %s / %s;", suite.programs[i].name, cell(j).c_str(), cell(k).c_str());
  }
  std::printf("\n");
  if (ratio_n > 0) {
    std::printf("Geomean ratio bpfvm JIT / kernel JIT over %d programs: %.2f\n", ratio_n, std::exp(ratio_log_sum / ratio_n));
    for (Column c : {Column::JitChecked, Column::Interpreter, Column::Native, Column::JitOpt})
      if (col_n[int(c)] > 0)
        std::printf("Geomean ratio %s / kernel JIT: %.2f\n", column_name(c), std::exp(log_sum[int(c)] / col_n[int(c)]));
  } else {
    std::printf("No geomean: the kernel column did not run.\n");
  }
  if (opt_jit_n > 0)
    std::printf("Geomean ratio bpfvm_jit_opt / bpfvm_jit over %d programs: %.2f\n", opt_jit_n, std::exp(opt_jit_log_sum / opt_jit_n));
  if (opt_native_n > 0)
    std::printf("Geomean ratio bpfvm_jit_opt / native_c over %d programs: %.2f\n", opt_native_n,
                std::exp(opt_native_log_sum / opt_native_n));
  for (const auto& [key, row] : suite.rows)
    if (!row.skip.empty()) std::printf("skipped: %s/%s: %s\n", suite.programs[key.first].name, column_name(key.second), row.skip.c_str());
  for (const auto& n : suite.notes) std::printf("note: %s\n", n.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Suite suite;
  suite.prepare();
  for (const auto& n : suite.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  for (std::size_t i = 1; i < suite.programs.size(); ++i)
    benchmark::RegisterBenchmark((std::string("xdp/") + suite.programs[i].name).c_str(),
                                 [&suite, i](benchmark::State& st) { run_program(st, suite, i); })
        ->Iterations(kRounds)
        ->Unit(benchmark::kMillisecond);
  auto add_compile = [&suite](const std::string& path, const std::string& program, const std::string& label) {
    benchmark::RegisterBenchmark(("compile/" + label).c_str(),
                                 [&suite, path, program, label](benchmark::State& st) { compile_row(st, suite, path, program, label); })
        ->Arg(0)
        ->Arg(1)
        ->Arg(2)
        ->ArgName("variant")  // 0 fast, 1 checked, 2 the optimizing tier
        ->Unit(benchmark::kMicrosecond);
  };
  for (std::size_t i = 1; i < suite.programs.size(); ++i)
    add_compile(object_path(suite.programs[i]), std::string("xdp_") + suite.programs[i].name, suite.programs[i].name);
#ifdef BPFVM_EXAMPLES_DIR
  add_compile(BPFVM_EXAMPLES_DIR "/large_unrolled.bpf.o", "checksum", "large_unrolled");
#endif
#ifdef BPFVM_VERIFIER_BENCH_PROGRAMS_DIR
  // 4,335 instructions (a parse loop clang unrolled): the optimizing tier's compile time at scale.
  add_compile(BPFVM_VERIFIER_BENCH_PROGRAMS_DIR "/unrolled_parse.bpf.o", "unrolled_parse", "unrolled_parse");
#endif
  benchmark::RunSpecifiedBenchmarks();
  print_summary(suite);
  benchmark::Shutdown();
  return 0;
}
