// Scaffolding the optimizing tier's tests share: assembling a program, its IR after the passes, and a
// helper that writes through the stack pointer it is given.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "jit/opt/pipeline.hpp"
#include "tests/jit/jit_test_support.hpp"
#include "vm/assembler.hpp"

namespace bpfvm::testing {

// Helper 40: *(u64 *)r1 = r2 (a helper writing through a stack pointer it was given).
inline std::uint64_t helper_store(std::uint64_t r1, std::uint64_t r2, std::uint64_t, std::uint64_t, std::uint64_t,
                                  vm::RunContext*) {
  std::memcpy(reinterpret_cast<void*>(r1), &r2, sizeof r2);
  return 0;
}

inline vm::HelperRegistry helpers_with_store() {
  auto h = test_helpers();
  h.add(vm::HelperEntry{40, "test_store", &helper_store, nullptr, {}});
  return h;
}

/// Options that run `passes` on the optimizing tier; `checked` builds keep access checks and budget charges.
inline jit::JitOptions optimizing(jit::opt::PassSet passes = {}, bool checked = false) {
  jit::JitOptions jo;
  jo.optimize = true;
  jo.checked = checked;
  jo.passes = passes;
  return jo;
}

inline vm::Program assemble_program(const std::string& text, const char* name = "opt_test") {
  auto insns = vm::assemble(text);
  REQUIRE(insns);
  auto program = vm::decode_program(*insns, name);
  REQUIRE(program);
  return *program;
}

/// The values of `program`'s lddw instructions (its wide constants; 0 elsewhere), as the tier gets them.
inline std::vector<std::uint64_t> wide_values(const vm::Program& program) {
  std::vector<std::uint64_t> values(program.size(), 0);
  for (std::size_t pc = 0; pc + 1 < program.size(); ++pc)
    if (program.ops[pc] != isa::kNoOp && isa::is_wide(program.op(pc))) values[pc] = program.wide_imm(pc);
  return values;
}

/// The program lowered and run through `passes` (helpers found by id in `helpers`; lddw values 0),
/// built as `variant` (checked builds keep their access checks and budget charges in the IR).
inline jit::opt::Function optimized_function(const vm::Program& program, const vm::HelperRegistry& helpers,
                                             const jit::opt::PassSet& passes, const jit::opt::VerifierFacts& facts = {},
                                             jit::Variant variant = jit::Variant::Fast) {
  std::vector<std::uint64_t> values(program.size(), 0);
  std::vector<const vm::HelperEntry*> calls(program.size(), nullptr);
  for (std::size_t pc = 0; pc < program.size(); ++pc)
    if (program.ops[pc] != isa::kNoOp && program.op(pc).form == isa::Form::Call)
      calls[pc] = helpers.find(static_cast<std::uint32_t>(program.insns[pc].imm));
  jit::CompileRequest req;
  req.program = &program;
  req.lddw_values = values;
  req.helpers = calls;
  req.variant = variant;
  auto fn = jit::opt::build_optimized(req, passes, facts);
  REQUIRE(fn);
  return std::move(*fn);
}

/// The checked interpreter's run of `program` on `input` (in `buffer`, sized to it): the outcome the
/// optimizing tier's runs must equal.
inline Outcome checked_interpreter_outcome(const vm::Program& program, const vm::HelperRegistry& helpers,
                                           const std::vector<std::uint8_t>& input, std::vector<std::uint8_t>& buffer) {
  auto interp = vm::Interpreter::create(program, helpers);
  REQUIRE(interp);
  buffer.assign(input.size(), 0);
  vm::ExecOptions checked;
  checked.checked = true;
  auto want = run_engine(*interp, buffer, input, checked, false);
  REQUIRE(want.ok);
  return want;
}

/// Runs `program` on the optimizing tier compiled with `options` (optimize forced on; every pass by
/// default), which must take it, and requires the checked interpreter's outcome on `input` (helpers:
/// test_helpers() unless given). Returns that outcome.
inline Outcome check_tier_equals_interpreter(const vm::Program& program, const std::vector<std::uint8_t>& input,
                                             const vm::HelperRegistry* with_helpers = nullptr,
                                             jit::JitOptions options = {}) {
  const auto helpers = with_helpers ? *with_helpers : test_helpers();
  std::vector<std::uint8_t> buffer;
  const auto want = checked_interpreter_outcome(program, helpers, input, buffer);
  options.optimize = true;
  auto jp = jit::JitProgram::compile(program, helpers, {}, options);
  REQUIRE(jp);
  REQUIRE(jp->tier(jit::Variant::Fast) == jit::Tier::Optimized);
  CHECK(run_engine(*jp, buffer, input, {}, false) == want);
  return want;
}

/// Runs `program` on the tier with the pass `pass` (a PassSet member) on and off, for an input whose
/// u64 words are `words`, requiring the checked interpreter's outcome both times (helpers: test_helpers()
/// unless given; `facts` as the tier gets them).
inline void run_pass_against_interpreter(const vm::Program& program, bool jit::opt::PassSet::*pass,
                                         std::initializer_list<std::uint64_t> words,
                                         const vm::HelperRegistry* with_helpers = nullptr,
                                         const jit::opt::VerifierFacts& facts = {}) {
  std::vector<std::uint8_t> input(64);
  std::size_t at = 0;
  std::string shown;
  for (auto w : words) {
    std::memcpy(input.data() + at, &w, 8);
    at += 8;
    shown += " " + std::to_string(w);
  }
  for (bool on : {true, false}) {
    jit::JitOptions jo;
    jo.passes.*pass = on;
    jo.facts = facts;
    INFO("pass " << (on ? "on" : "off") << ", words" << shown);
    check_tier_equals_interpreter(program, input, with_helpers, jo);
  }
}

/// The optimizing tier's native listing of `program` (this host's backend, the fast variant).
inline std::string optimized_listing(const vm::Program& program, const jit::opt::PassSet& passes = {}) {
  jit::JitOptions jo;
  jo.optimize = true;
  jo.passes = passes;
  const auto helpers = test_helpers();
  auto jp = jit::JitProgram::compile(program, helpers, {}, jo);
  REQUIRE(jp);
  auto listing = jp->listing(jit::Variant::Fast);
  REQUIRE(listing);
  return *listing;
}

/// How often `what` occurs in `text` (instructions of an IR listing).
inline std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace bpfvm::testing
