// Register allocation choices of the optimizing tier (jit/opt/regalloc.cpp) that decide its speed:
// under pressure the value a loop reads on every iteration keeps its register (spill weights), and a
// loop counter shares one register with its increment even when an exit block placed after the
// latch keeps the counter's linear interval open (coalescing by interference). Each program also
// runs on the tier against the interpreter.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>

#include "jit/opt/listing_notes.hpp"
#include "jit/opt/loop_depth.hpp"
#include "jit/opt/moves.hpp"
#include "jit/opt/regalloc.hpp"
#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

jit::opt::RegisterFile eight_registers() {
  jit::opt::RegisterFile rf;
  rf.allocatable = {0, 1, 2, 3, 4, 5, 6, 7};
  rf.survives_calls.assign(8, false);
  return rf;
}

/// r0 of `program` on the optimized tier, required to equal the interpreter's, on a 64-byte input.
std::uint64_t run_both(const vm::Program& program) {
  std::vector<std::uint8_t> input(64);
  for (std::size_t i = 0; i < 32; ++i) input[i] = static_cast<std::uint8_t>(i * 7 + 1);
  input[20] = 0;  // the scan below stops here
  std::memcpy(input.data() + 32, input.data(), 32);  // and finds no difference before
  return check_tier_equals_interpreter(program, input).r0;
}

}  // namespace

TEST_CASE("under register pressure a loop's base pointer keeps its register", "[jit][opt][regalloc]") {
  // Eight promoted stack values live across a loop that reads through r1 on every iteration, r1 read
  // once more at the end (so it lives longest): with eight registers something must be spilled,
  // and it must not be the pointer.
  std::string text;
  for (int k = 0; k < 8; ++k)
    text += "ldxb %r2, [%r1+" + std::to_string(32 + k) + "]\nstxdw [%r10-" + std::to_string(8 * (k + 1)) + "], %r2\n";
  text += "mov %r0, 0\nmov %r2, 0\nloop:\nmov %r3, %r1\nadd %r3, %r2\nldxb %r4, [%r3+0]\nadd %r0, %r4\n"
          "ldxb %r4, [%r3+1]\nxor %r0, %r4\nadd %r2, 2\njlt %r2, 16, loop\n";
  for (int k = 0; k < 8; ++k) text += "ldxdw %r2, [%r10-" + std::to_string(8 * (k + 1)) + "]\nadd %r0, %r2\n";
  text += "ldxb %r2, [%r1+63]\nadd %r0, %r2\nexit\n";
  const auto program = assemble_program(text);
  auto fn = optimized_function(program, test_helpers(), {.unroll_loops = false});  // one copy of the loop
  const auto al = jit::opt::allocate_registers(fn, eight_registers());
  INFO(jit::opt::to_text(fn));
  CHECK(al.spilled > 0);
  int indexed_loads = 0;
  for (jit::opt::ValueId v = 0; v < fn.values.size(); ++v) {
    const auto& i = fn.values[v];
    if (i.dead || i.op != jit::opt::Op::Load || jit::opt::index_of(i) == jit::opt::kNoValue) continue;
    ++indexed_loads;
    CHECK(al.reg[i.args[0]] != jit::opt::Allocation::kNone);  // the pointer
    CHECK(al.reg[jit::opt::index_of(i)] != jit::opt::Allocation::kNone);  // the counter
  }
  CHECK(indexed_loads == 2);
  run_both(program);
}

TEST_CASE("a loop counter and its increment share a register across an exit placed after the latch",
          "[jit][opt][regalloc]") {
  // strcmp's shape: two exits leave the loop for one block that reads the counter; that block is
  // placed after the latch, so the counter's interval spans the increment.
  const auto program = assemble_program(
      "mov %r0, 0\n"
      "loop:\n"
      "mov %r3, %r1\nadd %r3, %r0\nldxb %r4, [%r3+0]\njeq %r4, 0, stop\n"
      "ldxb %r5, [%r3+32]\njne %r4, %r5, stop\n"
      "add %r0, 1\njlt %r0, 32, loop\n"
      "mov %r0, 99\nexit\n"
      "stop:\nmul %r0, 3\nexit\n");
  auto fn = optimized_function(program, test_helpers(), {.unroll_loops = false});  // one copy of the loop
  const auto al = jit::opt::allocate_registers(fn, eight_registers());
  INFO(jit::opt::to_text(fn));
  int increments = 0;
  for (jit::opt::ValueId v = 0; v < fn.values.size(); ++v) {
    const auto& i = fn.values[v];
    if (i.dead || i.op != jit::opt::Op::Alu || i.kind != isa::Kind::Add || !fn.is_const(i.args[1]) ||
        fn.values[i.args[1]].imm != 1)
      continue;
    ++increments;
    CHECK(fn.values[i.args[0]].op == jit::opt::Op::Phi);
    CHECK(al.reg[v] == al.reg[i.args[0]]);
  }
  CHECK(increments == 1);
  CHECK(run_both(program) == 20 * 3);
}

