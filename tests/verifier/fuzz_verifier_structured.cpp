// libFuzzer harness for the structured soundness generator (structured_soundness.hpp): bytes ->
// escape-shaped program; an accepted program that faults in checked mode aborts (a verifier bug).
#include <cstdio>
#include <cstdlib>

#include "tests/verifier/structured_soundness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bpfvm::vm::HelperRegistry helpers = bpfvm::verifier::test::structured_helpers();
  if (auto fault = bpfvm::verifier::test::structured_case({data, size}, helpers)) {
    std::fprintf(stderr, "verifier accepted an unsafe program: %s\n", fault->c_str());
    std::abort();
  }
  return 0;
}
