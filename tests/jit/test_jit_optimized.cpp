// The optimizing tier (jit/opt/) against the interpreter: every conformance program, random
// programs (tests/jit/random_program.hpp) on the fast variant, and the tiering policy (baseline at
// once, optimize() on request, fallback with a reason, tier() telling which code runs).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

#include "jit/opt/pipeline.hpp"
#include "tests/jit/conformance_files.hpp"
#include "tests/jit/jit_test_support.hpp"
#include "tests/jit/opt_test_support.hpp"
#include "tests/jit/random_program.hpp"
#include "vm/assembler.hpp"
#include "vm/data_file.hpp"
#include "vm/disassembler.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

/// The optimized IR of a program, as text (for failure messages).
std::string ir_text(const vm::Program& program) {
  const auto values = wide_values(program);
  jit::CompileRequest req;
  req.program = &program;
  req.lddw_values = values;
  auto fn = jit::opt::build_optimized(req, {});
  return fn ? jit::opt::to_text(*fn) : fn.error().reason;
}

}  // namespace

TEST_CASE("every conformance program passes on the optimizing tier", "[jit][opt][conformance]") {
  const auto files = conformance_files();
  REQUIRE(files.size() >= 313);
  const auto helpers = test_helpers();
  // Each pass switched off once, then all on: a pass must not be what makes a program pass.
  const jit::opt::PassSet configs[] = {{}, {.fold_constants = false}, {.remove_zext = false}, {.dce = false},
                                       {.promote_stack = false}, {.fold_addresses = false},
                                       {.select = false}, {.strength_reduce = false},
                                       {.cse = false}, {.licm = false}, {.combine_loads = false}, {.unroll_loops = false},
                                       {.address_after_step = false}};
  int passed = 0, optimized = 0;
  for (const auto& path : files) {
    INFO(path.filename().string());
    const auto [file, program] = read_conformance_program(path);
    REQUIRE(file.result);
    auto interp = vm::Interpreter::create(program, helpers);
    REQUIRE(interp);
    bool all = true, on_tier = true;
    for (const auto& passes : configs) {
      auto jp = jit::JitProgram::compile(program, helpers, {}, optimizing(passes));
      REQUIRE(jp);
      on_tier = on_tier && jp->tier(jit::Variant::Fast) == jit::Tier::Optimized;
      std::vector<std::uint8_t> buffer(file.mem.size());
      const auto got = run_engine(*jp, buffer, file.mem, {}, /*compare_insns=*/false);
      vm::ExecOptions checked;
      checked.checked = true;
      const auto want = run_engine(*interp, buffer, file.mem, checked, /*compare_insns=*/false);
      INFO(got.describe() << " vs interpreter " << want.describe() << "\n" << ir_text(program));
      CHECK(got.ok);
      CHECK(got.r0 == *file.result);
      CHECK(got == want);
      all = all && got.ok && got.r0 == *file.result && got == want;
    }
    passed += all;
    optimized += on_tier;
  }
  std::printf("conformance on the optimizing tier: %d/%zu files pass in all %zu pass sets; %d ran optimized code"
              " (the rest fell back to the baseline)\n",
              passed, files.size(), std::size(configs), optimized);
  CHECK(passed == static_cast<int>(files.size()));
  // What the tier covers today (x86-64 and arm64); a fallback creeping in shows here.
  CHECK(optimized >= 313);  // every file since callx is lowered (312 before)
}

