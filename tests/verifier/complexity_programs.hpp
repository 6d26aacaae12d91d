// Programs built to make a path-sensitive verifier explode (issue #20): call trees, deep frames with
// many branches, branchy loops, nested loops, a loop near the 1M limit, a long straight line, a
// bubble sort. Each is a socket filter (r1 = struct __sk_buff; skb->len is the unknown input), so
// bpfvm and the kernel (BPF_PROG_TYPE_SOCKET_FILTER) verify the same bytes. Shared by the tests
// (verdicts and counts), the kernel oracle and bench/bench_verifier.cpp (times).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vm/program.hpp"

namespace bpfvm::testing {

struct ComplexityProgram {
  std::string name;
  std::string asm_text;
  bool kernel_accepts = false;  // the kernel 6.18's verdict (checked by test_kernel_verdicts)
  std::string kernel_reason;    // what the kernel's log says when it rejects ("jumps is too complex")
  std::uint64_t kernel_insns = 0;  // accepted: the kernel 6.18's "processed N insns" (measured 2026-12-06)
};

/// Static (inline-verified) call tree: main calls f1 `fan_out` times, f1 calls f2 `fan_out` times, ...
/// down to frame `frames`; every call runs one undecided branch, so one path queues a branch per call.
ComplexityProgram call_tree(int fan_out, int frames);
/// `frames` call frames deep, then `branches` undecided branches each setting its own bit of r6,
/// which then indexes the stack (so every bit pattern is precise: 2^branches states).
ComplexityProgram deep_frames_branches(int frames, int branches);
/// A loop of `iterations` with `branches` branches per iteration adding to a counter r6 that a decided
/// jump at the end makes precise. `fresh_input`: each branch tests a fresh skb->len (undecided on
/// every iteration: the paths multiply); else `jset` tests bit b of one input (decided after the first
/// iteration: 2^branches paths in all).
ComplexityProgram branchy_loop(int iterations, int branches, bool fresh_input);
/// `depth` nested counted loops of `trips` iterations each.
ComplexityProgram nested_loops(int depth, int trips);
/// One counted loop of `iterations` with a body of `body_insns` ALU instructions.
ComplexityProgram long_loop(int iterations, int body_insns);
/// `insns` ALU instructions in a straight line.
ComplexityProgram straight_line(int insns);
/// Bubble sort of a 16-element u32 array on the stack (filled from skb->len), nested bounded loops.
ComplexityProgram bubble_sort16();

/// Every shape of issue #20's table, with the parameters the table used.
std::vector<ComplexityProgram> complexity_programs();

/// The program's instructions (asm_text assembled).
std::vector<vm::Insn> assemble_complexity_program(const ComplexityProgram& p);

}  // namespace bpfvm::testing
