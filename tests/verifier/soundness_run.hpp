// The soundness oracle shared by the ctest property test and the libFuzzer harness: an accepted
// program must run in checked mode without a memory fault or budget overrun.
#pragma once

#include <cstring>
#include <optional>
#include <string>

#include "verifier/verifier.hpp"
#include "vm/interpreter.hpp"

namespace bpfvm::verifier::test {

/// nullopt when every run was clean, else the engine's error.
inline std::optional<std::string> run_accepted(const VerifiedProgram& verified, const vm::HelperRegistry& helpers,
                                               std::uint32_t mem_size, std::uint64_t seed) {
  auto interp = vm::Interpreter::create(verified.program(), helpers);
  if (!interp) return "interpreter refused a verified program: " + interp.error().message();
  for (int run = 0; run < 4; ++run) {
    std::vector<std::uint8_t> mem(mem_size);
    for (auto& b : mem) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      b = static_cast<std::uint8_t>(run == 0 ? 0 : run == 1 ? 0xff : seed >> 56);
    }
    vm::RunContext ctx;
    ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(mem.data()), mem.size(), true, "mem"});
    const std::uint64_t args[] = {reinterpret_cast<std::uintptr_t>(mem.data()), mem.size()};
    auto r = interp->run(ctx, args, vm::ExecOptions{1u << 24, true});
    if (!r) return r.error().message();
  }
  return std::nullopt;
}

}  // namespace bpfvm::verifier::test
