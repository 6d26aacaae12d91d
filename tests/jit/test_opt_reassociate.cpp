// Reassociation of loop-carried chains on the optimizing tier (jit/opt/reassociate.cpp): a loop's
// add/xor/or/and chain with one carried operand (a loop head's phi, or the previous unrolled copy's
// result) combines its other operands first and reads the carried one last, so each loop-head phi's
// back-edge value reads the phi directly; chains with two carried operands, an inner value read
// elsewhere, mixed operations or widths keep their order; a chain whose other operands are all
// loop-invariant reads its one varying operand last (LICM hoists the rest). Every program runs on
// the tier, pass on and off, against the checked interpreter.
#include <catch2/catch.hpp>

#include <string>

#include "jit/opt/loop_depth.hpp"
#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

/// r0 = [r1+56] (the start), then for i < ([r1] & 7) + 1: `acc OP= byte` for the four bytes at
/// r1 + 8 + 4i (OP and its width from `op`, "add", "xor32"...), the loop's carried value r0.
std::string byte_chain(const std::string& op, const std::string& between = "") {
  return "ldxdw %r8, [%r1+0]\nand %r8, 7\nadd %r8, 1\nldxdw %r0, [%r1+56]\nmov %r2, 0\nmov %r3, %r1\n"
         "loop:\n"
         "ldxb %r4, [%r3+8]\n" + op + " %r0, %r4\n" + between +
         "ldxb %r4, [%r3+9]\n" + op + " %r0, %r4\n"
         "ldxb %r4, [%r3+10]\n" + op + " %r0, %r4\n"
         "ldxb %r4, [%r3+11]\n" + op + " %r0, %r4\n"
         "add %r3, 4\nadd %r2, 1\njlt %r2, %r8, loop\nexit\n";
}

/// True when every loop head's phi whose back-edge value is an ALU operation is read by it directly.
bool carried_read_last(const jit::opt::Function& fn) {
  for (jit::opt::BlockId b = 0; b < fn.blocks.size(); ++b)
    for (auto id : fn.blocks[b].insts) {
      const auto& phi = fn.values[id];
      if (phi.dead || phi.op != jit::opt::Op::Phi) continue;
      for (std::size_t k = 0; k < phi.args.size(); ++k) {
        if (fn.blocks[b].preds[k] < b) continue;  // not a back edge
        const auto& back = fn.values[phi.args[k]];
        if (back.op == jit::opt::Op::Alu && back.args[0] != id && back.args[1] != id) return false;
      }
    }
  return true;
}

jit::opt::Function with_pass(const vm::Program& program, bool on) {
  jit::opt::PassSet passes;
  passes.reassociate = on;
  return optimized_function(program, test_helpers(), passes);
}

bool reassociated(const vm::Program& program, bool on) {
  const auto fn = with_pass(program, on);
  UNSCOPED_INFO(jit::opt::to_text(fn));
  return carried_read_last(fn);
}

void run_against_interpreter(const vm::Program& program) {
  for (const auto& words : {std::initializer_list<std::uint64_t>{15, 0x8123456789abcdefull, 0xfedcba9876543210ull,
                                                                 ~0ull, 0x8080808080808080ull, 1, 2, ~0ull - 5},
                            {3, 0x0102030405060708ull, 0xffffffff00000000ull, 0, 0, 0, 0, 0x7fffffffffffffffull},
                            {0, 0xff, 0, 0, 0, 0, 0, 0xffffffffull}})
    run_pass_against_interpreter(program, &jit::opt::PassSet::reassociate, words);
}

}  // namespace

TEST_CASE("reassociate: a loop's chain reads its carried value last", "[jit][opt][reassociate]") {
  for (const char* op : {"add", "xor", "or", "and", "add32", "xor32"}) {
    INFO(op);
    const auto program = assemble_program(byte_chain(op), "chain");
    CHECK(reassociated(program, true));
    CHECK_FALSE(reassociated(program, false));
    run_against_interpreter(program);
  }
}

TEST_CASE("reassociate: an unrolled loop's copies each read the previous copy's sum last", "[jit][opt][reassociate]") {
  // 16 trips of three byte adds: unrolled by 4; each copy's chain starts from the previous copy's.
  const auto program = assemble_program(
      "mov %r0, 7\nmov %r2, 0\nmov %r3, %r1\n"
      "loop:\n"
      "ldxb %r4, [%r3+0]\nadd %r0, %r4\nldxb %r4, [%r3+1]\nadd %r0, %r4\nldxb %r4, [%r3+2]\nadd %r0, %r4\n"
      "add %r3, 3\nadd %r2, 1\njlt %r2, 16, loop\nexit\n",
      "unrolled_chain");
  jit::opt::PassSet passes;
  const auto fn = optimized_function(program, test_helpers(), passes);
  UNSCOPED_INFO(jit::opt::to_text(fn));
  // Every add reading another add's result of another block reads it last, after two byte loads.
  std::size_t copies = 0;
  for (const auto& i : fn.values) {
    if (i.dead || i.op != jit::opt::Op::Alu || i.kind != isa::Kind::Add) continue;
    const auto& carried = fn.values[i.args[1]];
    if (carried.op == jit::opt::Op::Alu && carried.kind == isa::Kind::Add && carried.block != i.block) {
      const auto& rest = fn.values[i.args[0]];
      CHECK(rest.op == jit::opt::Op::Alu);
      CHECK(rest.block == i.block);
      ++copies;
    }
  }
  CHECK(copies >= 3);
  run_against_interpreter(program);
}

