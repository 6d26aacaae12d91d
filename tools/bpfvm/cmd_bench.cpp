// `bpfvm bench`: one program, one input, every engine asked for — results checked to agree, then
// interleaved timed rounds, with instruction counts, code sizes and load times beside the times.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "tools/bpfvm/bench_figures.hpp"
#include "tools/bpfvm/commands.hpp"
#include "tools/bpfvm/input.hpp"
#include "tools/bpfvm/kernel_engine.hpp"
#include "tools/bpfvm/map_snapshot.hpp"
#include "tools/bpfvm/native_listing.hpp"
#include "tools/common/arg_reader.hpp"
#include "tools/common/hex_text.hpp"

namespace bpfvm::tools {

namespace {

constexpr const char* kBenchUsage =
    "usage: bpfvm bench PROGRAM [--prog NAME] [--packet FILE | --ctx FILE | --mem HEX] [options]\n"
    "  Runs one program on every engine with the same input, checks that the results agree (r0/retval,\n"
    "  packet out, maps; exit 1 when they do not), then times the engines in interleaved rounds.\n"
    "  PROGRAM            .o ELF object (every engine), or .s/.bin/.data (bpfvm's engines)\n"
    "  --prog NAME        program of an object (default: its only program)\n"
    "  --packet FILE      packet programs (xdp, socket, tc): packet bytes\n"
    "  --ctx FILE         context bytes (xdp_md, __sk_buff, ...)\n"
    "  --mem HEX          plain programs: input buffer as hex\n"
    "  --type SECTION     program type of bytecode/assembly (xdp, tc, ...)\n"
    "  --btf FILE         target BTF for CO-RE; --kconfig K=V as for `bpfvm run`\n"
    "  --engines LIST     comma-separated, timed in this order, ratios relative to the first\n"
    "                     (interp, interp-checked, jit, jit-checked, jit-opt, jit-opt-checked, kernel;\n"
    "                     default interp,jit,kernel)\n"
    "  --opt-passes-off L jit-opt without the optimizing-tier passes named (comma separated; an unknown\n"
    "                     name is refused with the list), to measure one pass at a time\n"
    "  --repeat N         runs per engine per round (default 10000)\n"
    "  --rounds R         interleaved rounds (default 5): median, min and max over rounds\n"
    "  --json             one JSON object on stdout (no progress line)\n"
    "  --report FILE      also write a self-contained HTML report (bar charts and the table)\n"
    "  The kernel engine (raw bpf(): BPF_PROG_LOAD, BPF_PROG_TEST_RUN) needs root; without bpf(), for\n"
    "  non-ELF inputs, or when the kernel refuses the object it is skipped with one line saying why.\n";

constexpr const char* kTimingNote =
    "Timing: bpfvm engines run in batches of about 1 ms (one Program::run with repeat = the batch; "
    "steady_clock around it); a batch during which the thread was preempted (getrusage RUSAGE_THREAD "
    "ru_nivcsw grew) is thrown away and run again, as the kernel's test-run timer leaves preempted "
    "intervals out. kernel: BPF_PROG_TEST_RUN's duration (whole ns per run; it includes the kernel's "
    "per-repetition harness). Ratios are taken within each round, then the median over rounds.";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "bpfvm bench: %s\n\n%s%s", message.c_str(), kBenchUsage, kVerifierTimeUsage);
  return kExitUsage;
}

// What one run produced, in the terms engines can be compared by.
struct Outcome {
  std::optional<std::uint64_t> r0;  // bpfvm engines (the kernel reports only retval)
  std::uint32_t retval = 0;
  std::vector<std::uint8_t> data_out;  // packet programs
  std::vector<std::uint8_t> ctx_out;   // the context after the run (skb->cb[], mark, ...), where given
  std::vector<MapSnapshot> maps;
  std::optional<std::uint64_t> insns_executed;
};

