// bpfvm's fuzzing API: coverage-guided fuzzing of one eBPF program off-kernel (Fuzzer), the checks
// each input goes through (Harness, also the entry point for a libFuzzer/AFL++ harness of your own)
// and source-line coverage as lcov tracefiles (CoverageReport). Implemented in fuzz/ (bpfvm_fuzz).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/bpfvm.hpp"

namespace bpfvm::fuzz {

/// A condition every run must satisfy:
///   `retval OP N`        the program's return value (low 32 bits of r0)
///   `MAP[KEY] OP N`      the value of MAP's entry KEY (first 8 bytes, little-endian; CPU 0 for
///                        per-CPU maps) after the run; holds when the entry is absent
///   `MAP[KEY] absent`    MAP's entry KEY must never exist after a run
/// OP is one of == != < <= > >=; KEY and N are unsigned integers (decimal or 0x hex), KEY is
/// encoded little-endian in the map's key size (at most 8 bytes).
struct Property {
  enum class Subject : std::uint8_t { Retval, MapValue, MapAbsent };
  enum class Op : std::uint8_t { Eq, Ne, Lt, Le, Gt, Ge };
  std::string text;  ///< as written
  Subject subject = Subject::Retval;
  Op op = Op::Ne;
  std::string map;
  std::uint64_t key = 0;
  std::uint64_t value = 0;
};

/// Parses one property ("retval!=2", "drops[3] absent", "stats[0] <= 10").
Result<Property> parse_property(std::string_view text);

/// Something an input made go wrong.
struct Finding {
  enum class Kind : std::uint8_t {
    Fault,           ///< the checked interpreter stopped with an error (memory, budget, helper, ...)
    EngineMismatch,  ///< the interpreter and the JIT disagree (retval, packet, maps, error)
    Property,        ///< a Property did not hold
  };
  Kind kind = Kind::Fault;
  std::string signature;  ///< what deduplicates findings: "fault:memory-fault:pc 12", "property:0"
  std::string message;    ///< one line, with the source line when the object has BTF line info
};

/// "fault", "mismatch" or "property": the prefix of reproducer file names.
const char* kind_name(Finding::Kind kind) noexcept;

struct HarnessOptions {
  /// Instructions per run before it counts as a budget overrun (a Fault).
  std::uint64_t budget_insns = 1'000'000;
  /// Verify the program first (as the kernel would). Off only to fuzz what the verifier refuses.
  bool verify = true;
  /// Bound on each verification's wall time (ProgramOptions::max_verifier_time_us; 0 = none): a program
  /// whose verification takes longer fails create() with the verifier's one-line refusal.
  std::uint64_t max_verifier_time_us = 0;
  /// Run the JIT (checked, same budget) on the first input and every input that reaches new edges,
  /// and compare.
  bool compare_jit = true;
  /// Compare on every input, not only on new coverage (slower).
  bool compare_every_input = false;
  std::vector<Property> properties;
  /// Restore hash/array/LPM maps to their initial contents after every run, so a run depends only on
  /// its input (reproducers replay in a fresh `bpfvm run`). Maps with more than this many entries to
  /// read are left alone (0 = never restore).
  std::size_t restore_maps_max_entries = 16384;
};

/// What one input did.
struct RunVerdict {
  bool rejected = false;      ///< refused before the program ran (e.g. an XDP packet under 14 bytes)
  bool new_coverage = false;  ///< reached an edge (or an edge's hit-count bucket) not seen before
  std::optional<Finding> finding;
  std::uint32_t retval = 0;
};

/// One program prepared for fuzzing: the interpreter with edge coverage (checked, with a budget),
/// the JIT to compare against, properties and map restoring. Input bytes become the program's
/// packet (XDP, socket filter, tc), its buffer (plain programs) or its context (other types), as in
/// `bpfvm run --packet FILE`. Not thread-safe: use one Harness per thread.
class Harness {
 public:
  /// Opens an ELF object (one CPU, so per-CPU maps are deterministic) and prepares `program`.
  static Result<Harness> open(const std::string& elf_path, std::string_view program,
                              const HarnessOptions& options = {});
  /// Prepares `program` of an object the caller opened (a Vm with nr_cpus = 1 is recommended).
  static Result<Harness> create(Object object, std::string_view program, const HarnessOptions& options = {});

  Harness(Harness&&) noexcept;
  Harness& operator=(Harness&&) noexcept;
  ~Harness();

  /// Runs one input through every check.
  RunVerdict run(std::span<const std::uint8_t> input);
  /// libFuzzer's LLVMFuzzerTestOneInput: run(); on a finding, print it to stderr and abort() so the
  /// fuzzer saves the input. Returns 0.
  int test_one_input(const std::uint8_t* data, std::size_t size);

