// Stack promotion in frames whose address escapes (jit/opt/promote_stack.cpp with
// VerifierFacts::stack_ranges): the verifier's per-pc ranges say which bytes each variable-offset
// access, and each access through a stack pointer loaded from memory, may touch. A slot no such range
// reaches becomes a value; one a range reaches stays in memory, and the programs below make those
// accesses really hit it. Each runs on the tier with the verifier's facts against the checked
// interpreter, for inputs that hit and miss the slot.
#include <catch2/catch.hpp>

#include <cstring>

#include "jit/opt/listing_notes.hpp"
#include "jit/opt/regalloc.hpp"
#include "tests/jit/opt_test_support.hpp"
#include "verifier/verifier.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

constexpr std::uint32_t kInputBytes = 64;

jit::opt::RegisterFile eight_registers() {
  jit::opt::RegisterFile rf;
  rf.allocatable = {0, 1, 2, 3, 4, 5, 6, 7};
  rf.survives_calls.assign(8, false);
  return rf;
}

/// r0 = the first slot's u64 plus each next one's shifted left by 8 more bits, then exit (offsets below r10).
std::string slots_weighted(std::initializer_list<int> offsets) {
  std::string t;
  int shift = 0;
  for (const int off : offsets) {
    t += (shift == 0 ? "ldxdw %r0, [%r10-" : "ldxdw %r5, [%r10-") + std::to_string(off) + "]\n";
    if (shift != 0) t += "lsh %r5, " + std::to_string(shift) + "\nadd %r0, %r5\n";
    shift += 8;
  }
  return t + "exit\n";
}

/// What the verifier proved of `program` (a plain-memory program over kInputBytes bytes), as the API
/// hands it to the tier.
jit::opt::VerifierFacts verified_facts(const vm::Program& program) {
  const auto helpers = helpers_with_store();
  verifier::VerifierOptions vo;
  vo.program_type = verifier::program_types::plain(kInputBytes);
  vo.helpers = &helpers;
  auto verified = verifier::verify(program, vo);
  INFO((verified ? std::string() : verified.error().reason));
  REQUIRE(verified);
  REQUIRE(verified->stack_ranges().size() == program.size());
  return {.pointers_stay_in_frame = true, .stack_ranges = verified->stack_ranges()};
}

/// How many slots promotion takes with `facts` (the function as lowered, no other pass before it).
std::uint32_t promoted_slots(const vm::Program& program, const jit::opt::VerifierFacts& facts) {
  auto fn = optimized_function(program, helpers_with_store(), {.fold_constants = false, .remove_zext = false, .dce = false,
                                                         .promote_stack = false});
  return jit::opt::promote_stack_slots(fn, facts);
}

/// The tier with the verifier's facts (promotion on and off) gives the checked interpreter's outcome
/// for an input whose every u64 is `word`. Returns r0.
std::uint64_t same_as_interpreter(const vm::Program& program, const jit::opt::VerifierFacts& facts, std::uint64_t word) {
  std::vector<std::uint8_t> input(kInputBytes, 0);
  for (std::size_t at = 0; at < kInputBytes; at += 8) std::memcpy(input.data() + at, &word, 8);
  std::uint64_t r0 = 0;
  for (bool promote : {true, false}) {
    jit::JitOptions jo;
    jo.passes.promote_stack = promote;
    jo.zero_stack = true;
    jo.facts = facts;
    INFO("input " << word << ", promotion " << (promote ? "on" : "off"));
    r0 = check_tier_equals_interpreter(program, input, nullptr, jo).r0;
  }
  return r0;
}

}  // namespace

