// Catch2 main for kernel tests: exits 77 (ctest SKIP_RETURN_CODE) with the reason when bpf() is unusable.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "tests/kernel/kernel_oracle.hpp"

namespace {
constexpr int kSkipExitCode = 77;  // ctest's SKIP_RETURN_CODE for these tests
}

int main(int argc, char** argv) {
  if (!bpfvm::testing::kernel_bpf_available()) {
    std::printf("SKIP: the kernel oracle is unavailable: %s\n",
                bpfvm::testing::kernel_bpf_unavailable_reason().c_str());
    std::printf("SKIP: kernel tests need root (CAP_BPF + CAP_NET_ADMIN) and a kernel with bpf(2)\n");
    return kSkipExitCode;
  }
  const int failed = Catch::Session().run(argc, argv);
  // Catch returns the number of failures; 77 of them must not read as a skip.
  return failed == kSkipExitCode ? 1 : failed;
}