TEST_CASE("a counter stepped before its byte is read shares a register with its step (address_after_step)",
          "[jit][opt][regalloc]") {
  // clang's shape for `for (i = 0; i < 64; i++) if (p[i] != f(i)) break;`: the address p + i is
  // formed, i + 1 computed, then the byte read. Address folding makes the load read [p + i + 12]
  // after i + 1 exists, so i and i + 1 were live together and the back edge copied one into the
  // other's register; reading [p + (i + 1) + 11] instead lets them share one.
  const auto program = assemble_program(
      "mov %r0, 0\nmov %r4, 0\n"
      "loop:\njeq %r4, 48, out\n"
      "mov %r3, %r4\nmul %r3, 29\nxor %r3, 165\nand %r3, 255\n"
      "mov %r5, %r1\nadd %r5, %r4\nadd %r4, 1\nldxb %r5, [%r5+12]\n"
      "add %r0, %r5\njne %r5, %r3, loop\n"
      "out:\nlsh %r0, 8\nor %r0, %r4\nexit\n");
  for (bool on : {true, false}) {
    INFO("address_after_step " << on);
    auto fn = optimized_function(program, test_helpers(), {.unroll_loops = false, .address_after_step = on});
    const auto al = jit::opt::allocate_registers(fn, eight_registers());
    INFO(jit::opt::to_text(fn));
    int steps = 0, stepped_loads = 0;
    for (jit::opt::ValueId v = 0; v < fn.values.size(); ++v) {
      const auto& i = fn.values[v];
      if (i.dead) continue;
      if (i.op == jit::opt::Op::Alu && i.kind == isa::Kind::Add && fn.is_const(i.args[1]) &&
          fn.values[i.args[1]].imm == 1 && fn.values[i.args[0]].op == jit::opt::Op::Phi) {
        ++steps;
        CHECK((al.reg[v] == al.reg[i.args[0]]) == on);
      }
      if (i.op == jit::opt::Op::Load && jit::opt::index_of(i) != jit::opt::kNoValue &&
          fn.values[jit::opt::index_of(i)].op == jit::opt::Op::Alu) {
        ++stepped_loads;
        CHECK(i.off == 11);
      }
    }
    CHECK(steps == 1);
    CHECK(stepped_loads == (on ? 1 : 0));
  }
  // Every byte matching (48 trips), and a mismatch at 0, 1, 2, 17 and 47.
  for (int stop : {-1, 0, 1, 2, 17, 47}) {
    std::vector<std::uint8_t> input(64);
    for (int k = 0; k < 48; ++k) input[12 + k] = static_cast<std::uint8_t>(((k * 29) ^ 165) & 255);
    if (stop >= 0) input[12 + stop] ^= 0x40;
    for (bool on : {true, false}) {
      INFO("mismatch at " << stop << ", address_after_step " << on);
      jit::JitOptions jo;
      jo.passes.address_after_step = on;
      check_tier_equals_interpreter(program, input, nullptr, jo);
    }
  }
}

