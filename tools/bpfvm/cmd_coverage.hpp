// `bpfvm run --coverage FILE.info`: the lcov tracefile of a run's source lines and branches.
#pragma once

#include <cstdint>
#include <string>

#include "bpfvm/fuzz.hpp"

namespace bpfvm::tools {

/// Adds `runs` runs' counters (report.counters()) to the report and writes it as lcov to `path`,
/// with a one-line summary on stderr. Returns false (and says why) when the file cannot be written.
bool write_run_coverage(fuzz::CoverageReport& report, const std::string& path, const std::string& test_name,
                        std::uint64_t runs);

}  // namespace bpfvm::tools
