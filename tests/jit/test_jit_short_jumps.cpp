// Forward jumps in rel8: the size bounds they rest on (jit/x86_64/native_size_bound.hpp) must hold
// for every instruction of every conformance and random program in every configuration, and a
// rel8 that does not reach must be rebuilt in rel32 rather than fail or jump wrong.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

#include "tests/jit/conformance_files.hpp"
#include "tests/jit/jit_test_support.hpp"
#include "tests/jit/random_program.hpp"
#include "vm/assembler.hpp"
#include "vm/data_file.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

#if defined(__x86_64__)
#include "jit/x86_64/emitter.hpp"
#include "jit/x86_64/native_size_bound.hpp"

namespace {

struct BoundTally {
  int instructions = 0;
  int violations = 0;
  std::uint32_t tightest_slack = ~0u;  // smallest bound - size seen
};

// Compiles every variant of program with these options and compares each instruction's native
// size (the distance between its start and the next instruction's, which includes the padding
// that aligns a loop head) with its bound.
void check_bounds(const vm::Program& program, const vm::HelperRegistry& helpers, bool blind, bool baseline,
                  BoundTally& t) {
  jit::JitOptions jo;
  jo.blind_constants = blind;
  jo.baseline_isa_only = baseline;
  auto jp = jit::JitProgram::compile(program, helpers, {}, jo);
  REQUIRE(jp);
  const std::vector<bool> heads = jit::x86_64::loop_heads(program);
  for (auto v : {jit::Variant::Fast, jit::Variant::Counted, jit::Variant::Checked}) {
    REQUIRE(jp->prepare(v));
    for (std::size_t pc = 0; pc < program.size();) {
      const std::size_t next = pc + (isa::is_wide(program.op(pc)) ? 2 : 1);
      if (next >= program.size()) break;  // the last instruction's end is where cold code starts
      const auto size = jp->native_offset(v, static_cast<std::uint32_t>(next)) -
                        jp->native_offset(v, static_cast<std::uint32_t>(pc));
      const auto bound = jit::x86_64::max_native_bytes(program, pc, v, blind) +
                         (heads[next] ? jit::x86_64::kLoopHeadPadding : 0);  // alignment before next
      ++t.instructions;
      if (size > bound) {
        ++t.violations;
        if (t.violations <= 5)
          std::printf("bound violated: %s pc %zu variant %d blind %d baseline %d: %u > %u bytes\n",
                      program.name.c_str(), pc, static_cast<int>(v), blind, baseline, size, bound);
      } else {
        t.tightest_slack = std::min(t.tightest_slack, bound - size);
      }
      pc = next;
    }
  }
}

vm::Program assembled(const std::string& text) {
  auto insns = vm::assemble(text);
  REQUIRE(insns);
  auto program = vm::decode_program(*insns, "short_jumps");
  REQUIRE(program);
  return std::move(*program);
}

jit::NativeCode backend_compile(const vm::Program& program, jit::ForwardJumps jumps) {
  jit::CompileRequest req;
  req.program = &program;
  req.forward_jumps = jumps;
  auto native = jit::x86_64::compile(req);
  REQUIRE(native);
  return std::move(*native);
}

// `jeq %r1, 0, +N` over N instructions of 5 bytes each (mov32 with a nonzero immediate).
std::string jump_over(int n) {
  std::string text = "jeq %r1, 0, +" + std::to_string(n) + "\n";
  for (int i = 0; i < n; ++i) text += "mov32 %r0, 0x12345678\n";
  return text + "exit\n";
}

// The jcc's opcode: 0x74 for `je rel8`, 0x0f (then 0x84) for `je rel32`. pc 0 is `test rdi, rdi`.
std::uint8_t jcc_opcode(const jit::NativeCode& native) { return native.bytes[native.pc_offsets[0] + 3]; }

}  // namespace

TEST_CASE("native size bounds hold on every conformance program", "[jit][short-jumps]") {
  const auto files = conformance_files();
  REQUIRE(files.size() >= 313);
  const auto helpers = test_helpers();
  BoundTally t;
  for (const auto& path : files) {
    INFO(path.filename().string());
    const auto program = read_conformance_program(path).program;
    for (bool blind : {false, true})
      for (bool baseline : {false, true}) check_bounds(program, helpers, blind, baseline, t);
  }
  std::printf("size bounds: %d instructions, %d violations, tightest slack %u bytes\n", t.instructions,
              t.violations, t.tightest_slack);
  CHECK(t.violations == 0);
  CHECK(t.instructions > 10000);
}

TEST_CASE("native size bounds hold on random programs", "[jit][short-jumps]") {
  RandomProgramConfig cfg;
  cfg.main_insns = 120;
  cfg.sub_insns = 30;
  RandomProgramGenerator gen(2026, cfg);
  const auto helpers = test_helpers();
  BoundTally t;
  for (int i = 0; i < 300; ++i) {
    auto program = vm::decode_program(gen.next(), "random");
    if (!program) continue;
    check_bounds(*program, helpers, i % 3 == 1, i % 2 == 1, t);
  }
  std::printf("size bounds (random): %d instructions, %d violations, tightest slack %u bytes\n",
              t.instructions, t.violations, t.tightest_slack);
  CHECK(t.violations == 0);
  CHECK(t.instructions > 50000);
}

TEST_CASE("forward jumps are rel8 exactly when the bound proves they reach", "[jit][short-jumps]") {
  // The real code jumped over is 5 bytes per instruction: every one of these would fit in rel8, so
  // the choice must follow the bound alone.
  int rel8 = 0, rel32 = 0;
  for (int n = 5; n <= 25; ++n) {
    INFO("jump over " << n << " instructions");
    const auto program = assembled(jump_over(n));
    const auto bounds = jit::x86_64::native_offset_bounds(program, jit::Variant::Fast, false);
    const bool proven = bounds[static_cast<std::size_t>(n) + 1] - bounds[1] <= 127;
    const auto native = backend_compile(program, jit::ForwardJumps::Sized);
    CHECK(jcc_opcode(native) == (proven ? 0x74 : 0x0f));
    CHECK_FALSE(native.rebuilt_with_near_jumps);
    CHECK(jcc_opcode(backend_compile(program, jit::ForwardJumps::AllNear)) == 0x0f);
    ++(proven ? rel8 : rel32);
  }
  CHECK(rel8 > 0);  // both sides of the boundary were exercised
  CHECK(rel32 > 0);
}

TEST_CASE("a rel8 jump that does not reach is rebuilt with rel32 jumps", "[jit][short-jumps]") {
  // 40 × 5 real bytes = 200: a forced rel8 cannot reach.
  const auto program = assembled(jump_over(40));
  const auto forced = backend_compile(program, jit::ForwardJumps::AllShort);
  CHECK(forced.rebuilt_with_near_jumps);
  const auto near = backend_compile(program, jit::ForwardJumps::AllNear);
  CHECK_FALSE(near.rebuilt_with_near_jumps);
  CHECK(forced.bytes == near.bytes);
  CHECK(forced.pc_offsets == near.pc_offsets);
  // Within reach (20 × 5 bytes), forced rel8 stays rel8 and needs no rebuild.
  const auto short_ok = backend_compile(assembled(jump_over(20)), jit::ForwardJumps::AllShort);
  CHECK_FALSE(short_ok.rebuilt_with_near_jumps);
  CHECK(jcc_opcode(short_ok) == 0x74);
}
#endif  // __x86_64__