TEST_CASE("branch shares: switch arms are rare, loop heads and joins whole", "[jit][opt][regalloc]") {
  // Two bounds checks before a loop whose body dispatches on four values: the allocator weighs a use
  // in one arm at a quarter of a use every iteration makes, and the checks in front of the loop must
  // not make its body look rare (spill_pressure spilled its accumulators when they did).
  const auto program = assemble_program(
      "ldxdw %r2, [%r1]\n"
      "jgt %r2, 100, out\n"
      "jlt %r2, 2, out\n"
      "mov %r0, 0\n"
      "loop:\n"
      "mov %r3, %r2\n"
      "and %r3, 3\n"
      "jeq %r3, 0, a\n"
      "jeq %r3, 1, b\n"
      "jeq %r3, 2, c\n"
      "add %r0, 7\n"
      "ja join\n"
      "a:\n"
      "xor %r0, 5\n"
      "ja join\n"
      "b:\n"
      "mul %r0, 3\n"
      "ja join\n"
      "c:\n"
      "sub %r0, 1\n"
      "join:\n"
      "add %r0, %r2\n"
      "sub %r2, 1\n"
      "jne %r2, 0, loop\n"
      "exit\n"
      "out:\n"
      "mov %r0, 0\n"
      "exit\n");
  auto fn = optimized_function(program, test_helpers(), {});
  INFO(jit::opt::to_text(fn));
  std::vector<jit::opt::BlockId> order(fn.blocks.size());
  for (jit::opt::BlockId b = 0; b < order.size(); ++b) order[b] = b;
  const auto depth = jit::opt::loop_depths(fn, order);
  const auto share = jit::opt::branch_shares(fn, order, depth);
  std::size_t heads = 0, rare = 0, whole_in_loop = 0;
  for (jit::opt::BlockId b = 0; b < fn.blocks.size(); ++b) {
    if (depth[b] == 0 || fn.blocks[b].preds.empty()) continue;
    const auto& preds = fn.blocks[b].preds;
    if (std::any_of(preds.begin(), preds.end(), [&](auto p) { return p >= b; })) {
      ++heads;
      CHECK(share[b] == 1.0);
    }
    if (share[b] <= 0.25) ++rare;
    if (share[b] == 1.0) ++whole_in_loop;
  }
  CHECK(heads == 1);
  CHECK(rare >= 2);           // the arms behind two or three tests
  CHECK(whole_in_loop >= 2);  // the head and the join
  run_both(program);
}

TEST_CASE("an exit placed inside a loop's body goes after the loop", "[jit][opt][regalloc]") {
  // A scan that stops at the first zero byte: the lowering places the `found` arm (it leaves the
  // loop) between the head and the latch, as clang's code does; the allocator's order moves it after
  // the latch, so the loop's common path falls through (place_exits_after_loops).
  const auto program = assemble_program(
      "mov %r0, 0\n"
      "mov %r2, 0\n"
      "loop:\n"
      "mov %r3, %r1\n"
      "add %r3, %r2\n"
      "ldxb %r4, [%r3+0]\n"
      "jne %r4, 0, next\n"
      "mov %r0, %r2\n"    // found: the index, plus 100, and out of the loop
      "add %r0, 100\n"
      "ja done\n"
      "next:\n"
      "add %r0, %r4\n"
      "add %r2, 1\n"
      "jlt %r2, 32, loop\n"
      "done:\n"
      "exit\n");
  auto fn = optimized_function(program, test_helpers(), {});
  const auto al = jit::opt::allocate_registers(fn, eight_registers());
  const auto found = [&] {  // the block adding 100
    for (jit::opt::BlockId b = 0; b < fn.blocks.size(); ++b)
      for (auto id : fn.blocks[b].insts) {
        const auto& i = fn.values[id];
        if (!i.dead && i.op == jit::opt::Op::Alu && i.kind == isa::Kind::Add && i.args.size() == 2 &&
            fn.is_const(i.args[1]) && fn.values[i.args[1]].imm == 100)
          return b;
      }
    return jit::opt::BlockId{0};
  }();
  REQUIRE(found != 0);
  const auto depth = jit::opt::loop_depths(fn, al.order);
  const auto at = [&](jit::opt::BlockId b) { return std::find(al.order.begin(), al.order.end(), b) - al.order.begin(); };
  // Every block of the loop (depth 1) comes before the found arm.
  for (jit::opt::BlockId b = 0; b < fn.blocks.size(); ++b)
    if (depth[b] == 1) CHECK(at(b) < at(found));
  CHECK(depth[found] == 0);
  CHECK(run_both(program) == 20 + 100);
}