TEST_CASE("the optimizing tier equals the interpreter on random programs", "[jit][opt][differential]") {
  RandomProgramConfig cfg;
  cfg.zero_stack_first = true;  // the fast variant does not zero the stack
  const auto helpers = test_helpers();
  int compared = 0, optimized = 0, mismatches = 0;
  for (std::uint64_t seed : {31u, 32u, 33u}) {
    RandomProgramGenerator gen(seed, cfg);
    std::vector<std::uint8_t> buffer(cfg.buffer_bytes);
    for (int i = 0; i < 1500; ++i) {
      auto program = vm::decode_program(gen.next(), "random");
      if (!program) continue;
      const auto initial = gen.next_input();
      auto interp = vm::Interpreter::create(*program, helpers);
      REQUIRE(interp);
      vm::ExecOptions checked;
      checked.checked = true;
      checked.budget_insns = 100'000;
      const auto want = run_engine(*interp, buffer, initial, checked, /*compare_insns=*/false);
      // Only runs that are safe unchecked and end: the same input takes the same path.
      if (want.code == Errc::MemoryFault || want.code == Errc::BudgetExceeded) continue;
      auto jp = jit::JitProgram::compile(*program, helpers, {}, optimizing());
      if (!jp) std::printf("%s\n%s\n", jp.error().reason.c_str(), vm::disassemble(*program, vm::DisasmStyle::Listing).c_str());
      REQUIRE(jp);
      optimized += jp->tier(jit::Variant::Fast) == jit::Tier::Optimized;
      const auto got = run_engine(*jp, buffer, initial, {}, /*compare_insns=*/false);
      ++compared;
      if (!(got == want)) {
        if (++mismatches <= 3)
          std::printf("MISMATCH (optimized) seed %llu #%d\n interp: %s\n jit:    %s\n%s\n%s\n",
                      static_cast<unsigned long long>(seed), i, want.describe().c_str(), got.describe().c_str(),
                      vm::disassemble(*program, vm::DisasmStyle::Listing).c_str(), ir_text(*program).c_str());
      }
    }
  }
  std::printf("optimizing tier vs interpreter: %d random programs compared, %d on optimized code, %d mismatches\n",
              compared, optimized, mismatches);
  CHECK(mismatches == 0);
  CHECK(compared > 1000);
  CHECK(optimized > compared / 5);  // the generator's deep call chains stay on the baseline
}

TEST_CASE("the optimizing tier spills under register pressure and keeps values across helper calls",
          "[jit][opt][regalloc]") {
  // Seven frames deep (main + 6 inlined calls), each frame keeps r6..r9 live across the calls below
  // it: 28 values live at once at the deepest point, more than either host's allocatable registers
  // (13 on x86-64, 24 on arm64), and a helper call there, across which only callee-saved registers
  // (6 / 10) survive. So spill slots, slot-to-register moves and moves around the call all run.
  std::string text;
  constexpr int kDepth = 7;
  for (int d = 0; d < kDepth; ++d) {
    const std::string k = std::to_string(d + 1);
    text += "F" + std::to_string(d) + ":\nldxdw %r6, [%r1+" + std::to_string(8 * (d % 4)) + "]\n" +
            "mov %r7, %r6\nxor %r7, " + k + "\nmov %r8, %r6\nmul %r8, " + k + "\nmov %r9, %r6\nrsh %r9, " + k + "\n" +
            "add %r6, " + k + "\n";
    if (d + 1 < kDepth) text += "call local F" + std::to_string(d + 1) + "\n";
    else text += "mov %r1, %r9\nmov %r2, %r8\nmov %r3, %r7\ncall 1\n";
    text += "mul %r0, 31\nadd %r0, %r6\nxor %r0, %r7\nsub %r0, %r8\nadd %r0, %r9\nexit\n";
  }
  INFO(text);
  const auto program = assemble_program(text, "pressure");
  std::vector<std::uint8_t> initial(32);
  for (std::size_t i = 0; i < initial.size(); ++i) initial[i] = static_cast<std::uint8_t>(37 * i + 11);
  INFO(ir_text(program));
  check_tier_equals_interpreter(program, initial);
}

// Calls nested past isa::kMaxCallFrames on a path no run takes: the tier refuses the program (it
// inlines every call), the interpreter and the baseline run it.
std::string refused_by_the_tier() {
  std::string text = "mov %r1, 2\njne %r1, 7, out\ncall local f1\nout:\nmov %r0, 3\nexit\n";
  for (int f = 1; f <= 8; ++f) text += "f" + std::to_string(f) + ":\ncall local f" + std::to_string(f + 1) + "\nexit\n";
  return text + "f9:\nexit\n";
}