TEST_CASE("stack ranges: the verifier records the bytes each stack access may touch", "[jit][opt][stack_ranges]") {
  const auto program = assemble_program(
      "ldxdw %r2, [%r1]\n"            // 0
      "and %r2, 24\n"                 // 1: 0, 8, 16 or 24
      "mov %r3, %r10\n"               // 2
      "add %r3, -48\n"                // 3
      "add %r3, %r2\n"                // 4: r10 - 48 .. r10 - 24
      "stdw [%r10-8], 1\n"            // 5
      "stxdw [%r3+0], %r2\n"          // 6: [-48, -16)
      "stxdw [%r10-16], %r3\n"        // 7: a stack pointer spilled
      "ldxdw %r4, [%r10-16]\n"        // 8
      "ldxw %r0, [%r4+4]\n"           // 9: through the filled pointer: [-44, -16)
      "exit\n");
  const auto facts = verified_facts(program);
  using K = vm::StackRange::Kind;
  CHECK(facts.stack_ranges[0].kind == K::None);  // the input, not the stack
  CHECK(facts.stack_ranges[4].kind == K::None);
  CHECK(facts.stack_ranges[5] == vm::StackRange::bytes(0, -8, 0));
  CHECK(facts.stack_ranges[6] == vm::StackRange::bytes(0, -48, -16));
  CHECK(facts.stack_ranges[7] == vm::StackRange::bytes(0, -16, -8));
  CHECK(facts.stack_ranges[9] == vm::StackRange::bytes(0, -44, -16));
}

TEST_CASE("stack ranges: a callee's access through its caller's pointer names the caller's frame, a helper's is unknown",
          "[jit][opt][stack_ranges]") {
  const auto program = assemble_program(
      "mov %r6, %r1\n"
      "stdw [%r10-8], 0\n"
      "mov %r1, %r10\n"
      "add %r1, -8\n"
      "call local f\n"        // 4
      "mov %r1, %r10\n"
      "add %r1, -8\n"
      "mov %r2, 8\n"
      "call 40\n"             // 8: *(u64 *)(r10 - 8) = 8
      "ldxdw %r0, [%r10-8]\n"
      "exit\n"
      "f:\n"
      "stdw [%r10-16], 3\n"   // 11: its own frame
      "stdw [%r1+0], 7\n"     // 12: the caller's
      "exit\n");
  const auto facts = verified_facts(program);
  CHECK(facts.stack_ranges[4].kind == vm::StackRange::Kind::None);
  CHECK(facts.stack_ranges[8].kind == vm::StackRange::Kind::Unknown);
  CHECK(facts.stack_ranges[11] == vm::StackRange::bytes(0, -16, -8));
  CHECK(facts.stack_ranges[12] == vm::StackRange::bytes(1, -8, 0));

  // A frame that escapes through a variable offset and whose slot -8 a helper writes: the helper's
  // Unknown keeps every slot of it in memory, and the helper's store is what the load sees.
  const auto with_helper = assemble_program(
      "ldxdw %r2, [%r1]\n"
      "and %r2, 8\n"
      "stdw [%r10-8], 1\n"
      "mov %r3, %r10\n"
      "add %r3, -32\n"
      "add %r3, %r2\n"
      "stdw [%r3+0], 5\n"
      "mov %r2, 42\n"
      "mov %r1, %r10\n"
      "add %r1, -8\n"
      "call 40\n"
      "ldxdw %r0, [%r10-8]\n"
      "exit\n");
  const auto helper_facts = verified_facts(with_helper);
  CHECK(promoted_slots(with_helper, helper_facts) == 0);
  const auto helpers = helpers_with_store();
  jit::JitOptions jo;
  jo.zero_stack = true;
  jo.facts = helper_facts;
  CHECK(check_tier_equals_interpreter(with_helper, std::vector<std::uint8_t>(kInputBytes, 0), &helpers, jo).r0 == 42);
}