TEST_CASE("a register free during another value's lifetime hole is given out", "[jit][opt][regalloc]") {
  // a = [r1+0] is read only on the branch placed last; the arm placed between (the fallthrough)
  // needs three registers at once. With three registers, a's range has a hole over that arm and its
  // register goes to one of the arm's values: nothing is spilled. One interval per value (a's from
  // its load to its use) left two registers for the arm and spilled.
  const auto program = assemble_program(
      "ldxdw %r6, [%r1+0]\n"
      "ldxdw %r7, [%r1+8]\n"
      "jeq %r7, 0, late\n"
      "ldxdw %r2, [%r1+16]\n"
      "ldxdw %r3, [%r1+24]\n"
      "ldxdw %r4, [%r1+32]\n"
      "mov %r0, %r2\n"
      "xor %r0, %r3\n"
      "add %r0, %r4\n"
      "exit\n"
      "late:\n"
      "mov %r0, %r6\n"
      "exit\n");
  auto fn = optimized_function(program, test_helpers(), {});
  jit::opt::RegisterFile three;
  three.allocatable = {0, 1, 2};
  three.survives_calls.assign(3, false);
  const auto al = jit::opt::allocate_registers(fn, three);
  INFO(jit::opt::to_text(fn));
  CHECK(al.spilled == 0);
  // The load of a (offset 0) and an arm's load (offsets 16..32) share a register.
  jit::opt::ValueId a = jit::opt::kNoValue;
  std::vector<jit::opt::ValueId> arm;
  for (jit::opt::ValueId v = 0; v < fn.values.size(); ++v) {
    const auto& i = fn.values[v];
    if (i.dead || i.op != jit::opt::Op::Load) continue;
    if (i.off == 0) a = v;
    if (i.off >= 16) arm.push_back(v);
  }
  REQUIRE(a != jit::opt::kNoValue);
  REQUIRE(arm.size() == 3);
  CHECK(al.reg[a] != jit::opt::Allocation::kNone);
  CHECK(std::any_of(arm.begin(), arm.end(), [&](auto v) { return al.reg[v] == al.reg[a]; }));
  run_both(program);
}

TEST_CASE("a value the latch compares does not take the register its back edge writes", "[jit][opt][regalloc]") {
  // csum16's latch: t = i - 31 is compared after i' = i + 1, so i dies at t and t may reuse i's
  // register by its lifetime alone; but the back edge's move i <- i' goes above the compare
  // (hoisted_latch_edge) only if the compare reads another register, so i's register counts as
  // written from the latch's branch on.
  const auto program = assemble_program(
      "mov %r0, 0\n"
      "mov %r2, 0\n"
      "loop:\n"
      "mov %r3, %r1\n"
      "add %r3, %r2\n"
      "ldxb %r4, [%r3+0]\n"
      "add %r0, %r4\n"
      "mov %r5, %r2\n"
      "add %r2, 1\n"
      "add %r5, -31\n"
      "jne %r5, 0, loop\n"
      "exit\n");
  auto fn = optimized_function(program, test_helpers(), {});
  const auto al = jit::opt::allocate_registers(fn, eight_registers());
  INFO(jit::opt::to_text(fn));
  int latches = 0;
  for (jit::opt::BlockId b = 0; b < fn.blocks.size(); ++b) {
    const auto& succs = fn.blocks[b].succs;
    const bool back = std::any_of(succs.begin(), succs.end(), [&](auto e) {
      return fn.blocks[e].succs.size() == 1 && fn.blocks[e].succs[0] <= b && fn.blocks[e].preds.size() == 1;
    });
    if (succs.size() != 2 || !back) continue;
    ++latches;
    CHECK(jit::opt::hoisted_latch_edge(fn, al, b) != -1);
  }
  CHECK(latches == 1);
  CHECK(run_both(program) == [] {
    std::uint64_t sum = 0;
    for (int i = 0; i < 32; ++i) sum += i == 20 ? 0 : static_cast<std::uint8_t>(i * 7 + 1);
    return sum;
  }());
}