TEST_CASE("tiering: baseline at once, optimized on request, fallback with a reason", "[jit][opt][tiering]") {
  const auto helpers = test_helpers();
  // A loop with a helper call: r0 = sum of test_mix(i, ...) bits over 10 rounds.
  const auto loop = assemble_program(
      "mov %r6, 0\nmov %r7, 10\nL1:\nmov %r1, %r7\nmov %r2, 3\ncall 1\nadd %r6, %r0\nsub %r7, 1\n"
      "jne %r7, 0, L1\nmov %r0, %r6\nexit\n",
      "tiering");
  auto jp = jit::JitProgram::compile(loop, helpers);
  REQUIRE(jp);
  CHECK(jp->tier(jit::Variant::Fast) == jit::Tier::Baseline);
  std::vector<std::uint8_t> buffer(8), initial(8);
  const auto before = run_engine(*jp, buffer, initial, {}, false);
  REQUIRE(jp->optimize());
  CHECK(jp->tier(jit::Variant::Fast) == jit::Tier::Optimized);
  CHECK(jp->tier(jit::Variant::Checked) == jit::Tier::Baseline);  // checked runs keep the baseline
  const auto after = run_engine(*jp, buffer, initial, {}, false);
  CHECK(before == after);
  CHECK(before.ok);

  // A program the tier refuses: compile falls back, optimize() names the reason, runs still work.
  const auto deep = assemble_program(refused_by_the_tier(), "tiering");
  auto fallback = jit::JitProgram::compile(deep, helpers, {}, optimizing());
  REQUIRE(fallback);
  CHECK(fallback->tier(jit::Variant::Fast) == jit::Tier::Baseline);
  const auto refused = fallback->optimize();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::Unsupported);
  CHECK(refused.error().reason.find("call-depth limit") != std::string::npos);
  const auto ran = run_engine(*fallback, buffer, initial, {}, false);
  CHECK(ran.ok);
  CHECK(ran.r0 == 3);
}

TEST_CASE("listings show the optimizing tier's code when it is what runs", "[jit][opt][listing]") {
  const auto helpers = test_helpers();
  const auto loop = assemble_program("mov %r0, 0\nmov %r2, 10\nL1:\nadd %r0, %r2\nsub %r2, 1\njgt %r2, 0, L1\nexit\n", "listing");
  auto has = [](const std::string& text, const char* what) { return text.find(what) != std::string::npos; };

  auto jp = jit::JitProgram::compile(loop, helpers);
  REQUIRE(jp);
  auto baseline = jp->listing(jit::Variant::Fast);
  REQUIRE(baseline);
  CHECK(baseline->starts_with("tier: baseline"));
  CHECK(has(*baseline, "entry trampoline"));

  REQUIRE(jp->optimize());
  auto optimized = jp->listing(jit::Variant::Fast);
  REQUIRE(optimized);
  INFO(*optimized);
  CHECK(optimized->starts_with("tier: optimized"));
  CHECK(has(*optimized, "(loop head)"));       // block notes
  CHECK(has(*optimized, "pc 3: sub %r2, 1"));  // the baseline's pc lines
  CHECK(has(*optimized, " = phi v"));          // value notes with their locations
  CHECK(has(*optimized, " -> "));
  CHECK_FALSE(has(*optimized, "entry trampoline"));  // not the baseline's code
  // Checked runs still use the baseline, and its listing says so.
  auto checked = jp->listing(jit::Variant::Checked);
  REQUIRE(checked);
  CHECK(checked->starts_with("tier: baseline (") );
  CHECK(has(*checked, "checked variant"));

  // disassemble_native with optimize: the tier's code, or the baseline's with the tier's reason.
  auto direct = jit::disassemble_native(loop, helpers, {}, optimizing());
  REQUIRE(direct);
  CHECK(direct->starts_with("tier: optimized"));
  const auto deep = assemble_program(refused_by_the_tier(), "listing");
  auto refused = jit::disassemble_native(deep, helpers, {}, optimizing());
  REQUIRE(refused);
  CHECK(refused->starts_with("tier: baseline ("));
  CHECK(has(*refused, "refused"));
  CHECK(has(*refused, "call-depth limit"));
  auto fallback = jit::JitProgram::compile(deep, helpers, {}, optimizing());
  REQUIRE(fallback);
  auto fallback_listing = fallback->listing(jit::Variant::Fast);
  REQUIRE(fallback_listing);
  CHECK(fallback_listing->starts_with("tier: baseline ("));
  CHECK(has(*fallback_listing, "refused"));
}

