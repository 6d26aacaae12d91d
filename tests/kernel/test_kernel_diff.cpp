// Differential tests: random ALU/jump programs and random load/store/atomic programs must leave the same
// 64-bit r0 (and memory) in the kernel as in the interpreter (checked and unchecked) and in every JIT
// variant (checked, counted, fast).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/jit/jit_test_support.hpp"
#include "tests/kernel/alu_program_gen.hpp"
#include "tests/kernel/insn_builder.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "tests/kernel/mem_program_gen.hpp"
#include "vm/helper_registry.hpp"
#include "vm/interpreter.hpp"

namespace bpfvm::testing {
namespace {

constexpr std::uint64_t kDefaultSeed = 0x6270667666d2024ull;
constexpr std::uint64_t kDefaultCount = 10000;
constexpr std::uint64_t kDefaultMemSeed = 0x6d656d6469666632ull;
constexpr std::uint64_t kDefaultMemCount = 3000;
constexpr std::size_t kMaxMismatchesPrinted = 50;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  return std::strtoull(text, nullptr, 0);
}

// Every engine and variant a verified program can run on: r1 = the buffer (or 0), r2 = its size.
struct EngineRun {
  const char* name;
  Result<std::uint64_t> r0;
  std::vector<std::uint8_t> mem;
};

std::vector<EngineRun> run_all_engines(std::span<const vm::Insn> insns, std::span<const std::uint8_t> mem) {
  std::vector<EngineRun> out;
  auto prog = vm::decode_program(std::vector<vm::Insn>(insns.begin(), insns.end()), "kernel-diff");
  if (!prog) {
    out.push_back({"decode", prog.error(), {}});
    return out;
  }
  const vm::HelperRegistry no_helpers;
  auto interp = vm::Interpreter::create(*prog, no_helpers);
  auto jit = jit::JitProgram::compile(*prog, no_helpers);
  if (!interp || !jit) {
    out.push_back({"create", interp ? jit.error() : interp.error(), {}});
    return out;
  }
  const std::vector<std::uint8_t> initial(mem.begin(), mem.end());
  std::vector<std::uint8_t> buffer(initial.size());
  auto add = [&](const char* name, const testing::Outcome& o) {
    if (o.ok) out.push_back({name, o.r0, o.memory});
    else out.push_back({name, make_error(o.code, o.reason), o.memory});
  };
  vm::ExecOptions checked, unchecked, counted;
  checked.checked = true;
  counted.budget_insns = 1'000'000;
  add("interpreter checked", testing::run_engine(*interp, buffer, initial, checked, false));
  add("interpreter", testing::run_engine(*interp, buffer, initial, unchecked, false));
  add("jit checked", testing::run_engine(*jit, buffer, initial, checked, false));
  add("jit counted", testing::run_engine(*jit, buffer, initial, counted, false));
  add("jit fast", testing::run_engine(*jit, buffer, initial, unchecked, false));
  return out;
}

std::string hex64(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%016llx", static_cast<unsigned long long>(v));
  return b;
}

// "" when every engine left the kernel's r0 (and, with memory, the kernel's memory); else one line per
// engine that differs.
std::string disagreements(std::uint64_t kernel_r0, const std::vector<std::uint8_t>* kernel_mem,
                          const std::vector<EngineRun>& runs) {
  std::string out;
  for (const auto& run : runs) {
    if (!run.r0) {
      out += std::string(run.name) + ": error " + run.r0.error().message() + "\n";
      continue;
    }
    if (*run.r0 != kernel_r0) out += std::string(run.name) + ": r0 = " + hex64(*run.r0) + "\n";
    if (kernel_mem && run.mem != *kernel_mem) out += std::string(run.name) + ": memory differs\n";
  }
  return out;
}

TEST_CASE("random ALU programs: kernel, interpreter and JIT agree on r0") {
  const std::uint64_t seed = env_u64("BPFVM_KERNEL_DIFF_SEED", kDefaultSeed);
  const std::uint64_t count = env_u64("BPFVM_KERNEL_DIFF_COUNT", kDefaultCount);
  const bool verbose = env_u64("BPFVM_KERNEL_DIFF_VERBOSE", 0) != 0;  // print every program and r0
  // Program i is generated from seed + i alone, so one failing program reproduces with COUNT=1.
  std::printf("kernel diff: %llu programs, BPFVM_KERNEL_DIFF_SEED=0x%llx (program i uses seed + i)\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(seed));

  std::array<std::uint64_t, isa::kNumOps> row_uses{};
  std::uint64_t mismatches = 0, kernel_refusals = 0, slots = 0, engine_runs = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    SplitMix64 rng(seed + i);
    const auto prog = generate_alu_program(rng, {}, &row_uses);
    slots += prog.size();
    auto report = [&](const char* what, const std::string& detail) {
      if (!verbose && mismatches + kernel_refusals > kMaxMismatchesPrinted) return;
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
    const auto runs = run_all_engines(prog, {});
    engine_runs += runs.size();
    const std::string differ = disagreements(*kernel, nullptr, runs);
    if (!differ.empty()) {
      ++mismatches;
      report("MISMATCH", "kernel r0 = " + hex64(*kernel) + "\n" + differ);
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
  std::printf("kernel diff: %llu programs (%llu slots), %zu/%zu ISA rows exercised, %llu engine runs "
              "(interpreter checked/unchecked, JIT checked/counted/fast); %llu mismatches, %llu kernel refusals\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(slots), rows_hit,
              rows_possible, static_cast<unsigned long long>(engine_runs), static_cast<unsigned long long>(mismatches),
              static_cast<unsigned long long>(kernel_refusals));
  std::fflush(stdout);

  CHECK(mismatches == 0);
  CHECK(kernel_refusals == 0);
  CHECK(engine_runs == 5 * (count - kernel_refusals));
  if (count >= kDefaultCount) {
    INFO("rows never generated:" << rows_missed);
    CHECK(rows_hit == rows_possible);
  }
}

TEST_CASE("random load/store/atomic programs: kernel, interpreter and JIT agree on r0 and memory") {
  const std::uint64_t seed = env_u64("BPFVM_KERNEL_MEM_SEED", kDefaultMemSeed);
  const std::uint64_t count = env_u64("BPFVM_KERNEL_MEM_COUNT", kDefaultMemCount);
  std::printf("kernel mem diff: %llu programs, BPFVM_KERNEL_MEM_SEED=0x%llx (program i uses seed + i)\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(seed));
  std::array<std::uint64_t, isa::kNumOps> row_uses{};
  std::uint64_t mismatches = 0, kernel_refusals = 0, engine_runs = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    SplitMix64 rng(seed + i);
    const auto prog = generate_mem_program(rng, 4 + rng.below(40), &row_uses);
    std::vector<std::uint8_t> mem(kMemProgramBufferBytes);
    for (auto& b : mem) b = static_cast<std::uint8_t>(rng.next());
    auto report = [&](const char* what, const std::string& detail) {
      if (mismatches + kernel_refusals > kMaxMismatchesPrinted) return;
      std::printf("\n=== %s: program %llu, reproduce with BPFVM_KERNEL_MEM_SEED=0x%llx BPFVM_KERNEL_MEM_COUNT=1\n"
                  "%s\nhex: %s\n%s",
                  what, static_cast<unsigned long long>(i), static_cast<unsigned long long>(seed + i),
                  detail.c_str(), program_hex(prog).c_str(), describe_program(prog).c_str());
    };
    std::string log;
    std::vector<std::uint8_t> kernel_mem;
    auto kernel = run_r0_64(prog, mem, &log, &kernel_mem);
    if (!kernel) {
      ++kernel_refusals;  // a generator bug: it must only emit programs the verifier accepts
      report("KERNEL REFUSED", kernel.error().reason + "\nverifier log tail:\n" +
                                   log.substr(log.size() > 2000 ? log.size() - 2000 : 0));
      continue;
    }
    kernel_mem.resize(mem.size());
    const auto runs = run_all_engines(prog, mem);
    engine_runs += runs.size();
    const std::string differ = disagreements(*kernel, &kernel_mem, runs);
    if (!differ.empty()) {
      ++mismatches;
      report("MISMATCH", "kernel r0 = " + hex64(*kernel) + "\n" + differ);
    }
  }
  std::size_t rows_possible = 0, rows_hit = 0;
  std::string rows_missed;
  for (std::size_t id = 0; id < isa::kNumOps; ++id) {
    if (!mem_gen_uses(isa::kOps[id])) continue;
    ++rows_possible;
    if (row_uses[id]) ++rows_hit;
    else rows_missed += " " + std::string(isa::kOps[id].mnemonic);
  }
  std::printf("kernel mem diff: %llu programs, %zu/%zu load/store/atomic rows exercised, %llu engine runs; "
              "%llu mismatches, %llu kernel refusals\n",
              static_cast<unsigned long long>(count), rows_hit, rows_possible,
              static_cast<unsigned long long>(engine_runs), static_cast<unsigned long long>(mismatches),
              static_cast<unsigned long long>(kernel_refusals));
  std::fflush(stdout);
  CHECK(mismatches == 0);
  CHECK(kernel_refusals == 0);
  CHECK(engine_runs == 5 * (count - kernel_refusals));
  if (count >= kDefaultMemCount) {
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

TEST_CASE("every ALU and conditional jump row on edge operands: kernel, interpreter and JIT agree") {
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
      if (!kernel) {
        ++failures;
        std::printf("\n=== %s b=%s: %s\n%s", std::string(op.mnemonic).c_str(), hex64(b).c_str(),
                    kernel.error().reason.c_str(), describe_program(prog).c_str());
        continue;
      }
      if (disagreements(*kernel, nullptr, run_all_engines(prog, {})).empty()) continue;
      // Narrow the batch down to the exact operands.
      for (auto a : as) {
        const auto one = edge_program(oid, std::span(&a, 1), b);
        auto k = run_r0_64(one);
        const std::string differ = k ? disagreements(*k, nullptr, run_all_engines(one, {})) : k.error().reason;
        if (differ.empty()) continue;
        ++mismatches;
        if (mismatches > kMaxMismatchesPrinted) continue;
        std::printf("\n=== MISMATCH %s (%s, width %u): a=%s b=%s\nkernel = %s\n%shex: %s\n%s",
                    std::string(op.mnemonic).c_str(), op.operand == isa::Operand::Reg ? "reg" : "imm",
                    unsigned(op.width), hex64(a).c_str(), hex64(b).c_str(),
                    k ? hex64(*k).c_str() : "refused", differ.c_str(), program_hex(one).c_str(),
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
