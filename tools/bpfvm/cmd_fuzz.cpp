// `bpfvm fuzz`: coverage-guided fuzzing of one program through the bpfvm_fuzz library.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "bpfvm/fuzz.hpp"
#include "tools/bpfvm/commands.hpp"
#include "tools/bpfvm/input.hpp"
#include "tools/common/arg_reader.hpp"

namespace bpfvm::tools {

namespace {

constexpr const char* kFuzzUsage =
    "usage: bpfvm fuzz PROGRAM [options]\n"
    "  PROGRAM              .o ELF object (or .s/.bin with --type)\n"
    "  --prog NAME          program of an object (default: its only program)\n"
    "  --time S             stop after S seconds\n"
    "  --runs N             stop after N runs (with --seed: the same findings every time)\n"
    "  --seed N             mutation seed (default 1)\n"
    "  --corpus DIR         seed inputs from DIR; inputs reaching new edges are written there\n"
    "  --artifacts DIR      reproducers (raw input bytes) go here (default fuzz-artifacts)\n"
    "  --property P         must hold after every run: 'retval!=N', 'retval<=N', 'MAP[KEY]==N',\n"
    "                       'MAP[KEY] absent' (repeatable)\n"
    "  --budget N           instructions per run before it counts as a fault (default 1000000)\n"
    "  --max-len N          longest input in bytes (default: 1514 for packets, 4096 for buffers)\n"
    "  --no-jit             do not compare the interpreter with the JIT\n"
    "  --no-verify          fuzz without the verifier (prints a warning)\n"
    "  --keep-maps          let map contents carry over from run to run (faster; reproducers may then\n"
    "                       need the runs before them)\n"
    "  --keep-going         continue after the first finding\n"
    "  --coverage-report F  write an lcov tracefile of every run's lines and branches to F\n"
    "  --type SECTION       program type of bytecode/assembly (xdp, tc, socket, ...)\n"
    "Input bytes are the packet (xdp, socket, tc), the buffer (plain) or the context (other types).\n"
    "Each run is checked, within the budget; maps are restored after it. Findings: faults, interpreter\n"
    "vs JIT disagreement, broken properties. Replay one: bpfvm run PROGRAM --prog NAME --packet FILE\n"
    "(--mem-file FILE for .s/.bin programs).\n"
    "Exit status: 0 no findings, 1 findings or an error, 2 usage.\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "bpfvm fuzz: %s\n\n%s%s", message.c_str(), kFuzzUsage, kVerifierTimeUsage);
  return kExitUsage;
}

// A status line rewritten in place on a terminal; plain lines otherwise.
class Progress {
 public:
  Progress() : tty_(isatty(STDERR_FILENO) == 1) {}
  void status(const fuzz::FuzzStatus& s, const char* event) {
    if (!tty_ && event == nullptr) {
      // Plain output: one status line every five seconds.
      if (s.seconds < next_plain_) return;
      next_plain_ = s.seconds + 5;
    }
    if (tty_ && event != nullptr) return;  // the live line shows new coverage already
    std::fprintf(stderr, "%s#%llu %-6s edges %zu/%zu  corpus %zu  findings %zu  %.0f execs/s  %.1fs%s",
                 tty_ ? "\r\033[K" : "", static_cast<unsigned long long>(s.execs), event ? event : "pulse",
                 s.edges_covered, s.edges_total, s.corpus_size, s.findings, s.execs_per_second(), s.seconds,
                 tty_ ? "" : "\n");
    std::fflush(stderr);
  }
  void line(const std::string& text) {
    std::fprintf(stderr, "%s%s\n", tty_ ? "\r\033[K" : "", text.c_str());
    std::fflush(stderr);
  }
  void end() {
    if (tty_) std::fputc('\n', stderr);
  }

 private:
  bool tty_;
  double next_plain_ = 5;
};

}  // namespace

