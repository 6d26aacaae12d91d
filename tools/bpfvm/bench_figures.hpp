// What `bpfvm bench` measured, and its three renderings: a text table, one JSON object, and a
// self-contained HTML report (bench_report.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bpfvm::tools {

struct EngineFigures {
  std::string name;                  ///< "interp", "jit", "jit-checked", "kernel"
  std::string skip_reason;           ///< non-empty: the engine did not take part, and why
  std::vector<double> round_ns;      ///< ns per run in each round
  std::vector<double> round_ratio;   ///< ns per run / the first engine's in the same round
  std::optional<std::uint64_t> insns_executed;  ///< per run, where the engine counts
  std::optional<std::uint32_t> code_bytes;      ///< native code of the program's instructions (+ stubs)
  std::optional<std::uint32_t> entry_bytes;     ///< bpfvm: the run trampoline, outside code_bytes
  double load_us = 0;                           ///< whole load: verification + compilation
  std::optional<double> verify_us, compile_us;  ///< bpfvm splits the load
  std::uint64_t batches = 0, batches_dropped = 0;  ///< bpfvm: timed batches, and those rerun (preempted)
  bool skipped() const { return !skip_reason.empty(); }
};

struct BenchFigures {
  std::string object, program, program_type;
  std::size_t data_bytes = 0, ctx_bytes = 0;
  std::uint64_t repeat = 0;
  std::uint32_t rounds = 0;
  // The agreed result (of the first engine) and what was compared.
  bool agree = true;
  std::vector<std::string> disagreements;
  std::uint32_t retval = 0;
  std::uint64_t r0 = 0;
  std::size_t data_out_bytes = 0;
  std::vector<std::string> maps_compared, maps_not_compared;
  std::vector<EngineFigures> engines;
  std::string timing_note;
};

struct Spread {
  double median = 0, min = 0, max = 0;
};
/// Median, min and max of `values` (all 0 when empty).
Spread spread_of(std::vector<double> values);

std::string bench_text(const BenchFigures& f);
std::string bench_json(const BenchFigures& f);
/// One self-contained HTML page: the figures as inline SVG bar charts (ns/run, code bytes) and a table.
std::string bench_html(const BenchFigures& f);

}  // namespace bpfvm::tools