struct BenchInput {
  std::vector<std::uint8_t> data, ctx;
  bool packet = false;  // data is a packet (its bytes after the run are compared)
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual Result<Outcome> check_run(const BenchInput& in) = 0;
  /// Times `runs` runs; returns ns per run.
  virtual Result<double> timed_runs(const BenchInput& in, std::uint64_t runs, EngineFigures& fig) = 0;
};

class BpfvmEngine final : public Engine {
 public:
  static Result<std::unique_ptr<BpfvmEngine>> open(const std::string& path, const InputOptions& options,
                                                    const std::string& prog, const ProgramOptions& po,
                                                    std::uint32_t loads, EngineFigures& fig) {
    auto e = std::unique_ptr<BpfvmEngine>(new BpfvmEngine());
    auto input = open_input(e->vm_, path, options);
    if (!input) return std::move(input).error();
    e->input_.emplace(std::move(*input));
    // Loaded `loads` times (one per round), medians reported: one load on a busy machine can be 10x off.
    std::optional<Program> program;
    std::vector<double> load_us, verify_us, compile_us;
    for (std::uint32_t i = 0; i < loads; ++i) {
      program.reset();
      const auto start = std::chrono::steady_clock::now();
      auto loaded = e->input_->object.load(prog, po);
      load_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
      if (!loaded) return std::move(loaded).error();
      verify_us.push_back(loaded->verifier_report().time_us);
      compile_us.push_back(std::max(0.0, load_us.back() - verify_us.back()));
      program.emplace(std::move(*loaded));
    }
    fig.load_us = spread_of(load_us).median;
    fig.verify_us = spread_of(verify_us).median;
    fig.compile_us = spread_of(compile_us).median;
    if (po.engine == bpfvm::Engine::Jit || po.engine == bpfvm::Engine::JitOptimized) {
      auto listing = program->native_listing();
      if (!listing) return std::move(listing).error();
      const auto parsed = parse_native_listing(*listing);
      fig.code_bytes = parsed.body_bytes() + parsed.stub_bytes();
      fig.entry_bytes = parsed.entry_bytes();
    }
    e->program_.emplace(std::move(*program));
    return e;
  }

  Result<Outcome> check_run(const BenchInput& in) override {
    auto out = program_->run(RunInput{in.data, in.ctx, 1, nullptr});
    if (!out) return std::move(out).error();
    Outcome o;
    o.r0 = out->r0;
    o.retval = out->retval;
    if (in.packet) o.data_out = std::move(out->data_out);
    o.ctx_out = std::move(out->ctx_out);
    o.maps = snapshot_maps(input_->object);
    if (out->insns_executed) o.insns_executed = out->insns_executed;
    return o;
  }

  Result<double> timed_runs(const BenchInput& in, std::uint64_t runs, EngineFigures& fig) override {
    constexpr double kBatchNs = 1e6;
    double total_ns = 0;
    std::uint64_t done = 0, dropped_here = 0;
    while (done < runs) {
      const auto batch = static_cast<std::uint32_t>(std::min<std::uint64_t>(runs - done, batch_));
      rusage before{}, after{};
      getrusage(RUSAGE_THREAD, &before);
      const auto start = std::chrono::steady_clock::now();
      auto out = program_->run(RunInput{in.data, in.ctx, batch, nullptr});
      const double batch_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
      getrusage(RUSAGE_THREAD, &after);
      if (!out) return std::move(out).error();
      ++fig.batches;
      // A preempted batch is run again, up to as many times as the round has batches.
      if (after.ru_nivcsw != before.ru_nivcsw && dropped_here * batch_ < runs) {
        ++fig.batches_dropped;
        ++dropped_here;
        continue;
      }
      total_ns += batch_ns;
      done += batch;
      batch_ = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(kBatchNs * batch / std::max(batch_ns, 1.0)), 1, 1u << 24);
    }
    return total_ns / static_cast<double>(runs);
  }

 private:
  BpfvmEngine() = default;
  Vm vm_;
  std::optional<OpenedInput> input_;
  std::optional<Program> program_;
  std::uint64_t batch_ = 64;
};