// `a - b` whose result takes b's register (b dies there, a lives on): x86-64 computes it in r11 and
// moves it back (`mov r11, a; sub r11, b; mov b, r11`: one cycle on b's path, the movs renamed away)
// instead of `neg b; add b, a` (two: divmod's acc - q * d ran 1.03x the baseline with it).
TEST_CASE("optimized: a - b into b's register is one sub", "[jit][opt][sub]") {
  for (const char* s : {"", "32"}) {
    const std::string w = s;
    const auto program = testing::assemble_program(
        // 32 bits: a is a 32-bit load, so `mov32 %r0, %r6` is no zero-extension (copy propagated)
        std::string(w.empty() ? "ldxdw" : "ldxw") + " %r6, [%r1]\nldxdw %r7, [%r1+8]\n"
        "mov" + w + " %r2, %r7\nmul" + w + " %r2, 3\n"
        "mov" + w + " %r0, %r6\nsub" + w + " %r0, %r2\n"
        "add %r0, %r6\nexit\n");
    for (const auto& [a, b] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
             {5, 1}, {0, 7}, {~0ull, 0x8000000000000000ull}, {0x123456789abcdefull, 0xfedcba987654321ull}}) {
      std::vector<std::uint8_t> input(16);
      std::memcpy(input.data(), &a, 8);
      std::memcpy(input.data() + 8, &b, 8);
      INFO("width " << (w.empty() ? "64" : "32") << ", a " << a << " b " << b);
      check_tier_equals_interpreter(program, input);
    }
#if defined(__x86_64__)
    const auto listing = testing::optimized_listing(program);
    INFO(listing);
    CHECK(testing::count_of(listing, "\nneg ") == 0);
    CHECK(testing::count_of(listing, "\nsub r11") == 1);
#endif
  }
}

// div/mod on x86-64 need rdx:rax: only values still read after the divide are kept there (rax in
// r10, rdx in a register holding nothing live, the frame slot as a last resort), and the divisor 0
// and -1 cases run out of line. `busy` keeps six loads live across the divide, so rax and rdx hold
// some of them; without it nothing is live there and nothing is saved.
TEST_CASE("optimized: a divide keeps rax and rdx only when values live there", "[jit][opt][divide]") {
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> operands = {
      {100, 7}, {5, 0}, {0x8000000000000000ull, ~0ull}, {0xffffffff80000000ull, 0xffffffffull},
      {0x123456789abcdefull, 0xfedcba98ull}, {~0ull, 3}};
  for (const char* op : {"div", "mod", "sdiv", "smod"})
    for (const char* w : {"", "32"})
      for (bool busy : {false, true}) {
        const std::string live = busy ? "ldxdw %r4, [%r1+16]\nldxdw %r5, [%r1+24]\nldxdw %r6, [%r1+32]\n"
                                        "ldxdw %r7, [%r1+40]\nldxdw %r8, [%r1+48]\nldxdw %r9, [%r1+56]\n"
                                      : "";
        const std::string sum = busy ? "add %r0, %r4\nxor %r0, %r5\nadd %r0, %r6\nxor %r0, %r7\nadd %r0, %r8\n"
                                       "xor %r0, %r9\nadd %r0, %r2\nxor %r0, %r3\n"
                                     : "";
        const auto program = testing::assemble_program("ldxdw %r2, [%r1]\nldxdw %r3, [%r1+8]\n" + live +
                                                       "mov %r0, %r2\n" + op + w + " %r0, %r3\n" + sum + "exit\n");
        for (const auto& [a, b] : operands) {
          std::vector<std::uint8_t> input(64);
          for (std::size_t k = 16; k < 64; ++k) input[k] = static_cast<std::uint8_t>(k * 37);
          std::memcpy(input.data(), &a, 8);
          std::memcpy(input.data() + 8, &b, 8);
          INFO(op << w << (busy ? " with values live" : "") << ", a " << a << " b " << b);
          check_tier_equals_interpreter(program, input);
        }
#if defined(__x86_64__)
        const auto listing = testing::optimized_listing(program);
        INFO(listing);
        CHECK(testing::count_of(listing, "[rsp+8]") == 0);  // no frame slot: a free register keeps rdx
        if (!busy) {
          CHECK(testing::count_of(listing, "mov r10, rax") == 0);
          CHECK(testing::count_of(listing, "mov rax, r10") == 0);
        }
        // The divide's path takes no jump: the 0 (and -1) cases are stubs after the function.
        CHECK(testing::count_of(listing, "stub: divisor 0 or -1") == 1);
#endif
      }
}