TEST_CASE("stack ranges: a variable-offset access keeps only the slots it may reach in memory", "[jit][opt][stack_ranges]") {
  // A counter slot at -8 beside an array at [-48, -16): the array's variable index cannot reach the
  // counter, so it is promoted although the frame escapes; with the mask 40 the index can (-48 + 40 =
  // -8) and input 40 does, so the counter must stay in memory.
  const std::string text =
      "ldxdw %r2, [%r1]\n"
      "and %r2, MASK\n"
      "stdw [%r10-8], 5\n"
      "stdw [%r10-24], 0\n"
      "stdw [%r10-32], 0\n"
      "stdw [%r10-40], 0\n"
      "stdw [%r10-48], 0\n"
      "mov %r3, %r10\n"
      "add %r3, -48\n"
      "add %r3, %r2\n"
      "stdw [%r3+0], 99\n"
      "ldxdw %r0, [%r10-8]\n"
      "ldxdw %r4, [%r10-48]\n"
      "add %r0, %r4\n"
      "exit\n";
  auto with_mask = [&](const char* mask) {
    auto t = text;
    t.replace(t.find("MASK"), 4, mask);
    return assemble_program(t);
  };
  const auto misses = with_mask("24");
  const auto misses_facts = verified_facts(misses);
  CHECK(promoted_slots(misses, {.pointers_stay_in_frame = true}) == 0);  // no ranges: the frame escapes
  CHECK(promoted_slots(misses, misses_facts) == 1);                       // -8; -48 .. -24 the index reaches
  for (std::uint64_t w : {0, 8, 16, 24}) CHECK(same_as_interpreter(misses, misses_facts, w) == (w == 0 ? 104 : 5));

  const auto hits = with_mask("40");  // 0, 8, 32 or 40
  const auto hits_facts = verified_facts(hits);
  CHECK(promoted_slots(hits, hits_facts) == 0);
  for (std::uint64_t w : {0, 8, 32, 40}) CHECK(same_as_interpreter(hits, hits_facts, w) == (w == 40 ? 99 : w == 0 ? 104 : 5));
}

TEST_CASE("stack ranges: a stack pointer stored to memory and loaded back reaches what the verifier says",
          "[jit][opt][stack_ranges]") {
  // The address of -8 or -24 (chosen by the input) goes through the slot -40 and comes back as an
  // opaque load; a store through it lands on -8 or -24, so the range is [-24, 0): -8, -16 and -24 stay
  // in memory, and so does -40, which holds a stack address (promote_stack.cpp: the accesses through
  // it would become frame-indexed); -32 (no range reaches it) becomes a value.
  const auto both = assemble_program(std::string(
      "ldxdw %r2, [%r1]\n"
      "and %r2, 16\n"          // 0 or 16
      "stdw [%r10-8], 1\n"
      "stdw [%r10-24], 2\n"
      "stdw [%r10-32], 3\n"
      "mov %r3, %r10\n"
      "add %r3, -24\n"
      "add %r3, %r2\n"         // r10 - 24 or r10 - 8
      "stxdw [%r10-40], %r3\n"
      "ldxdw %r4, [%r10-40]\n"
      "stdw [%r4+0], 50\n")
      + slots_weighted({8, 24, 32}));
  const auto facts = verified_facts(both);
  CHECK(promoted_slots(both, facts) == 1);
  CHECK(same_as_interpreter(both, facts, 0) == 1 + (50 << 8) + (3 << 16));
  CHECK(same_as_interpreter(both, facts, 16) == 50 + (2 << 8) + (3 << 16));

  // The same pointer spilled twice and written through from a callee (its caller's frame, one up).
  const auto from_callee = assemble_program(std::string(
      "ldxdw %r2, [%r1]\n"
      "and %r2, 8\n"           // 0 or 8
      "stdw [%r10-8], 1\n"
      "stdw [%r10-16], 2\n"
      "stdw [%r10-40], 4\n"
      "mov %r3, %r10\n"
      "add %r3, -16\n"
      "add %r3, %r2\n"         // r10 - 16 or r10 - 8
      "stxdw [%r10-24], %r3\n"
      "mov %r1, %r10\n"
      "add %r1, -24\n"
      "call local f\n")
      + slots_weighted({8, 16, 40}) +
      "f:\n"
      "ldxdw %r2, [%r1+0]\n"
      "stxdw [%r10-8], %r2\n"  // the callee's own frame
      "ldxdw %r3, [%r10-8]\n"
      "stdw [%r3+0], 70\n"
      "exit\n");
  const auto callee_facts = verified_facts(from_callee);
  // The caller's -40 and the callee's -8 (it holds a loaded value, not an address); the caller's -8
  // and -16 (reached) and -24 (holds an address) stay.
  CHECK(promoted_slots(from_callee, callee_facts) == 2);
  CHECK(same_as_interpreter(from_callee, callee_facts, 0) == 1 + (70 << 8) + (4 << 16));
  CHECK(same_as_interpreter(from_callee, callee_facts, 8) == 70 + (2 << 8) + (4 << 16));
}

