// libFuzzer harness: input bytes are eBPF slots (8 bytes each); undecodable programs are rejected.
// Decodable ones run on the interpreter and the JIT in checked mode with a budget, then on the
// counted JIT variant, and (programs without BPF-to-BPF calls, behind a prologue that zeroes the
// stack frame) on the fast variant and the optimizing tier (jit/opt/); programs the verifier accepts
// also run on the optimizing tier as they are (local calls included). Any difference in r0,
// instruction count (fast runs: none), error or memory aborts.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <span>

#include "tests/jit/jit_test_support.hpp"
#include "verifier/verifier.hpp"

using namespace bpfvm;

namespace {
// Host addresses differ between engines: the stack (r10) and lddw_func code pointers. Programs
// that use them as values (not as memory bases) are not comparable and are rejected.
bool comparable(const vm::Program& p) {
  for (std::size_t pc = 0; pc < p.size(); ++pc) {
    if (p.ops[pc] == isa::kNoOp) continue;
    const auto& op = p.op(pc);
    const auto& i = p.insns[pc];
    const bool src_value = op.operand == isa::Operand::Reg && i.src == isa::kFramePointer;
    switch (op.form) {
      case isa::Form::Alu: case isa::Form::StoreReg: case isa::Form::Atomic:
        if (src_value) return false;
        break;
      case isa::Form::Jump:
        if (src_value || i.dst == isa::kFramePointer) return false;
        break;
      case isa::Form::CallReg:
        if (i.dst == isa::kFramePointer) return false;
        break;
      case isa::Form::WideImm:
        if (static_cast<isa::LddwSrc>(i.src) == isa::LddwSrc::Func) return false;
        break;
      case isa::Form::AluUnary: case isa::Form::Load: case isa::Form::LoadSx: case isa::Form::Store:
      case isa::Form::Ja: case isa::Form::Ja32: case isa::Form::Call: case isa::Form::CallLocal:
      case isa::Form::CallKfunc: case isa::Form::Exit: case isa::Form::PacketLoad:
        break;
    }
  }
  return true;
}

bool has_local_calls(const vm::Program& p) {
  for (std::size_t pc = 0; pc < p.size(); ++pc)
    if (p.ops[pc] != isa::kNoOp && p.op(pc).form == isa::Form::CallLocal) return true;
  return false;
}

[[noreturn]] void report(const char* variant, const testing::Outcome& a, const testing::Outcome& b) {
  std::fprintf(stderr, "%s\ninterp: %s\njit:    %s\n", variant, a.describe().c_str(), b.describe().c_str());
  std::abort();
}

// The fast variant neither checks memory nor zeroes the stack: it runs `input` behind 64 `stdw
// [r10-8k], 0` (relative jumps and calls are unchanged by the shift), only where the checked
// interpreter ran that program without a memory fault or budget overrun (so it ends and stays in bounds).
void compare_fast(std::span<const std::uint8_t> input, const vm::HelperRegistry& helpers,
                  std::vector<std::uint8_t>& buffer, const std::vector<std::uint8_t>& initial) {
  const isa::OpId stdw = isa::find_op("stdw", isa::Operand::Imm);
  std::vector<std::uint8_t> bytes;
  for (int off = -8; off >= -static_cast<int>(isa::kStackBytes); off -= 8) {
    const std::uint8_t slot[8] = {isa::kOps[stdw].code, isa::kFramePointer, static_cast<std::uint8_t>(off),
                                  static_cast<std::uint8_t>(off >> 8), 0, 0, 0, 0};
    bytes.insert(bytes.end(), slot, slot + 8);
  }
  bytes.insert(bytes.end(), input.begin(), input.end());
  auto program = vm::decode_program(std::span<const std::uint8_t>(bytes), "fuzz-fast");
  if (!program || has_local_calls(*program)) return;
  auto interp = vm::Interpreter::create(*program, helpers);
  auto jp = jit::JitProgram::compile(*program, helpers, {}, {});
  jit::JitOptions optimizing;
  optimizing.optimize = true;
  auto opt = jit::JitProgram::compile(*program, helpers, {}, optimizing);
  if (!interp || !jp || !opt) return;
  vm::ExecOptions checked;
  checked.checked = true;
  checked.budget_insns = 4096 + 64;
  const auto a = testing::run_engine(*interp, buffer, initial, checked, /*compare_insns=*/false);
  if (a.code == Errc::MemoryFault || a.code == Errc::BudgetExceeded) return;
  const auto b = testing::run_engine(*jp, buffer, initial, vm::ExecOptions{}, /*compare_insns=*/false);
  if (!(a == b)) report("fast variant", a, b);
  const auto c = testing::run_engine(*opt, buffer, initial, vm::ExecOptions{}, /*compare_insns=*/false);
  if (!(a == c)) report("optimizing tier (zeroed frame)", a, c);
}

// A program the verifier accepts as a plain program over the buffer runs on the optimizing tier
// unchecked, as an embedder's Engine::JitOptimized would run it: no prologue (a path that reads
// unwritten stack gets JitOptions::zero_stack, as the verifier asks), local calls included. Runs the
// checked interpreter cannot finish within the budget are not compared (the tier has no budget).
void compare_optimized_verified(const vm::Program& program, const vm::HelperRegistry& helpers,
                                std::vector<std::uint8_t>& buffer, const std::vector<std::uint8_t>& initial) {
  verifier::VerifierOptions vo;
  vo.program_type = verifier::program_types::plain(static_cast<std::uint32_t>(buffer.size()));
  vo.permissive_constant_operands = true;  // RFC 9669 defines div/mod by 0 and oversized shifts
  vo.max_processed_insns = 100'000;
  // A hostile input may make verification slow (state compares, not insns): stop it well before
  // libFuzzer's -timeout would call it a hang.
  vo.max_time_us = 1'000'000;
  auto verified = verifier::verify(program, vo);
  if (!verified) return;
  auto interp = vm::Interpreter::create(verified->program(), helpers);
  jit::JitOptions optimizing;
  optimizing.optimize = true;
  optimizing.zero_stack = verified->reads_uninit_stack();
  // What the API gives the tier for a verified program (stack promotion in escaped frames follows it).
  optimizing.facts = {.pointers_stay_in_frame = true, .stack_ranges = verified->stack_ranges()};
  auto opt = jit::JitProgram::compile(verified->program(), helpers, {}, optimizing);
  if (!interp || !opt) std::abort();  // a verified program compiles on both engines
  vm::ExecOptions checked;
  checked.checked = true;
  checked.budget_insns = 4096;
  const auto a = testing::run_engine(*interp, buffer, initial, checked, /*compare_insns=*/false);
  if (a.code == Errc::BudgetExceeded) return;
  const auto b = testing::run_engine(*opt, buffer, initial, vm::ExecOptions{}, /*compare_insns=*/false);
  if (!(a == b)) report("optimizing tier (verified program)", a, b);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8 || size > 8 * 512) return -1;
  auto program = vm::decode_program(std::span<const std::uint8_t>(data, size - size % 8), "fuzz");
  if (!program || !comparable(*program)) return -1;  // undecodable or not comparable: rejected
  static const vm::HelperRegistry helpers = testing::test_helpers();
  auto interp = vm::Interpreter::create(*program, helpers);
  jit::JitOptions jo;
  jo.checked = true;
  auto jp = jit::JitProgram::compile(*program, helpers, {}, jo);
  if (!interp || !jp) {
    if (!interp != !jp) std::abort();  // both engines must refuse the same programs
    return 0;
  }
  std::vector<std::uint8_t> buffer(64), initial(64);
  for (std::size_t i = 0; i < initial.size(); ++i) initial[i] = static_cast<std::uint8_t>(i * 7);
  vm::ExecOptions opt;
  opt.checked = true;
  opt.budget_insns = 4096;
  const auto a = testing::run_engine(*interp, buffer, initial, opt);
  const auto b = testing::run_engine(*jp, buffer, initial, opt);
  // A fault relative to r10 names each engine's own stack address: same pc and kind suffice there.
  if (!(a == b)) {
    const bool stack_dependent = (a.code == Errc::MemoryFault && b.code == Errc::MemoryFault && a.pc == b.pc);
    if (!stack_dependent) report("checked variant", a, b);
  }
  if (a.code == Errc::MemoryFault) return 0;  // the unchecked variants would really fault
  // Counted: unchecked memory, the same exact budget; zeroes the stack like the checked engines.
  vm::ExecOptions counted;
  counted.budget_insns = opt.budget_insns;
  const auto c = testing::run_engine(*jp, buffer, initial, counted);
  if (!(a == c)) report("counted variant", a, c);
  compare_fast(std::span<const std::uint8_t>(data, size - size % 8), helpers, buffer, initial);
  compare_optimized_verified(*program, helpers, buffer, initial);
  return 0;
}