// Values live across a divide (here a loop's accumulator and counter) take registers the divide leaves
// alone (x86-64: not rax or rdx), so it saves and restores nothing.
TEST_CASE("optimized: values live across a divide avoid the divide's registers", "[jit][opt][divide]") {
  for (const char* op : {"div", "mod", "sdiv32", "mod32"}) {
    const auto program = testing::assemble_program(
        std::string("ldxdw %r2, [%r1]\nmov %r3, 0\nloop:\nmov %r4, %r3\nadd %r4, 3\nmov %r5, %r2\n") + op +
        " %r5, %r4\nadd %r2, %r5\nadd %r2, %r3\nadd %r3, 1\njlt %r3, 50, loop\nmov %r0, %r2\nexit\n");
    INFO(op);
    for (std::uint64_t a : {0ull, 12345ull, ~0ull, 0x8000000000000000ull}) {
      std::vector<std::uint8_t> input(8);
      std::memcpy(input.data(), &a, 8);
      check_tier_equals_interpreter(program, input);
    }
#if defined(__x86_64__)
    const auto listing = testing::optimized_listing(program);
    INFO(listing);
    std::istringstream lines(listing);
    for (std::string line; std::getline(lines, line);)
      if (line.find("= phi") != std::string::npos) {
        CHECK(line.find("-> rax") == std::string::npos);
        CHECK(line.find("-> rdx") == std::string::npos);
      }
    CHECK(testing::count_of(listing, "mov r10, rax") == 0);
    CHECK(testing::count_of(listing, "[rsp+8]") == 0);
#endif
  }
}

#if defined(__x86_64__)
// A loop of at most 64 bytes starts on a 64-byte boundary when it would cross a 64-byte line from
// its 32-byte one (compile_optimized's second pass); longer loops keep 32. `lead` straight-line
// instructions before the loop move its head through the 32-byte positions.
TEST_CASE("optimized: a small loop crossing a 64-byte line starts on one", "[jit][opt][align]") {
  std::size_t wide = 0, small_variants = 0;
  for (bool small : {true, false})
    for (int lead = 0; lead < 12; ++lead) {
      std::string text = "ldxdw %r2, [%r1]\nmov %r0, 0\nmov %r3, 0\n";
      for (int k = 0; k < lead; ++k) text += "add %r2, " + std::to_string(k * 977 + 1) + "\n";
      text += "loop:\nmov %r4, %r2\nrsh %r4, %r3\nand %r4, 0xff\nadd %r0, %r4\nxor %r0, %r3\nmul %r0, 7\nadd %r0, 0x1234\n";
      if (!small)
        for (int k = 0; k < 8; ++k) text += "xor %r0, " + std::to_string(k * 1237 + 5) + "\nmul %r0, 3\n";
      text += "add %r3, 1\njlt %r3, 41, loop\nexit\n";
      const auto program = testing::assemble_program(text);
      check_tier_equals_interpreter(program, std::vector<std::uint8_t>(8, 0x5a));
      // The loop as written (loop_unroll.cpp would copy it: 41 trips, 1 peeled).
      const auto listing = testing::optimized_listing(program, {.unroll_loops = false});
      INFO(listing);
      const auto n = testing::count_of(listing, "align 64");
      if (small) wide += n, ++small_variants;
      else CHECK(n == 0);
      CHECK(testing::count_of(listing, "align 32") + n == 1);
    }
  // Half of the 32-byte positions cross a line for a loop over 32 bytes.
  CHECK(wide > 0);
  CHECK(wide < small_variants);
}
#endif