TEST_CASE("stack ranges: an atomic through a loaded pointer and a loop's last index reach their slots",
          "[jit][opt][stack_ranges]") {
  // A loop writes a[i] for i = 0 .. n - 1 (n from the input, 1 .. 4) over [-40, -8): its last
  // iteration reaches -16 only when n = 4. An atomic add through a spilled pointer to -56 or -48.
  const auto program = assemble_program(std::string(
      "ldxdw %r6, [%r1]\n"
      "and %r6, 3\n"
      "add %r6, 1\n"           // n = 1 .. 4
      "stdw [%r10-8], 9\n"
      "stdw [%r10-16], 8\n"
      "stdw [%r10-48], 100\n"
      "stdw [%r10-56], 200\n"
      "mov %r2, 0\n"
      "loop:\n"
      "mov %r3, %r2\n"
      "lsh %r3, 3\n"
      "mov %r4, %r10\n"
      "add %r4, -40\n"
      "add %r4, %r3\n"
      "stxdw [%r4+0], %r2\n"
      "add %r2, 1\n"
      "jlt %r2, %r6, loop\n"
      "ldxdw %r7, [%r1]\n"
      "and %r7, 8\n"
      "mov %r4, %r10\n"
      "add %r4, -56\n"
      "add %r4, %r7\n"
      "stxdw [%r10-64], %r4\n"
      "ldxdw %r5, [%r10-64]\n"
      "mov %r8, 5\n"
      "lock add [%r5+0], %r8\n")
      + slots_weighted({8, 16, 48, 56}));
  const auto facts = verified_facts(program);
  // -8 is a value; -16, -48, -56 (reached) and -64 (holds an address) stay in memory.
  CHECK(promoted_slots(program, facts) == 1);
  for (std::uint64_t w : {0, 1, 2, 3, 8, 11}) {
    const std::uint64_t n = (w & 3) + 1;
    const std::uint64_t at16 = n == 4 ? 3 : 8, at48 = (w & 8) ? 105 : 100, at56 = (w & 8) ? 200 : 205;
    CHECK(same_as_interpreter(program, facts, w) == 9 + (at16 << 8) + (at48 << 16) + (at56 << 24));
  }
}

TEST_CASE("stack ranges: the listing header counts fewer kept stack accesses in an escaped frame",
          "[jit][opt][stack_ranges][listing]") {
  // test_opt_regalloc's loop whose counter shares its frame with an indexed array: without the
  // verifier's ranges the frame escapes and 4 accesses stay (the first store, the array's store, the
  // counter's load and store); with them only the array's store (its index reaches [-72, -64)).
  const auto program = assemble_program(
      "stdw [%r10-8], 0\nmov %r2, 0\nloop:\n"
      "mov %r3, %r10\nadd %r3, -72\nadd %r3, %r2\nstxb [%r3+0], %r2\n"
      "ldxdw %r4, [%r10-8]\nadd %r4, %r2\nstxdw [%r10-8], %r4\nadd %r2, 1\njlt %r2, 8, loop\n"
      "ldxdw %r0, [%r10-8]\nexit\n");
  auto header = [&](const jit::opt::VerifierFacts& facts) {
    auto fn = optimized_function(program, test_helpers(), {.unroll_loops = false}, facts);
    const auto al = jit::opt::allocate_registers(fn, eight_registers());
    const jit::opt::ListingNotes notes(fn, al, program, [](std::uint32_t r) { return "r" + std::to_string(r); });
    return notes.header("test");
  };
  const auto facts = verified_facts(program);
  CHECK(facts.stack_ranges[5] == vm::StackRange::bytes(0, -72, -64));
  INFO(header(facts));
  CHECK(header({.pointers_stay_in_frame = true}).ends_with("0 spilled to 0 slots, 4 stack accesses kept"));
  CHECK(header(facts).ends_with("0 spilled to 0 slots, 1 stack accesses kept"));
  same_as_interpreter(program, facts, 0);
}

