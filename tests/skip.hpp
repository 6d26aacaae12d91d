// A visible skip for Catch2 v2 tests (it has no SKIP macro): prints the reason and exits 77, which
// bpfvm_add_test registers with ctest as SKIP_RETURN_CODE, so ctest reports "Skipped" with the reason
// in its output. ctest runs one test case per process, so exiting ends only the skipped case.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace bpfvm::testing {

inline constexpr int kSkipExitCode = 77;

[[noreturn]] inline void skip_test(const std::string& reason) {
  std::printf("SKIP: %s\n", reason.c_str());
  std::fflush(stdout);
  std::exit(kSkipExitCode);
}

}  // namespace bpfvm::testing
