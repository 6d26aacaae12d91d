// Differential test: random ALU/jump programs must leave the same 64-bit r0 in the kernel and the interpreter.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/kernel/alu_program_gen.hpp"
#include "tests/kernel/insn_builder.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "vm/helper_registry.hpp"
#include "vm/interpreter.hpp"

namespace bpfvm::testing {
namespace {

constexpr std::uint64_t kDefaultSeed = 0x6270667666d2024ull;
constexpr std::uint64_t kDefaultCount = 10000;
constexpr std::size_t kMaxMismatchesPrinted = 50;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  return std::strtoull(text, nullptr, 0);
}

Result<std::uint64_t> run_interpreter(std::vector<vm::Insn> insns) {
  auto prog = vm::decode_program(std::move(insns), "kernel-diff");
  if (!prog) return std::move(prog).error();
  const vm::HelperRegistry no_helpers;
  auto interp = vm::Interpreter::create(*prog, no_helpers);
  if (!interp) return std::move(interp).error();
  vm::RunContext ctx;
  auto run = interp->run(ctx, {}, {});  // r1..r5 = 0, as run_r0_64 passes with no memory
  if (!run) return std::move(run).error();
  return run->r0;
}

std::string hex64(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%016llx", static_cast<unsigned long long>(v));
  return b;
}

TEST_CASE("random ALU programs: kernel and interpreter agree on r0") {
  const std::uint64_t seed = env_u64("BPFVM_KERNEL_DIFF_SEED", kDefaultSeed);
  const std::uint64_t count = env_u64("BPFVM_KERNEL_DIFF_COUNT", kDefaultCount);
  const bool verbose = env_u64("BPFVM_KERNEL_DIFF_VERBOSE", 0) != 0;  // print every program and r0
  // Program i is generated from seed + i alone, so one failing program reproduces with COUNT=1.
  std::printf("kernel diff: %llu programs, BPFVM_KERNEL_DIFF_SEED=0x%llx (program i uses seed + i)\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(seed));

  std::array<std::uint64_t, isa::kNumOps> row_uses{};
  std::uint64_t mismatches = 0, kernel_refusals = 0, interpreter_errors = 0, slots = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    SplitMix64 rng(seed + i);
    const auto prog = generate_alu_program(rng, {}, &row_uses);
    slots += prog.size();
    auto report = [&](const char* what, const std::string& detail) {
      if (!verbose && mismatches + kernel_refusals + interpreter_errors > kMaxMismatchesPrinted) return;
      std::printf("\n=== %s: program %llu, reproduce with BPFVM_KERNEL_DIFF_SEED=0x%llx BPFVM_KERNEL_DIFF_COUNT=1\n"
                  "%s\nhex: %s\n%s",
                  what, static_cast<unsigned long long>(i), static_cast<unsigned long long>(seed + i),
                  detail.c_str(), program_hex(prog).c_str(), describe_program(prog).c_str());
    };

    std::string log;
    auto kernel = run_r0_64(prog, {}, &log);
    if (!kernel) {
      ++kernel_refusals;  // a generator bug: it must only emit programs the verifier accepts
      report("KERNEL REFUSED", kernel.error().reason + "\nverifier log tail:\n" +
                                   log.substr(log.size() > 2000 ? log.size() - 2000 : 0));
      continue;
    }
    auto interp = run_interpreter(prog);
    if (!interp) {
      ++interpreter_errors;
      report("INTERPRETER ERROR", interp.error().message() + "; kernel r0 = " + hex64(*kernel));
      continue;
    }
    if (*interp != *kernel) {
      ++mismatches;
      report("MISMATCH", "kernel r0      = " + hex64(*kernel) + "\ninterpreter r0 = " + hex64(*interp));
    } else if (verbose) {
      report("agree", "r0 = " + hex64(*kernel));
    }
  }

  std::size_t rows_possible = 0, rows_hit = 0;
  std::string rows_missed;
  for (std::size_t id = 0; id < isa::kNumOps; ++id) {
    if (!alu_gen_uses(isa::kOps[id])) continue;
    ++rows_possible;
    if (row_uses[id]) ++rows_hit;
    else rows_missed += " " + std::string(isa::kOps[id].mnemonic);
  }
  std::printf("kernel diff: %llu programs (%llu slots), %zu/%zu ISA rows exercised; %llu mismatches, "
              "%llu kernel refusals, %llu interpreter errors\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(slots), rows_hit,
              rows_possible, static_cast<unsigned long long>(mismatches),
              static_cast<unsigned long long>(kernel_refusals), static_cast<unsigned long long>(interpreter_errors));
  std::fflush(stdout);

  CHECK(mismatches == 0);
  CHECK(kernel_refusals == 0);
  CHECK(interpreter_errors == 0);
  if (count >= kDefaultCount) {
    INFO("rows never generated:" << rows_missed);
    CHECK(rows_hit == rows_possible);
  }
}

// ALU rows: r1 = a; r1 OP= b (imm, or r2 = b). Jump rows: r1 = a; if (r1 OP b) skip "r0 += 1".
// Then r0 = r0 * odd ^ r1 for every a, so one load covers all values of a.
std::vector<vm::Insn> edge_program(isa::OpId id, std::span<const std::uint64_t> as, std::uint64_t b) {
  using isa::Operand;
  const auto& op = isa::kOps[id];
  const isa::OpId lddw = op_id("lddw", Operand::Imm), mov = op_id("mov", Operand::Imm),
                  add = op_id("add", Operand::Imm), mul = op_id("mul", Operand::Imm),
                  xor_reg = op_id("xor", Operand::Reg), exit = op_id("exit", Operand::None);
  std::vector<vm::Insn> prog;
  prog.push_back(make_insn(mov, 0, 0, 0, 0));
  if (op.operand == Operand::Reg) push_lddw(prog, lddw, 2, b);
  for (auto a : as) {
    prog.push_back(make_insn(mul, 0, 0, 0, static_cast<std::int32_t>(0x9e3779b1u)));
    push_lddw(prog, lddw, 1, a);
    if (op.form == isa::Form::Jump) {
      prog.push_back(make_insn(id, 1, 2, 1, static_cast<std::int32_t>(b)));
      prog.push_back(make_insn(add, 0, 0, 0, 1));
    } else {
      prog.push_back(make_insn(id, 1, 2, 0, static_cast<std::int32_t>(b)));
      prog.push_back(make_insn(xor_reg, 0, 1));
    }
  }
  prog.push_back(make_insn(exit));
  return prog;
}

TEST_CASE("every ALU and conditional jump row on edge operands: kernel and interpreter agree") {
  const auto as = edge_values64();
  std::uint64_t programs = 0, mismatches = 0, failures = 0;
  for (std::size_t id = 0; id < isa::kNumOps; ++id) {
    const auto& op = isa::kOps[id];
    if (op.form != isa::Form::Alu && op.form != isa::Form::AluUnary && op.form != isa::Form::Jump) continue;
    std::vector<std::uint64_t> bs;
    if (op.operand == isa::Operand::Reg) bs = as;
    else if (op.operand == isa::Operand::None) bs = {0};
    else
      for (auto imm : edge_imms())
        if (kernel_accepts_imm(op, imm)) bs.push_back(static_cast<std::uint64_t>(static_cast<std::int64_t>(imm)));

    for (auto b : bs) {
      ++programs;
      const auto oid = static_cast<isa::OpId>(id);
      const auto prog = edge_program(oid, as, b);
      auto kernel = run_r0_64(prog);
      auto interp = run_interpreter(prog);
      if (kernel && interp && *kernel == *interp) continue;
      if (!kernel || !interp) {
        ++failures;
        std::printf("\n=== %s b=%s: %s\n%s", std::string(op.mnemonic).c_str(), hex64(b).c_str(),
                    (kernel ? interp.error().message() : kernel.error().reason).c_str(),
                    describe_program(prog).c_str());
        continue;
      }
      // Narrow the batch down to the exact operands.
      for (auto a : as) {
        const auto one = edge_program(oid, std::span(&a, 1), b);
        auto k = run_r0_64(one);
        auto i = run_interpreter(one);
        if (k && i && *k == *i) continue;
        ++mismatches;
        if (mismatches > kMaxMismatchesPrinted) continue;
        std::printf("\n=== MISMATCH %s (%s, width %u): a=%s b=%s\nkernel      = %s\ninterpreter = %s\nhex: %s\n%s",
                    std::string(op.mnemonic).c_str(), op.operand == isa::Operand::Reg ? "reg" : "imm",
                    unsigned(op.width), hex64(a).c_str(), hex64(b).c_str(),
                    k ? hex64(*k).c_str() : k.error().reason.c_str(),
                    i ? hex64(*i).c_str() : i.error().message().c_str(), program_hex(one).c_str(),
                    describe_program(one).c_str());
      }
    }
  }
  std::printf("kernel edge matrix: %llu programs x %zu values of a; %llu mismatching (row, a, b), %llu failures\n",
              static_cast<unsigned long long>(programs), as.size(), static_cast<unsigned long long>(mismatches),
              static_cast<unsigned long long>(failures));
  std::fflush(stdout);
  CHECK(mismatches == 0);
  CHECK(failures == 0);
}

}  // namespace
}  // namespace bpfvm::testing