TEST_CASE("stack ranges: random verified programs mixing constant slots, indexed stores and spilled stack pointers",
          "[jit][opt][stack_ranges][differential]") {
  // Eight slots [-64, 0) initialised, then random whole and narrow constant-offset accesses, stores and
  // loads at r10 - 64 + (input & mask), stack pointers spilled to a slot, filled and written through
  // (then the slot overwritten, so the end can xor every slot), atomics through such pointers. Every
  // program the verifier accepts runs on the tier with its facts against the checked interpreter on
  // four inputs. Promotion takes some slots of these escaped frames; ignoring a range breaks them.
  std::uint64_t seed = 0x5eed5eedULL;
  auto next = [&](std::uint32_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>((seed >> 33) % n);
  };
  const char* masks[] = {"8", "16", "24", "32", "40", "48", "56", "7"};
  int accepted = 0, promoted_any = 0;
  for (int round = 0; round < 300; ++round) {
    std::string t = "mov %r6, %r1\nmov %r2, 3\nmov %r3, 5\nmov %r4, 7\nmov %r5, 11\n";
    for (int s = 1; s <= 8; ++s) t += "stdw [%r10-" + std::to_string(8 * s) + "], " + std::to_string(s * 13) + "\n";
    auto reg = [&] { return "%r" + std::to_string(2 + next(4)); };
    auto slot = [&] { return std::to_string(8 * (1 + next(8))); };
    auto variable_pointer = [&](const char* into) {
      t += "ldxdw %r7, [%r6+" + std::to_string(8 * next(4)) + "]\n";
      t += std::string("and %r7, ") + masks[next(8)] + "\n";
      t += std::string("mov ") + into + ", %r10\nadd " + into + ", -64\nadd " + into + ", %r7\n";
    };
    const int ops = 4 + static_cast<int>(next(10));
    for (int k = 0; k < ops; ++k) {
      switch (next(9)) {
        case 0: t += "stxdw [%r10-" + slot() + "], " + reg() + "\n"; break;
        case 1: t += "ldxdw " + reg() + ", [%r10-" + slot() + "]\n"; break;
        case 2: t += "add " + reg() + ", " + std::to_string(next(100)) + "\n"; break;
        case 3: variable_pointer("%r8"); t += "stxdw [%r8+0], " + reg() + "\n"; break;
        case 4: variable_pointer("%r8"); t += "ldxb " + reg() + ", [%r8+" + std::to_string(next(8)) + "]\n"; break;
        case 5: {
          const auto at = slot();
          variable_pointer("%r8");
          t += "stxdw [%r10-" + at + "], %r8\nldxdw %r9, [%r10-" + at + "]\n";
          t += "stxw [%r9+" + std::to_string(4 * next(2)) + "], " + reg() + "\n";
          t += "stdw [%r10-" + at + "], 1\n";
          break;
        }
        case 6: t += "stxw [%r10-" + std::to_string(8 * (1 + next(8)) - 4 * next(2)) + "], " + reg() + "\n"; break;
        case 7: variable_pointer("%r8"); t += "lock add [%r8+0], " + reg() + "\n"; break;
        case 8: {
          const auto at = slot();
          t += "mov %r8, %r10\nadd %r8, -" + slot() + "\nstxdw [%r10-" + at + "], %r8\nldxdw %r9, [%r10-" + at +
               "]\nstxdw [%r9+0], " + reg() + "\nstdw [%r10-" + at + "], 2\n";
          break;
        }
      }
    }
    t += "mov %r0, 0\n";
    for (int s = 1; s <= 8; ++s)
      t += "ldxdw %r7, [%r10-" + std::to_string(8 * s) + "]\nlsh %r0, 5\nxor %r0, %r7\n";
    t += "add %r0, %r2\nadd %r0, %r3\nadd %r0, %r4\nadd %r0, %r5\nexit\n";
    const auto program = assemble_program(t);
    verifier::VerifierOptions vo;
    vo.program_type = verifier::program_types::plain(kInputBytes);
    auto verified = verifier::verify(program, vo);
    if (!verified) continue;
    ++accepted;
    const jit::opt::VerifierFacts facts{.pointers_stay_in_frame = true, .stack_ranges = verified->stack_ranges()};
    if (promoted_slots(program, facts) > 0) ++promoted_any;
    INFO(t);
    for (std::uint64_t w : {0ULL, 0x3838383838383838ULL, 0x0f0f0f0f0f0f0f0fULL, ~0ULL})
      same_as_interpreter(program, facts, w);
  }
  std::printf("stack ranges: %d of 300 random programs verified, %d with slots promoted\n", accepted, promoted_any);
  CHECK(accepted >= 100);
  CHECK(promoted_any >= 50);
}
