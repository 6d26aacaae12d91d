// Generators of issue #20's verifier stress shapes, as assembly text (see complexity_programs.hpp).
#include "tests/verifier/complexity_programs.hpp"

#include <cstdio>
#include <stdexcept>

#include "vm/assembler.hpp"

namespace bpfvm::testing {

namespace {

// One line of assembly.
struct Text {
  std::string s;
  Text& operator()(const std::string& line) {
    s += line;
    s += '\n';
    return *this;
  }
};

std::string n(long long v) { return std::to_string(v); }

// A decided jump on r6 (r6 < 2^30 on every path) that makes r6 precise on every path, as the kernel's
// check_cond_jmp_op marks a decided jump's scalar operand (mark_chain_precision).
void use_r6_precisely(Text& t) {
  t("jeq %r6, 0x40000000, +1");
  t("mov %r0, 0");
  t("mov %r0, 0");
  t("exit");
}

}  // namespace

ComplexityProgram call_tree(int fan_out, int frames) {
  Text t;
  t("mov %r6, %r1");  // every function gets the ctx in r1; the leaf reads skb->len afresh
  for (int i = 0; i < fan_out; ++i) t("mov %r1, %r6")("call local f1");
  t("mov %r0, 0")("exit");
  for (int f = 1; f < frames; ++f) {
    t("f" + n(f) + ":");
    if (f + 1 < frames) {
      t("mov %r6, %r1");
      for (int i = 0; i < fan_out; ++i) t("mov %r1, %r6")("call local f" + n(f + 1));
      t("mov %r0, 0")("exit");
    } else {
      t("ldxw %r2, [%r1+0]")("mov %r0, 0")("jgt %r2, 1000, +1")("mov %r0, 1")("exit");
    }
  }
  return {"call_tree_fanout" + n(fan_out) + "_frames" + n(frames), t.s, false, ""};
}

ComplexityProgram deep_frames_branches(int frames, int branches) {
  Text t;
  t("ldxw %r1, [%r1+0]")("call local f1")("mov %r0, 0")("exit");
  for (int f = 1; f < frames; ++f) {
    t("f" + n(f) + ":");
    if (f + 1 < frames) {
      t("call local f" + n(f + 1))("exit");
      continue;
    }
    t("mov %r7, %r1")("mov %r6, 0");
    for (int b = 0; b < branches; ++b) t("jset %r7, " + n(1ll << b) + ", +1")("or %r6, " + n(1ll << b));
    use_r6_precisely(t);
  }
  return {"deep_frames" + n(frames) + "_branches" + n(branches), t.s, false, ""};
}

ComplexityProgram branchy_loop(int iterations, int branches, bool fresh_input) {
  Text t;
  t("mov %r9, %r1")("ldxw %r7, [%r1+0]")("mov %r6, 0")("mov %r8, 0");
  t("loop:");
  for (int b = 0; b < branches; ++b) {
    if (fresh_input) t("ldxw %r2, [%r9+0]")("jgt %r2, " + n(1000 + b) + ", +1")("add %r6, 1");
    else t("jset %r7, " + n(1ll << b) + ", +1")("add %r6, 1");
  }
  t("add %r8, 1")("jlt %r8, " + n(iterations) + ", loop");
  use_r6_precisely(t);
  return {std::string(fresh_input ? "branchy_loop" : "branchy_loop_jset") + n(iterations) + "x" + n(branches), t.s,
          false, ""};
}

ComplexityProgram nested_loops(int depth, int trips) {
  Text t;
  t("mov %r0, 0");
  for (int d = 0; d < depth; ++d) t("mov %r" + n(6 + d) + ", 0")("l" + n(d) + ":");
  t("add %r0, 1");
  for (int d = depth - 1; d >= 0; --d) {
    const std::string r = "%r" + n(6 + d);
    t("add " + r + ", 1")("jlt " + r + ", " + n(trips) + ", l" + n(d));
  }
  t("exit");
  return {"nested_loops" + n(depth) + "x" + n(trips), t.s, false, ""};
}

ComplexityProgram long_loop(int iterations, int body_insns) {
  Text t;
  t("mov %r0, 0")("mov %r6, 0")("loop:");
  for (int i = 0; i < body_insns; ++i) t("add %r0, 1");
  t("add %r6, 1")("jlt %r6, " + n(iterations) + ", loop")("exit");
  return {"long_loop" + n(iterations) + "x" + n(body_insns), t.s, false, ""};
}

ComplexityProgram straight_line(int insns) {
  Text t;
  t("mov %r0, 0");
  for (int i = 2; i < insns; ++i) t("add %r0, 1");
  t("exit");
  return {"straight_line" + n(insns), t.s, false, ""};
}

ComplexityProgram bubble_sort16() {
  Text t;
  t("ldxw %r2, [%r1+0]");
  for (int i = 0; i < 16; ++i) t("mov %r3, %r2")("xor %r3, " + n(i * 7919))("stxdw [%r10-" + n(128 - 8 * i) + "], %r3");
  t("mov %r6, 0");
  t("outer:")("mov %r7, 0");
  t("inner:");
  t("mov %r9, %r7")("lsh %r9, 3")("add %r9, %r10")("add %r9, -128");
  t("ldxdw %r3, [%r9+0]")("ldxdw %r4, [%r9+8]");
  t("jle %r3, %r4, noswap");
  t("stxdw [%r9+0], %r4")("stxdw [%r9+8], %r3");
  t("noswap:");
  t("add %r7, 1")("mov %r5, 15")("sub %r5, %r6")("jlt %r7, %r5, inner");
  t("add %r6, 1")("jlt %r6, 15, outer");
  t("ldxdw %r0, [%r10-128]")("exit");
  return {"bubble_sort16", t.s, false, ""};
}

std::vector<ComplexityProgram> complexity_programs() {
  auto rejected = [](ComplexityProgram p, std::string why) {
    p.kernel_reason = std::move(why);
    return p;
  };
  auto accepted = [](ComplexityProgram p, std::uint64_t kernel_insns) {
    p.kernel_accepts = true;
    p.kernel_insns = kernel_insns;
    return p;
  };
  return {
      rejected(call_tree(6, 8), "jumps is too complex"),
      rejected(call_tree(5, 8), "jumps is too complex"),
      rejected(deep_frames_branches(8, 26), "BPF program is too large"),
      rejected(branchy_loop(200, 5, true), "BPF program is too large"),
      accepted(branchy_loop(200, 5, false), 60'662),
      accepted(nested_loops(4, 16), 209'715),
      accepted(long_loop(90'000, 8), 900'003),
      accepted(straight_line(495'000), 495'000),
      accepted(bubble_sort16(), 4'515),
  };
}

std::vector<vm::Insn> assemble_complexity_program(const ComplexityProgram& p) {
  auto insns = vm::assemble(p.asm_text);
  if (!insns) throw std::runtime_error(p.name + ": " + insns.error().reason);
  return std::move(insns).value();
}

}  // namespace bpfvm::testing
