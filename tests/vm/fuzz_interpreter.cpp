// libFuzzer: arbitrary bytes as bytecode. Decode must refuse or accept cleanly; accepted programs run
// in checked mode with a budget and must end in a value or an Error, never a crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vm/interpreter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bpfvm;
  auto program = vm::decode_program(std::span<const std::uint8_t>(data, size));
  if (!program) return 0;
  vm::HelperRegistry helpers;
  auto in = vm::Interpreter::create(*program, helpers);
  if (!in) return 0;
  std::uint8_t mem[64] = {};
  vm::RunContext ctx;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(mem), sizeof mem, true, "input"});
  const std::uint64_t args[] = {reinterpret_cast<std::uintptr_t>(mem), sizeof mem};
  (void)in->run(ctx, args, {.budget_insns = 10000, .checked = true});
  return 0;
}
