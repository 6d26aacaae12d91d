// libFuzzer soundness harness: bytes -> program; if the verifier accepts it, the checked interpreter
// must run it on several inputs without a memory fault or budget overrun. Anything else aborts.
#include <cstdio>
#include <cstdlib>

#include "tests/verifier/random_program.hpp"
#include "tests/verifier/soundness_run.hpp"
#include "tests/verifier/verifier_test_support.hpp"

using namespace bpfvm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const vm::HelperRegistry helpers = verifier::test::kernel_like_helpers();
  if (size < 2) return 0;
  verifier::test::ByteSource src({data + 1, size - 1});
  const std::uint32_t mem_size = 8u * (data[0] % 9);
  auto program = vm::decode_program(verifier::test::random_program(src, 64), "fuzz");
  if (!program) return 0;
  verifier::VerifierOptions opts;
  opts.program_type = verifier::program_types::plain(mem_size);
  opts.helpers = &helpers;
  opts.max_processed_insns = 100'000;
  // A hostile input may make verification slow (state compares, not insns): stop it well before
  // libFuzzer's -timeout would call it a hang.
  opts.max_time_us = 1'000'000;
  auto verified = verifier::verify(*program, opts);
  if (!verified) return 0;
  if (auto fault = verifier::test::run_accepted(*verified, helpers, mem_size, size)) {
    std::fprintf(stderr, "verifier accepted an unsafe program: %s\n", fault->c_str());
    std::abort();
  }
  return 0;
}
