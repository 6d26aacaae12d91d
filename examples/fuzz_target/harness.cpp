// A libFuzzer harness for an eBPF program, on bpfvm::fuzz::Harness: every input runs in the checked
// interpreter (and the JIT on new coverage); a fault, an engine disagreement or a broken property
// aborts, so libFuzzer saves the input. The program's own branch edges go to libFuzzer as extra
// counters, so it steers by the eBPF program's coverage, not only by bpfvm's, and the custom mutator
// brings the program's compare immediates.
//
//   BPFVM_FUZZ_OBJECT=planted_bug.bpf.o BPFVM_FUZZ_PROG=xdp_classify ./fuzz_target_harness
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "bpfvm/fuzz.hpp"

namespace {

// libFuzzer reads this section as extra 8-bit coverage counters and clears it before each input.
__attribute__((section("__libfuzzer_extra_counters"))) std::uint8_t g_ebpf_edges[1 << 12];

std::optional<bpfvm::fuzz::Harness> g_harness;

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const char* object = env_or("BPFVM_FUZZ_OBJECT", BPFVM_FUZZ_TARGET_OBJECT);
  const char* program = env_or("BPFVM_FUZZ_PROG", "xdp_classify");
  bpfvm::fuzz::HarnessOptions options;
  // The planted bug's symptom: XDP_ABORTED (0) must never come back.
  auto property = bpfvm::fuzz::parse_property(env_or("BPFVM_FUZZ_PROPERTY", "retval!=0"));
  if (!property) {
    std::fprintf(stderr, "harness: %s\n", property.error().message().c_str());
    std::exit(2);
  }
  options.properties.push_back(std::move(*property));
  auto harness = bpfvm::fuzz::Harness::open(object, program, options);
  if (!harness) {
    std::fprintf(stderr, "harness: %s: %s\n", object, harness.error().message().c_str());
    std::exit(2);
  }
  g_harness.emplace(std::move(*harness));
  return 0;
}

// bpfvm's mutations know the program's compare immediates (ports, magic values); libFuzzer's own
// compare tracing cannot see inside the eBPF program.
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  return g_harness->mutate(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int result = g_harness->test_one_input(data, size);  // aborts on a finding
  g_harness->export_edges(g_ebpf_edges);
  return result;
}