class KernelBenchEngine final : public Engine {
 public:
  explicit KernelBenchEngine(KernelEngine k) : k_(std::move(k)) {}
  Result<Outcome> check_run(const BenchInput& in) override {
    auto out = k_.run(in.data, in.ctx, 1, /*want_ctx_out=*/true);
    if (!out) return std::move(out).error();
    Outcome o;
    o.retval = out->retval;
    if (in.packet) o.data_out = std::move(out->data_out);
    o.ctx_out = std::move(out->ctx_out);
    o.maps = k_.maps();
    return o;
  }
  Result<double> timed_runs(const BenchInput& in, std::uint64_t runs, EngineFigures&) override {
    auto out = k_.run(in.data, in.ctx, static_cast<std::uint32_t>(runs));
    if (!out) return std::move(out).error();
    return static_cast<double>(out->duration_ns);
  }

 private:
  KernelEngine k_;
};

// Differences between the first engine's outcome and another's.
std::vector<std::string> differences(const std::string& a_name, const Outcome& a, const std::string& b_name,
                                     const Outcome& b) {
  std::vector<std::string> out;
  char buf[160];
  if (a.r0 && b.r0 && *a.r0 != *b.r0) {
    std::snprintf(buf, sizeof buf, "r0: %s 0x%llx, %s 0x%llx", a_name.c_str(), static_cast<unsigned long long>(*a.r0),
                  b_name.c_str(), static_cast<unsigned long long>(*b.r0));
    out.push_back(buf);
  } else if (a.retval != b.retval) {
    std::snprintf(buf, sizeof buf, "retval: %s %u, %s %u", a_name.c_str(), a.retval, b_name.c_str(), b.retval);
    out.push_back(buf);
  }
  if (a.data_out != b.data_out)
    out.push_back("packet out: " + a_name + " " + std::to_string(a.data_out.size()) + " bytes " +
                  hex_bytes(a.data_out) + ", " + b_name + " " + std::to_string(b.data_out.size()) + " bytes " +
                  hex_bytes(b.data_out));
  // Compared where both engines give one (a context type, or an skb program's __sk_buff).
  if (!a.ctx_out.empty() && !b.ctx_out.empty() && a.ctx_out != b.ctx_out)
    out.push_back("context out: " + a_name + " " + hex_bytes(a.ctx_out) + ", " + b_name + " " + hex_bytes(b.ctx_out));
  for (auto& d : compare_maps(a.maps, a_name, b.maps, b_name)) out.push_back(std::move(d));
  return out;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= s.size()) {
    const auto comma = s.find(',', at);
    out.push_back(s.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

class Progress {
 public:
  explicit Progress(bool on) : on_(on) {}
  void show(const std::string& text) {
    if (on_) std::fprintf(stderr, "\r\033[K%s", text.c_str()), std::fflush(stderr);
  }
  ~Progress() {
    if (on_) std::fprintf(stderr, "\r\033[K"), std::fflush(stderr);
  }

 private:
  bool on_;
};

}  // namespace

int cmd_bench(Args args) {
  ArgReader r(args);
  std::string path, prog, mem_hex, packet_file, ctx_file, kconfig, engines_text = "interp,jit,kernel", report_path;
  InputOptions input_options;
  std::uint64_t repeat = 10000, rounds = 5;
  std::string opt_passes_off;
  bool json = false;
  std::uint64_t max_verifier_time_us = cli_program_options().max_verifier_time_us;
  while (!r.done() && r.error().empty()) {
    if (r.flag("--help") || r.flag("-h")) {
      std::fputs(kBenchUsage, stdout);
      std::fputs(kVerifierTimeUsage, stdout);
      return kExitOk;
    }
    if (r.option("--prog", prog) || r.option("--mem", mem_hex) || r.option("--packet", packet_file) ||
        r.option("--ctx", ctx_file) || r.option("--engines", engines_text) || r.option("--report", report_path) ||
        r.option("--type", input_options.type) || r.option("--btf", input_options.btf_path) ||
        r.option("--opt-passes-off", opt_passes_off) || r.count("--repeat", repeat) ||
        r.count("--rounds", rounds) || verifier_time_option(r, max_verifier_time_us) || r.positional(path))
      continue;
    if (r.option("--kconfig", kconfig)) {
      if (!add_kconfig(input_options, kconfig)) return usage_error("--kconfig takes KEY=VALUE, not '" + kconfig + "'");
      continue;
    }
    if (r.flag("--json")) json = true;
    else r.unknown();
  }
  if (!r.error().empty()) return usage_error(r.error());
  if (path.empty()) return usage_error("missing PROGRAM");
  if (repeat == 0 || repeat > std::numeric_limits<std::uint32_t>::max())
    return usage_error("--repeat is 1 to 4294967295 (BPF_PROG_TEST_RUN's repeat is a u32)");
  if (rounds == 0 || rounds > 1000) return usage_error("--rounds is 1 to 1000");
  const auto engine_names = split_commas(engines_text);
  for (const auto& name : engine_names)
    if (name != "interp" && name != "interp-checked" && name != "jit" && name != "jit-checked" && name != "jit-opt" &&
        name != "jit-opt-checked" &&
        name != "kernel")
      return usage_error("unknown engine '" + name + "' (interp, interp-checked, jit, jit-checked, jit-opt, jit-opt-checked, kernel)");
  if (!mem_hex.empty()) {
    auto bytes = parse_hex_text(mem_hex);
    if (!bytes) return usage_error("--mem: " + bytes.error().reason);
    input_options.mem = std::move(*bytes);
  }
  auto fail = [&](const std::string& file, const Error& e) {
    std::fprintf(stderr, "%s\n", file_error(file, e).c_str());
    return kExitError;
  };

  // The program's name and type, and the input every engine gets.
  BenchFigures fig;
  BenchInput in;
  Vm vm;
  auto probe = open_input(vm, path, input_options);
  if (!probe) return fail(path, probe.error());
  auto name = pick_program(probe->object, prog);
  if (!name) return fail(path, name.error());
  for (const auto& p : probe->object.programs())
    if (p.name == *name) fig.program_type = p.type;
  if (fig.program_type.empty()) return fail(path, Error{Errc::InvalidArgument, kNoPc, "no program '" + *name + "'"});
  for (auto [file, out] : {std::pair{&packet_file, &in.data}, std::pair{&ctx_file, &in.ctx}}) {
    if (file->empty()) continue;
    auto bytes = read_file_bytes(*file);
    if (!bytes) return fail(*file, bytes.error());
    *out = std::move(*bytes);
  }
  if (!probe->is_elf) in.data = probe->mem;
  in.packet = !packet_file.empty() || !probe->is_elf;  // plain programs: the buffer after the run
  fig.object = path;
  fig.program = *name;
  fig.data_bytes = in.data.size();
  fig.ctx_bytes = in.ctx.size();
  fig.repeat = repeat;
  fig.rounds = static_cast<std::uint32_t>(rounds);
  fig.timing_note = kTimingNote;

  // Open every engine; the kernel's absence is one visible line, never a silent gap.
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<std::size_t> live;  // indexes into fig.engines of engines that take part
  for (const auto& engine_name : engine_names) {
    EngineFigures ef;
    ef.name = engine_name;
    std::unique_ptr<Engine> engine;
    if (engine_name == "kernel") {
      // No bpf(), a non-ELF input, or the kernel refusing the object (its verifier's line): one visible
      // line and the other engines go on.
      auto k = KernelEngine::open(path, input_options, *name, static_cast<std::uint32_t>(rounds));
      if (!k) {
        ef.skip_reason = k.error().reason;
        std::fprintf(stderr, "bpfvm bench: kernel engine skipped: %s\n", ef.skip_reason.c_str());
      } else {
        ef.load_us = k->load_us();
        ef.code_bytes = k->code().bytes_jited;
        engine = std::make_unique<KernelBenchEngine>(std::move(*k));
      }
    } else {
      ProgramOptions po = cli_program_options();
      po.max_verifier_time_us = max_verifier_time_us;
      po.engine = engine_name.starts_with("jit-opt")  ? bpfvm::Engine::JitOptimized
                  : engine_name.starts_with("jit") ? bpfvm::Engine::Jit
                                                   : bpfvm::Engine::Interpreter;
      po.checked = engine_name.ends_with("-checked");
      po.jit_opt_passes_off = opt_passes_off;
      auto e = BpfvmEngine::open(path, input_options, *name, po, static_cast<std::uint32_t>(rounds), ef);
      if (!e) return fail(path, e.error());
      engine = std::move(*e);
    }
    if (engine) live.push_back(fig.engines.size());
    fig.engines.push_back(std::move(ef));
    engines.push_back(std::move(engine));
  }
  if (live.empty()) return fail(path, Error{Errc::Unsupported, kNoPc, "no engine could run the program"});

  // Agreement: one run on each engine's fresh state, compared with the first engine's.
  std::vector<Outcome> outcomes(engines.size());
  for (std::size_t n = 0; n < live.size();) {
    const auto i = live[n];
    auto o = engines[i]->check_run(in);
    // The kernel test-runs only some program types (and input shapes): its refusal is a visible skip.
    if (!o && fig.engines[i].name == "kernel") {
      fig.engines[i].skip_reason = o.error().reason;
      std::fprintf(stderr, "bpfvm bench: kernel engine skipped: %s\n", o.error().reason.c_str());
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(n));
      continue;
    }
    if (!o) return fail(path, Error{o.error().code, o.error().pc, fig.engines[i].name + ": " + o.error().reason});
    fig.engines[i].insns_executed = o->insns_executed;
    outcomes[i] = std::move(*o);
    ++n;
  }
  if (live.empty()) return fail(path, Error{Errc::Unsupported, kNoPc, "no engine could run the program"});
  const auto& first = outcomes[live.front()];
  fig.retval = first.retval;
  fig.r0 = first.r0.value_or(first.retval);
  fig.data_out_bytes = first.data_out.size();
  for (const auto& m : first.maps) (m.compared ? fig.maps_compared : fig.maps_not_compared).push_back(m.name);
  for (std::size_t k = 1; k < live.size(); ++k) {
    const auto& a = fig.engines[live.front()].name;
    for (auto& d : differences(a, first, fig.engines[live[k]].name, outcomes[live[k]])) fig.disagreements.push_back(d);
  }
  fig.agree = fig.disagreements.empty();
  if (!fig.agree) {
    if (json) std::fputs(bench_json(fig).c_str(), stdout);
    std::fprintf(stderr, "bpfvm bench: %s: the engines' results disagree:\n", path.c_str());
    for (const auto& d : fig.disagreements) std::fprintf(stderr, "  %s\n", d.c_str());
    return kExitError;
  }

  // Interleaved rounds: every engine once per round, in the order given.
  {
    Progress progress(!json && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO));
    for (std::uint32_t round = 0; round < fig.rounds; ++round) {
      double base = 0;
      for (auto i : live) {
        progress.show("round " + std::to_string(round + 1) + "/" + std::to_string(fig.rounds) + ": " +
                      fig.engines[i].name + " ...");
        auto ns = engines[i]->timed_runs(in, repeat, fig.engines[i]);
        if (!ns) return fail(path, Error{ns.error().code, ns.error().pc, fig.engines[i].name + ": " + ns.error().reason});
        if (i == live.front()) base = *ns;
        fig.engines[i].round_ns.push_back(*ns);
        fig.engines[i].round_ratio.push_back(base > 0 ? *ns / base : 0);
      }
    }
  }

  if (!report_path.empty()) {
    std::ofstream out(report_path);
    out << bench_html(fig);
    if (!out) return std::fprintf(stderr, "%s: cannot write the report\n", report_path.c_str()), kExitError;
  }
  std::fputs((json ? bench_json(fig) : bench_text(fig)).c_str(), stdout);
  return kExitOk;
}

}  // namespace bpfvm::tools