TEST_CASE("more live values than registers in a loop: the values read only after it are the ones spilled",
          "[jit][opt][regalloc]") {
  // Four promoted values loaded before a loop and each read eight times after it, and a loop whose
  // long body (a 60-instruction chain on the byte it reads) updates five promoted accumulators: with
  // eight registers the loop's own values (pointer, counter, byte, accumulators) fill them, so
  // exactly the four outside values are spilled, and nothing defined or read inside the loop is in a
  // slot. Spill weights without the loop depth (every reference weighing 1: the accumulators, read
  // once in a long body, then look rarer than the outside values) spill accumulators instead.
  std::string text;
  for (int k = 0; k < 4; ++k)
    text += "ldxb %r2, [%r1+" + std::to_string(40 + k) + "]\nstxdw [%r10-" + std::to_string(8 * (k + 1)) + "], %r2\n";
  for (int k = 0; k < 5; ++k) text += "stdw [%r10-" + std::to_string(40 + 8 * k) + "], " + std::to_string(k + 1) + "\n";
  text += "mov %r2, 0\nloop:\nmov %r3, %r1\nadd %r3, %r2\nldxb %r4, [%r3+0]\n";
  for (int k = 0; k < 30; ++k) text += "mul %r4, 3\nxor %r4, " + std::to_string(k) + "\n";  // a long body
  for (int k = 0; k < 5; ++k) {
    const auto slot = "[%r10-" + std::to_string(40 + 8 * k) + "]";
    text += "ldxdw %r5, " + slot + "\nmul %r5, " + std::to_string(3 + 2 * k) + "\nadd %r5, %r4\nstxdw " + slot + ", %r5\n";
  }
  text += "add %r2, 1\njlt %r2, 32, loop\nmov %r0, 0\n";
  for (int k = 0; k < 5; ++k) text += "ldxdw %r5, [%r10-" + std::to_string(40 + 8 * k) + "]\nxor %r0, %r5\n";
  for (int use = 0; use < 8; ++use)
    for (int k = 0; k < 4; ++k)
      text += "ldxdw %r5, [%r10-" + std::to_string(8 * (k + 1)) + "]\nmul %r0, 7\nadd %r0, %r5\n";
  text += "exit\n";
  const auto program = assemble_program(text);
  auto fn = optimized_function(program, test_helpers(), {});
  const auto al = jit::opt::allocate_registers(fn, eight_registers());
  INFO(jit::opt::to_text(fn));
  const auto depth = jit::opt::loop_depths(fn, al.order);
  std::vector<jit::opt::ValueId> outside;  // the loads of input bytes 40..43
  int in_loop = 0;
  for (jit::opt::ValueId v = 0; v < fn.values.size(); ++v) {
    const auto& i = fn.values[v];
    if (i.dead) continue;
    if (i.op == jit::opt::Op::Load && i.off >= 40 && i.off < 44) outside.push_back(v);
    if (depth[i.block] == 0) continue;
    INFO("value " << v);
    if (jit::opt::needs_location(fn, v)) {
      ++in_loop;
      CHECK(al.reg[v] != jit::opt::Allocation::kNone);
    }
    for (auto a : i.args)
      if (jit::opt::needs_location(fn, a)) CHECK(al.reg[a] != jit::opt::Allocation::kNone);
  }
  CHECK(in_loop >= 6);  // the counter and accumulator phis, the byte, the updates
  REQUIRE(outside.size() == 4);
  for (auto v : outside) CHECK(al.slot[v] >= 0);
  CHECK(al.spilled == 4);
  run_both(program);
}

TEST_CASE("the listing header counts the stack accesses promotion kept beside the spilled values",
          "[jit][opt][regalloc][listing]") {
  // A counter kept in a stack slot across a loop: promoted, no stack access is left. The same with an
  // array in the frame indexed by the counter: the frame escapes, so the counter's slot stays in
  // memory too (a load and a store every iteration) while the allocator spills nothing.
  const std::string loop = "stdw [%r10-8], 0\nmov %r2, 0\nloop:\n%s"
                           "ldxdw %r4, [%r10-8]\nadd %r4, %r2\nstxdw [%r10-8], %r4\nadd %r2, 1\njlt %r2, 8, loop\n"
                           "ldxdw %r0, [%r10-8]\nexit\n";
  auto with = [&](const std::string& body) {
    auto text = loop;
    text.replace(text.find("%s"), 2, body);
    return assemble_program(text);
  };
  const auto promoted = with("");
  const auto escaped = with("mov %r3, %r10\nadd %r3, -72\nadd %r3, %r2\nstxb [%r3+0], %r2\n");
  auto header = [](const vm::Program& program) {
    // The loop as written: unrolled, its four copies would each keep their own accesses.
    auto fn = optimized_function(program, test_helpers(), {.unroll_loops = false}, {.pointers_stay_in_frame = true});
    const auto al = jit::opt::allocate_registers(fn, eight_registers());
    const jit::opt::ListingNotes notes(fn, al, program, [](std::uint32_t r) { return "r" + std::to_string(r); });
    return notes.header("test");
  };
  CHECK(header(promoted).ends_with("0 spilled to 0 slots, 0 stack accesses kept"));
  INFO(header(escaped));
  // The first store, and in the loop the array's store and the counter's load and store (the load
  // after the loop takes the stored value: cse_loads).
  CHECK(header(escaped).ends_with("0 spilled to 0 slots, 4 stack accesses kept"));
  CHECK(run_both(promoted) == 28);
  run_both(escaped);
}
