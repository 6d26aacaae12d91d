// A visible skip of one test case inside a kernel test binary (ctest runs each of those binaries as one
// test): the case prints the reason and returns; kernel_test_main then exits 77 (ctest "Skipped") when
// nothing failed, so a case that could not run here never reads as passed.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace bpfvm::testing {

inline std::vector<std::string>& skipped_cases() {
  static std::vector<std::string> reasons;
  return reasons;
}

inline void skip_case(const std::string& reason) {
  std::printf("SKIP (this test case): %s\n", reason.c_str());
  skipped_cases().push_back(reason);
}

}  // namespace bpfvm::testing
