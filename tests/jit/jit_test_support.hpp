// Shared test scaffolding: a helper registry with deterministic helpers, and running one program
// on both engines with identical memory and comparing everything observable.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "jit/jit_program.hpp"
#include "vm/interpreter.hpp"

namespace bpfvm::testing {

inline std::uint64_t helper_mix(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d,
                                std::uint64_t e, vm::RunContext*) {
  return (a * 31) ^ (b + c * 7) ^ (d << 3) ^ (e >> 1) ^ 0x9e3779b97f4a7c15ull;
}
inline std::uint64_t helper_fault(std::uint64_t a, std::uint64_t, std::uint64_t, std::uint64_t,
                                  std::uint64_t, vm::RunContext* ctx) {
  if ((a & 3) == 0) ctx->helper_fault = "argument r1 is a multiple of 4";
  return a + 1;
}
inline std::uint64_t helper_ktime(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                  std::uint64_t, vm::RunContext*) {
  return 123456789;
}

inline vm::HelperRegistry test_helpers() {
  vm::HelperRegistry h;
  h.add(vm::HelperEntry{1, "test_mix", &helper_mix, nullptr, {}});
  h.add(vm::HelperEntry{2, "test_fault", &helper_fault, nullptr, {}});
  h.add(vm::HelperEntry{5, "bpf_ktime_get_ns", &helper_ktime, nullptr, {}});
  return h;
}

/// What one run shows the outside world.
struct Outcome {
  bool ok = false;
  std::uint64_t r0 = 0;
  std::uint64_t insns = 0;
  Errc code = Errc::Ok;
  std::uint32_t pc = kNoPc;
  std::string reason;
  std::vector<std::uint8_t> memory;

  std::string describe() const {
    if (ok) return "r0=" + std::to_string(r0) + " insns=" + std::to_string(insns);
    return std::string(errc_name(code)) + " pc=" + std::to_string(pc) + " " + reason;
  }
  bool operator==(const Outcome& o) const {
    return ok == o.ok && r0 == o.r0 && insns == o.insns && code == o.code && pc == o.pc &&
           reason == o.reason && memory == o.memory;
  }
};

/// What a run left: its result or error, and the memory it ran on.
inline Outcome outcome_of(const Result<vm::ExecResult>& r, const std::vector<std::uint8_t>& memory, bool compare_insns) {
  Outcome o;
  if (r) {
    o.ok = true;
    o.r0 = r->r0;
    o.insns = compare_insns ? r->insns_executed : 0;
  } else {
    o.code = r.error().code;
    o.pc = r.error().pc;
    o.reason = r.error().reason;
  }
  o.memory = memory;
  return o;
}

template <class Engine>
Outcome run_engine(const Engine& engine, std::vector<std::uint8_t>& buffer, const std::vector<std::uint8_t>& initial,
                   const vm::ExecOptions& options, bool compare_insns = true) {
  if (!initial.empty()) std::memcpy(buffer.data(), initial.data(), initial.size());
  vm::RunContext ctx;
  const auto base = reinterpret_cast<std::uintptr_t>(buffer.data());
  ctx.regions.push_back(vm::Region{base, buffer.size(), true, "input"});
  const std::uint64_t args[] = {base, buffer.size()};
  return outcome_of(engine.run(ctx, args, options), buffer, compare_insns);
}

}  // namespace bpfvm::testing
