// Catch2 main for kernel tests: exits 77 (ctest SKIP_RETURN_CODE) with the reason when bpf() is unusable,
// or fails there under BPFVM_REQUIRE_KERNEL=1; prints how many kernel calls the tests compared against;
// exits 77 too when no case failed and some case was skipped (skipped_cases.hpp).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "tests/kernel/kernel_oracle.hpp"
#include "tests/kernel/skipped_cases.hpp"

namespace {
constexpr int kSkipExitCode = 77;  // ctest's SKIP_RETURN_CODE for these tests
}

int main(int argc, char** argv) {
  using namespace bpfvm::testing;
  if (!kernel_bpf_available()) {
    if (kernel_required()) {
      std::printf("FAIL: BPFVM_REQUIRE_KERNEL is set but the kernel oracle is unavailable: %s\n",
                  kernel_bpf_unavailable_reason().c_str());
      return 1;
    }
    std::printf("SKIP: the kernel oracle is unavailable: %s\n", kernel_bpf_unavailable_reason().c_str());
    std::printf("SKIP: kernel tests need root (CAP_BPF + CAP_NET_ADMIN) and a kernel with bpf(2)\n");
    return kSkipExitCode;
  }
  const auto before = kernel_call_counts();  // the availability probe's calls are not comparisons
  const int failed = Catch::Session().run(argc, argv);
  const auto after = kernel_call_counts();
  const auto loads = after.prog_loads - before.prog_loads, runs = after.test_runs - before.test_runs,
             maps = after.map_ops - before.map_ops;
  std::printf("kernel comparisons: %s: %llu program loads, %llu test runs, %llu map operations\n",
              argc > 0 ? argv[0] : "?", static_cast<unsigned long long>(loads),
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(maps));
  if (kernel_required() && loads + runs + maps == 0 && failed == 0) {
    std::printf("FAIL: BPFVM_REQUIRE_KERNEL is set but no test called the kernel\n");
    return 1;
  }
  // Catch returns the number of failures; 77 of them must not read as a skip.
  if (failed != 0) return failed == kSkipExitCode ? 1 : failed;
  for (const auto& reason : skipped_cases()) std::printf("SKIP: a test case was skipped: %s\n", reason.c_str());
  return skipped_cases().empty() ? 0 : kSkipExitCode;
}
