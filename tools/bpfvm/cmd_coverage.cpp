// `bpfvm run --coverage`: writing the lcov tracefile after the run.
#include "tools/bpfvm/cmd_coverage.hpp"

#include <cstdio>

namespace bpfvm::tools {

bool write_run_coverage(fuzz::CoverageReport& report, const std::string& path, const std::string& test_name,
                        std::uint64_t runs) {
  report.add_run(runs);
  if (auto w = report.write_lcov(path, test_name); !w) {
    std::fprintf(stderr, "bpfvm run: %s\n", w.error().message().c_str());
    return false;
  }
  const auto sum = report.summary();
  std::fprintf(stderr, "coverage: %s: lines %zu/%zu, branches %zu/%zu\n", path.c_str(), sum.lines_hit,
               sum.lines_found, sum.branches_hit, sum.branches_found);
  return true;
}

}  // namespace bpfvm::tools