TEST_CASE("reassociate: chains that keep their order", "[jit][opt][reassociate]") {
  // Two carried values in one chain (r0 and r5 both loop-carried, the chain's sum going back to both),
  // an inner sum read again (stored), a subtraction between, a 32-bit add inside a 64-bit chain: the
  // IR is the same with the pass on and off, and every result is the interpreter's.
  const std::string two_carried =
      "ldxdw %r8, [%r1+0]\nand %r8, 7\nadd %r8, 1\nmov %r0, 0\nmov %r5, 3\nmov %r2, 0\nmov %r3, %r1\n"
      "loop:\n"
      "ldxb %r4, [%r3+8]\nadd %r0, %r4\nadd %r0, %r5\nldxb %r4, [%r3+9]\nadd %r0, %r4\nldxb %r4, [%r3+10]\n"
      "add %r0, %r4\nmov %r5, %r0\n"
      "add %r3, 4\nadd %r2, 1\njlt %r2, %r8, loop\nexit\n";
  // Another chain's carried value read by this one (spill16's `v[k] * c + (w >> k) + v[k + 1]`): r0's
  // chain reads r5's phi, r5's reads r0's; neither is moved to the end of the other.
  const std::string crossed =
      "ldxdw %r8, [%r1+0]\nand %r8, 7\nadd %r8, 1\nmov %r0, 1\nmov %r5, 2\nmov %r2, 0\nmov %r3, %r1\n"
      "loop:\n"
      "ldxb %r4, [%r3+8]\nmov %r6, %r0\nmul %r6, 3\nadd %r6, %r5\nadd %r6, %r4\n"
      "ldxb %r4, [%r3+9]\nmov %r7, %r5\nmul %r7, 5\nadd %r7, %r0\nadd %r7, %r4\nmov %r0, %r6\nmov %r5, %r7\n"
      "add %r3, 4\nadd %r2, 1\njlt %r2, %r8, loop\nxor %r0, %r5\nexit\n";
  for (const auto& text : {two_carried, crossed, byte_chain("add", "stxdw [%r1+48], %r0\n"),
                           byte_chain("add", "sub %r0, %r2\n"), byte_chain("add", "add32 %r0, 0\n")}) {
    INFO(text);
    const auto program = assemble_program(text, "kept");
    CHECK(jit::opt::to_text(with_pass(program, true)) == jit::opt::to_text(with_pass(program, false)));
    run_against_interpreter(program);
  }
}

TEST_CASE("reassociate: a loop's one varying operand goes last, so the invariant rest leaves the loop",
          "[jit][opt][reassociate]") {
  // r4 = (r6 + i) + 1000, r6 read before the loop: becomes (r6 + 1000) + i, and LICM moves r6 + 1000
  // to the preheader, one add fewer per iteration.
  const auto program = assemble_program(
      "ldxdw %r8, [%r1+0]\nand %r8, 7\nadd %r8, 1\nldxdw %r6, [%r1+8]\nmov %r0, 0\nmov %r2, 0\n"
      "loop:\n"
      "mov %r4, %r6\nadd %r4, %r2\nadd %r4, 1000\nxor %r0, %r4\nmul %r0, 3\n"
      "add %r2, 1\njlt %r2, %r8, loop\nexit\n",
      "invariant_rest");
  auto adds_in_loop = [&](bool on) {
    const auto fn = with_pass(program, on);
    UNSCOPED_INFO(jit::opt::to_text(fn));
    std::vector<jit::opt::BlockId> order(fn.blocks.size());
    for (jit::opt::BlockId b = 0; b < order.size(); ++b) order[b] = b;
    const auto depth = jit::opt::loop_depths(fn, order);
    std::size_t n = 0;
    for (const auto& i : fn.values)
      if (!i.dead && i.op == jit::opt::Op::Alu && i.kind == isa::Kind::Add && depth[i.block] > 0) ++n;
    return n;
  };
  CHECK(adds_in_loop(true) + 1 == adds_in_loop(false));
  run_against_interpreter(program);
}
