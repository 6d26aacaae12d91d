// Structured soundness property (issue #14): programs built from escape-shaped gadgets
// (structured_soundness.hpp); every one the verifier accepts must run clean in checked mode. The
// seeds under tests/corpus/fuzz_verifier_structured/ (one per escape class) run first, then a fixed
// number of pseudo-random byte strings, so the test is deterministic.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "tests/verifier/structured_soundness.hpp"
#include "vm/disassembler.hpp"

using namespace bpfvm;
using namespace bpfvm::verifier::test;

namespace {

std::string listing(std::span<const std::uint8_t> bytes) {
  ByteSource src(bytes.subspan(1));
  auto program = vm::decode_program(structured_program(src, 24), "structured");
  return program ? vm::disassemble(*program) : std::string("(undecodable)");
}

}  // namespace

TEST_CASE("structured soundness: accepted escape-shaped programs run without faults in checked mode") {
  const auto helpers = structured_helpers();
  std::vector<std::vector<std::uint8_t>> inputs;
  const auto seeds = std::filesystem::path(BPFVM_SOURCE_DIR) / "tests" / "corpus" / "fuzz_verifier_structured";
  for (const auto& e : std::filesystem::directory_iterator(seeds)) {
    std::ifstream f(e.path(), std::ios::binary);
    inputs.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  const std::size_t n_seeds = inputs.size();
  REQUIRE(n_seeds >= 8);
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  // BPFVM_STRUCTURED_INPUTS=N runs N pseudo-random inputs instead of 6,000 (longer local runs).
  const char* n_env = std::getenv("BPFVM_STRUCTURED_INPUTS");
  const long n_random = n_env ? std::strtol(n_env, nullptr, 10) : 6000;
  for (long i = 0; i < n_random; ++i) {
    std::vector<std::uint8_t> bytes(8 + i % 64);
    for (auto& b : bytes) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b = static_cast<std::uint8_t>(x);
    }
    inputs.push_back(std::move(bytes));
  }
  std::size_t accepted = 0, seeds_accepted = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    bool ok = false;
    std::string refusal;
    const auto fault = structured_case(inputs[i], helpers, &ok, &refusal);
    if (i < n_seeds && std::getenv("BPFVM_STRUCTURED_VERBOSE"))
      std::cout << "seed " << i << ": " << (ok ? "accepted" : refusal) << "\n" << listing(inputs[i]) << "\n";
    accepted += ok;
    if (i < n_seeds) seeds_accepted += ok;
    if (fault) FAIL("verifier accepted an unsafe program (input " << i << "): " << *fault << "\n" << listing(inputs[i]));
  }
  std::cout << "structured soundness: " << accepted << " of " << inputs.size() << " programs accepted ("
            << seeds_accepted << " of " << n_seeds << " seeds), all ran clean\n";
  CHECK(accepted > inputs.size() / 20);  // the generator must keep producing programs the verifier accepts
}