int cmd_fuzz(Args args) {
  ArgReader r(args);
  std::string path, prog, corpus, artifacts = "fuzz-artifacts", coverage_path, time_text, property_text;
  InputOptions input_options;
  fuzz::HarnessOptions harness_options;
  harness_options.max_verifier_time_us = cli_program_options().max_verifier_time_us;
  fuzz::FuzzOptions fuzz_options;
  std::uint64_t runs = 0, seed = 1, budget = harness_options.budget_insns, max_len = 0;
  while (!r.done() && r.error().empty()) {
    if (r.flag("--help") || r.flag("-h")) {
      std::fputs(kFuzzUsage, stdout);
      std::fputs(kVerifierTimeUsage, stdout);
      return kExitOk;
    }
    if (r.option("--property", property_text)) {
      if (!r.error().empty()) break;
      auto p = fuzz::parse_property(property_text);
      if (!p) return usage_error(p.error().reason);
      harness_options.properties.push_back(std::move(*p));
      continue;
    }
    if (r.option("--prog", prog) || r.option("--corpus", corpus) || r.option("--artifacts", artifacts) ||
        r.option("--coverage-report", coverage_path) || r.option("--time", time_text) ||
        r.option("--type", input_options.type) || r.count("--runs", runs) || r.count("--seed", seed) ||
        r.count("--budget", budget) || r.count("--max-len", max_len) ||
        verifier_time_option(r, harness_options.max_verifier_time_us) || r.positional(path))
      continue;
    if (r.flag("--no-jit")) harness_options.compare_jit = false;
    else if (r.flag("--no-verify")) harness_options.verify = false;
    else if (r.flag("--keep-maps")) harness_options.restore_maps_max_entries = 0;
    else if (r.flag("--keep-going")) fuzz_options.stop_on_finding = false;
    else r.unknown();
  }
  if (!r.error().empty()) return usage_error(r.error());
  if (path.empty()) return usage_error("missing PROGRAM");
  if (!time_text.empty()) {
    char* end = nullptr;
    fuzz_options.max_seconds = std::strtod(time_text.c_str(), &end);
    if (end == time_text.c_str() || *end != '\0' || fuzz_options.max_seconds <= 0)
      return usage_error("--time takes a positive number of seconds, not '" + time_text + "'");
  }
  if (runs == 0 && fuzz_options.max_seconds == 0) return usage_error("give --time S or --runs N");
  harness_options.budget_insns = budget;

  // One CPU: per-CPU maps then hold one value, and runs do not depend on which CPU they landed on.
  Vm vm(VmOptions{.nr_cpus = 1});
  auto input = open_input(vm, path, input_options);
  if (!input) return std::fprintf(stderr, "%s\n", file_error(path, input.error()).c_str()), kExitError;
  auto name = pick_program(input->object, prog);
  if (!name) return std::fprintf(stderr, "%s\n", file_error(path, name.error()).c_str()), kExitError;
  if (!harness_options.verify) std::fprintf(stderr, "bpfvm: warning: fuzzing '%s' without verification\n", name->c_str());
  auto harness = fuzz::Harness::create(std::move(input->object), *name, harness_options);
  if (!harness) return std::fprintf(stderr, "%s\n", file_error(path, harness.error()).c_str()), kExitError;

  std::optional<fuzz::CoverageReport> coverage;
  if (!coverage_path.empty()) coverage.emplace(harness->program());
  fuzz_options.seed = seed;
  fuzz_options.max_runs = runs;
  fuzz_options.max_input_bytes = max_len;
  fuzz_options.corpus_dir = corpus;
  fuzz_options.artifacts_dir = artifacts;
  fuzz_options.coverage = coverage ? &*coverage : nullptr;

  Progress progress;
  // `bpfvm run` takes an ELF program's input with --packet, other programs' with --mem-file.
  const bool elf = path.size() > 2 && path.ends_with(".o");
  const std::string replay = "bpfvm run " + path + " --prog " + *name +
                             (input_options.type.empty() ? "" : " --type " + input_options.type) +
                             (harness_options.verify ? "" : " --no-verify");
  const std::string replay_input = elf ? " --packet " : " --mem-file ";
  const std::string replay_checked = " --checked --budget " + std::to_string(budget);
  progress.line("bpfvm fuzz: " + path + " program " + *name + " (" + harness->program().type().name + ", " +
                std::to_string(harness->program().bytecode().size() / 8) + " insns, " +
                std::to_string(harness->edges_total()) + " edges), seed " + std::to_string(seed) + ", budget " +
                std::to_string(budget) + " insns" + (harness->compares_jit() ? ", comparing with the JIT" : ""));
  if (!harness->compares_jit()) progress.line("bpfvm fuzz: " + harness->jit_note());
  fuzz_options.on_status = [&](const fuzz::FuzzStatus& s) { progress.status(s, nullptr); };
  fuzz_options.on_new_coverage = [&](const fuzz::FuzzStatus& s) { progress.status(s, "NEW"); };
  fuzz_options.on_finding = [&](const fuzz::Finding& f, const std::string& artifact, const fuzz::FuzzStatus& s) {
    char when[96];
    std::snprintf(when, sizeof when, " (after %llu runs, %.2f s)", static_cast<unsigned long long>(s.execs), s.seconds);
    progress.line(std::string("FINDING ") + fuzz::kind_name(f.kind) + ": " + f.message + when);
    if (artifact.empty()) {
      progress.line("  the reproducer could not be written to " + artifacts);
    } else {
      progress.line("  reproducer: " + artifact);
      progress.line("  replay: " + replay + (f.kind == fuzz::Finding::Kind::Fault ? replay_checked : "") +
                    replay_input + artifact);
    }
  };
  const bool compared = harness->compares_jit();
  auto result = fuzz::run_fuzzer(*harness, fuzz_options);
  progress.end();
  if (compared && !harness->compares_jit()) std::fprintf(stderr, "bpfvm fuzz: %s\n", harness->jit_note().c_str());
  if (!result) return std::fprintf(stderr, "%s\n", file_error(path, result.error()).c_str()), kExitError;
  std::fprintf(stderr, "done: %llu runs in %.2f s (%.0f execs/s), edges %zu/%zu, corpus %zu, findings %zu\n",
               static_cast<unsigned long long>(result->execs), result->seconds, result->execs_per_second(),
               result->edges_covered, result->edges_total, result->corpus_size, result->findings);
  if (coverage) {
    if (auto w = coverage->write_lcov(coverage_path, *name); !w) {
      std::fprintf(stderr, "%s\n", w.error().message().c_str());
      return kExitError;
    }
    const auto sum = coverage->summary();
    std::fprintf(stderr, "coverage: %s: lines %zu/%zu, branches %zu/%zu\n", coverage_path.c_str(), sum.lines_hit,
                 sum.lines_found, sum.branches_hit, sum.branches_found);
  }
  return result->findings > 0 ? kExitError : kExitOk;
}

}  // namespace bpfvm::tools