  /// The last run's edge counters: 2 per instruction, [2 * pc + taken] for conditional jumps.
  std::span<const std::uint32_t> edge_counters() const;
  /// Folds the last run's edges into `out` (edge i adds to out[i % out.size()], saturating at 255):
  /// feed it to libFuzzer's extra counters or an AFL++ map.
  void export_edges(std::span<std::uint8_t> out) const;
  std::size_t edges_total() const;    ///< 2 per conditional jump
  std::size_t edges_covered() const;  ///< edges some run so far has taken

  /// LLVMFuzzerCustomMutator: mutates data[0, size) in place, within max_size bytes, the way
  /// `bpfvm fuzz` does (with the dictionary below); returns the new size. libFuzzer cannot see the
  /// program's compares, so its own mutations rarely hit magic values.
  std::size_t mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned int seed);
  /// Immediates the program compares against, as byte strings to splice into inputs.
  const std::vector<std::vector<std::uint8_t>>& dictionary() const;
  /// Input sizes that make sense for the program type.
  std::size_t min_input_bytes() const;
  std::size_t max_input_bytes() const;
  bool packet_input() const;  ///< XDP, socket filter or tc: the input is a packet
  /// False when the JIT could not prepare the program, or stopped on something it does not support
  /// (jit_note() says why).
  bool compares_jit() const;
  const std::string& jit_note() const;

  const Program& program() const;
  const Object& object() const;
  /// "file.c:12: source text" for an instruction, or "" without BTF line info.
  std::string source_line(std::uint32_t pc) const;

  struct State;

 private:
  explicit Harness(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

/// Per-edge hit totals of one program over many runs, written as an lcov tracefile mapped through
/// BTF line info to the C source: DA lines (instructions run), BRDA branches (conditional jumps taken
/// or not), FN for the program. Line counts derive from the edges, so lines of bpf_loop callbacks and
/// tail-called programs show as not run.
class CoverageReport {
 public:
  explicit CoverageReport(const Program& program);
  CoverageReport(CoverageReport&&) noexcept;
  CoverageReport& operator=(CoverageReport&&) noexcept;
  ~CoverageReport();

  /// Counters for RunInput::edge_counters (program loaded with ProgramOptions::coverage).
  std::span<std::uint32_t> counters();
  /// Adds counters() to the totals as `runs` program runs and clears them.
  void add_run(std::uint64_t runs = 1);
  /// Adds another run's counters (e.g. Harness::edge_counters()).
  void add_edges(std::span<const std::uint32_t> counters, std::uint64_t runs = 1);

  struct Summary {
    std::size_t lines_found = 0, lines_hit = 0, branches_found = 0, branches_hit = 0;
  };
  Summary summary() const;
  /// The tracefile text; `test_name` goes on the TN: line.
  std::string lcov(std::string_view test_name) const;
  Result<void> write_lcov(const std::string& path, std::string_view test_name) const;

  struct State;

 private:
  std::unique_ptr<State> s_;
};

struct FuzzStatus {
  std::uint64_t execs = 0;
  double seconds = 0;
  std::size_t edges_covered = 0;
  std::size_t edges_total = 0;
  std::size_t corpus_size = 0;
  std::size_t findings = 0;
  double execs_per_second() const { return seconds > 0 ? static_cast<double>(execs) / seconds : 0; }
};

struct FuzzOptions {
  std::uint64_t seed = 1;
  double max_seconds = 0;      ///< 0 = no time limit
  std::uint64_t max_runs = 0;  ///< 0 = no run limit (one of the two should be set)
  std::size_t max_input_bytes = 0;  ///< 0 = the harness's max_input_bytes()
  std::string corpus_dir;      ///< read seed inputs from here; write inputs with new coverage here
  std::string artifacts_dir = "fuzz-artifacts";  ///< reproducers: `<kind>-<hash>`, raw input bytes
  bool stop_on_finding = true;
  CoverageReport* coverage = nullptr;  ///< accumulates every run's edges when set
  /// Called about four times a second (and at the end) with the counters so far.
  std::function<void(const FuzzStatus&)> on_status;
  /// Called when an input reaches new edges (after the seeds).
  std::function<void(const FuzzStatus&)> on_new_coverage;
  /// Called once per distinct finding, with the reproducer's path ("" if it could not be written).
  std::function<void(const Finding&, const std::string& artifact, const FuzzStatus&)> on_finding;
};

/// Mutates inputs, keeps those that reach new edges and reports findings until a limit is hit (or,
/// with stop_on_finding, the first finding). Deterministic for a given seed and max_runs.
Result<FuzzStatus> run_fuzzer(Harness& harness, const FuzzOptions& options);

}  // namespace bpfvm::fuzz
