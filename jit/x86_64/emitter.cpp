// X86Emitter core: entry trampoline, epilogue, what EmitDriver asks per pc (label, budget charge),
// the shared stubs into C++ (jit/runtime.hpp) and the code of the cold failure paths.
//
// Frame discipline: inside BPF code rsp ≡ 8 (mod 16), like at a function's first instruction.
// The trampoline `call`s pc 0; a local call pushes five registers and `call`s its target; every BPF
// `exit` is a plain `ret`. A fault anywhere resets rsp to the trampoline's saved value.
#include "jit/x86_64/emitter.hpp"

#include <cstddef>
#include <string>

#include "jit/native_assembly.hpp"
#include "jit/runtime.hpp"
#include "jit/x86_64/access_check.hpp"
#include "jit/x86_64/native_size_bound.hpp"

namespace bpfvm::jit::x86_64 {

using namespace asmjit;
using isa::Form;

namespace {

template <class Fn>
std::uint64_t fn_address(Fn* fn) {
  return reinterpret_cast<std::uint64_t>(fn);
}

}  // namespace

X86Emitter::X86Emitter(const CompileRequest& req, x86::Assembler& a)
    : EmitDriver(req),
      a_(a),
      rng_(req.blind_constants ? std::optional<std::mt19937_64>(req.blinding_seed) : std::nullopt),
      bmi2_(!req.baseline_isa_only && host_has_bmi2()) {
  const auto n = program_.size();
  labels_.assign(n, Label());
  loop_heads_ = loop_heads(program_);
  a_.addEncodingOptions(EncodingOptions::kOptimizedAlign);
  pc_offsets_.assign(n, 0);
  fail_exit_ = a_.newLabel();
  epilogue_ = a_.newLabel();
  check_stub_ = a_.newLabel();
  callx_stub_ = a_.newLabel();
  helper_stub_ = a_.newLabel();
  direct_lookup_stub_ = a_.newLabel();
  tail_stub_ = a_.newLabel();
  packet_load_stub_ = a_.newLabel();
  if (req_.forward_jumps == ForwardJumps::Sized)
    offset_bounds_ = native_offset_bounds(program_, req_.variant, req_.blind_constants);
}

bool host_has_bmi2() { return CpuInfo::host().features().x86().hasBMI2(); }
bool host_has_movbe() { return CpuInfo::host().features().x86().hasMOVBE(); }
bool host_has_bmi1() { return CpuInfo::host().features().x86().hasBMI(); }

X86Emitter::Gp X86Emitter::sized(unsigned bpf_reg, unsigned bits) {
  const auto id = host_id_of_bpf(bpf_reg);
  switch (bits) {
    case 8: return x86::gpb(id);
    case 16: return x86::gpw(id);
    case 32: return x86::gpd(id);
    default: return x86::gpq(id);
  }
}

X86Emitter::Mem X86Emitter::state(std::size_t offset, unsigned size_bytes) {
  return x86::ptr(x86::gpq(host_id(kStateReg)), static_cast<std::int32_t>(offset), size_bytes);
}

void X86Emitter::load_imm(const Gp& reg, std::int64_t value) {
  const bool narrow = reg.size() == 4;
  if (narrow) value = static_cast<std::int64_t>(static_cast<std::uint32_t>(value));
  if (!req_.blind_constants) {
    // xor r32, r32 is 2-3 bytes against 5-7 and zero-extends to 64 bits. It clobbers the flags:
    // callers load immediates before their own compare, never between a compare and its jcc.
    if (value == 0)
      a_.xor_(x86::gpd(reg.id()), x86::gpd(reg.id()));
    else if (value > 0 && value <= 0xffffffff)
      a_.mov(x86::gpd(reg.id()), imm(value));  // zero-extends: 5 bytes where the r64 form takes 7
    else
      a_.mov(reg, imm(value));
    return;
  }
  // Constant blinding: the immediate never appears verbatim in executable memory.
  const auto key = static_cast<std::int32_t>((*rng_)() | 1);
  std::int64_t blinded = value ^ static_cast<std::int64_t>(key);
  if (narrow) blinded = static_cast<std::int64_t>(static_cast<std::uint32_t>(blinded));
  a_.mov(reg, imm(blinded));
  a_.xor_(reg, imm(key));
}

X86Emitter::Mem X86Emitter::guarded(unsigned bpf_reg, std::int16_t off, unsigned size_bytes, bool write,
                                    std::uint32_t pc, bool force_address_reg) {
  const auto addr = x86::gpq(host_id(kScratchA));
  const auto tmp = x86::gpq(host_id(kScratchB));
  if (!checked() && !force_address_reg) return x86::ptr(q(bpf_reg), off, size_bytes);
  a_.lea(addr, x86::ptr(q(bpf_reg), off));
  if (!checked()) return x86::ptr(addr, 0, size_bytes);
  emit_access_check(a_, addr, tmp, x86::gpq(host_id(kStateReg)), size_bytes, write, pc, check_stub_);
  return x86::ptr(addr, 0, size_bytes);
}

void X86Emitter::emit_trampoline() {
  // Trampoline: int entry(JitState*). Saves callee-saved registers, loads r1..r5 and r10,
  // and calls state->entry (pc 0, or a callback's subprogram) so that every BPF exit is a `ret`.
  const auto state_reg = x86::gpq(host_id(kStateReg));
  if (req_.listing) a_.comment("entry trampoline");
  for (auto r : {x86::rbx, x86::rbp, x86::r12, x86::r13, x86::r14, x86::r15}) a_.push(r);
  a_.sub(x86::rsp, 8);
  a_.mov(state_reg, x86::rdi);
  a_.mov(state(offsetof(JitState, saved_rsp)), x86::rsp);
  for (unsigned i = 0; i < 5; ++i)
    a_.mov(q(1 + i), state(offsetof(JitState, args) + 8 * i));
  for (unsigned r : {0u, 6u, 7u, 8u, 9u}) a_.xor_(d(r), d(r));  // the interpreter zeroes them too
  a_.mov(q(isa::kFramePointer), state(offsetof(JitState, frame_top)));
  a_.call(state(offsetof(JitState, entry)));
  a_.mov(state(offsetof(JitState, r0)), q(0));
  a_.xor_(x86::eax, x86::eax);
  a_.bind(epilogue_);
  a_.add(x86::rsp, 8);
  for (auto r : {x86::r15, x86::r14, x86::r13, x86::r12, x86::rbp, x86::rbx}) a_.pop(r);
  a_.ret();
  a_.bind(fail_exit_);
  a_.mov(x86::rsp, state(offsetof(JitState, saved_rsp)));
  a_.mov(x86::eax, 1);
  a_.jmp(epilogue_);
}

void X86Emitter::begin_insn(std::uint32_t pc) {
  // Loop heads start on a kLoopAlignBytes boundary (multi-byte NOPs, run once on entry): loops of
  // the bench programs ran 7-12% faster aligned to 16 than unaligned (bench/README.md), and 32 keeps
  // a small loop inside one 64-byte line (native_size_bound.hpp); the kernel does not align.
  if (loop_heads_[pc]) a_.align(AlignMode::kCode, kLoopAlignBytes);
  // One section and no relaxation: the offset where pc starts is final as soon as it is known.
  pc_offsets_[pc] = static_cast<std::uint32_t>(a_.offset());
  if (labels_[pc].isValid()) a_.bind(labels_[pc]);
}

void X86Emitter::charge_budget(std::uint32_t pc, std::uint32_t len) {
  a_.sub(state(offsetof(JitState, budget_left)), imm(len));
  a_.jb(cold(ColdPath::Kind::Budget, pc, len));
}

void X86Emitter::emit_cold_entry(const ColdPath& c, const Label& common) {
  a_.mov(x86::esi, imm(c.pc));
  if (c.kind == ColdPath::Kind::Budget) a_.mov(x86::edx, imm(c.length));
  a_.jmp(common);
}

void X86Emitter::emit_cold_exit(ColdPath::Kind kind) {
  // Both failures end the run: unwind first, so the C++ call sees an aligned stack.
  const auto fn = kind == ColdPath::Kind::Budget ? fn_address(&jit_budget_exhausted) : fn_address(&jit_call_depth);
  a_.mov(x86::rsp, state(offsetof(JitState, saved_rsp)));
  a_.mov(x86::rdi, x86::gpq(host_id(kStateReg)));
  a_.mov(x86::rax, imm(fn));
  a_.call(x86::rax);
  a_.mov(x86::eax, 1);
  a_.jmp(epilogue_);
}

void X86Emitter::emit_stubs() {
  const auto state_reg = x86::gpq(host_id(kStateReg));
  const auto status = state(offsetof(JitState, status), 4);
  // Each stub is emitted only when some instruction calls it.
  const Gp kSaved[] = {x86::rax, x86::rdi, x86::rsi, x86::rdx, x86::rcx, x86::r8, x86::r9, x86::r10};
  // check_stub: r10 = address, r11 = access_info. Entered with rsp ≡ 0; eight pushes keep it.
  if (checked()) {
    if (req_.listing) a_.comment("stub: checked access slow path");
    a_.bind(check_stub_);
    for (const auto& r : kSaved) a_.push(r);
    a_.mov(x86::rdi, state_reg);
    a_.mov(x86::rsi, x86::r10);
    a_.mov(x86::rdx, x86::r11);
    a_.mov(x86::rax, imm(fn_address(&jit_check_access)));
    a_.call(x86::rax);
    a_.test(x86::al, x86::al);
    a_.jz(fail_exit_);
    for (int i = 7; i >= 0; --i) a_.pop(kSaved[i]);
    a_.ret();
  }

  // callx_stub: r10 = value, r11 = pc. Returns r10 = native target, or 0 for a helper.
  if (has_callx_) {
    if (req_.listing) a_.comment("stub: callx target resolution");
    a_.bind(callx_stub_);
    for (int i = 0; i < 6; ++i) a_.push(kSaved[i]);
    a_.mov(x86::rdi, state_reg);
    a_.mov(x86::rsi, x86::r10);
    a_.mov(x86::rdx, x86::r11);
    a_.mov(x86::rax, imm(fn_address(&jit_resolve_callx)));
    a_.call(x86::rax);
    a_.mov(x86::r10, x86::rax);
    for (int i = 5; i >= 0; --i) a_.pop(kSaved[i]);
    a_.cmp(status, 0);
    a_.jne(fail_exit_);
    a_.ret();
  }

  // helper_stub: calls state->pending_helper through jit_call_helper. r1..r5 are SysV arguments
  // already; they are kept for the caller (as the interpreter keeps them), r0 = the result.
  if (has_helper_call_) {
    if (req_.listing) a_.comment("stub: helper call");
    a_.bind(helper_stub_);
    for (int i = 1; i < 6; ++i) a_.push(kSaved[i]);
    a_.sub(x86::rsp, 8);
    a_.mov(x86::r9, state_reg);
    a_.mov(x86::r10, imm(fn_address(&jit_call_helper)));
    a_.call(x86::r10);
    a_.add(x86::rsp, 8);
    for (int i = 5; i >= 1; --i) a_.pop(kSaved[i]);
    a_.cmp(status, 0);
    a_.jne(fail_exit_);
    a_.ret();
  }

  // direct_lookup_stub: r10 = a map's lookup entry (emit_direct_lookup), called like jit_call_helper
  // with r1..r5 kept; the entry cannot fail, so there is no status to test.
  if (has_direct_lookup_) {
    if (req_.listing) a_.comment("stub: direct map lookup");
    a_.bind(direct_lookup_stub_);
    for (int i = 1; i < 6; ++i) a_.push(kSaved[i]);
    a_.sub(x86::rsp, 8);
    a_.call(x86::r10);
    a_.add(x86::rsp, 8);
    for (int i = 5; i >= 1; --i) a_.pop(kSaved[i]);
    a_.ret();
  }

  // tail_stub: asks jit_take_tail_call whether the helper just called chose a tail-call target.
  // Entered with rsp ≡ 0; six pushes keep it. r0 (the helper's result) and r1..r5 are kept, since
  // a failed tail call continues with them and a taken one starts the target with them.
  if (may_tail_call_) {
    if (req_.listing) a_.comment("stub: tail call");
    a_.bind(tail_stub_);
    const Gp kKept[] = {x86::rax, x86::rdi, x86::rsi, x86::rdx, x86::rcx, x86::r8};
    for (const auto& r : kKept) a_.push(r);
    a_.mov(x86::rdi, state_reg);
    a_.mov(x86::rax, imm(fn_address(&jit_take_tail_call)));
    a_.call(x86::rax);
    a_.mov(x86::r10, x86::rax);
    for (int i = 5; i >= 0; --i) a_.pop(kKept[i]);
    a_.cmp(status, 0);
    a_.jne(fail_exit_);
    a_.ret();
  }

  // packet_load_stub: r10 = offset, r11 = size. jit_packet_load(state, r6, offset, size) with
  // r1..r5 kept (as the interpreter keeps them); rax (r0) = the entry's raw result.
  if (has_packet_load_) {
    if (req_.listing) a_.comment("stub: LD_ABS/LD_IND packet load");
    a_.bind(packet_load_stub_);
    for (int i = 1; i < 6; ++i) a_.push(kSaved[i]);
    a_.sub(x86::rsp, 8);
    a_.mov(x86::rdi, state_reg);
    a_.mov(x86::rsi, q(isa::kPacketLoadCtxReg));
    a_.mov(x86::rdx, x86::r10);
    a_.mov(x86::rcx, x86::r11);
    a_.mov(x86::rax, imm(fn_address(&jit_packet_load)));
    a_.call(x86::rax);
    a_.add(x86::rsp, 8);
    for (int i = 5; i >= 1; --i) a_.pop(kSaved[i]);
    a_.cmp(status, 0);
    a_.jne(fail_exit_);
    a_.ret();
  }
}

namespace {

/// One assembly of req. rel8_overflow reports that asmjit found a rel8 jump too short.
Result<NativeCode> assemble(const CompileRequest& req, bool& rel8_overflow) {
  const std::size_t per_insn = req.variant == Variant::Checked ? 48 : 12;
  NativeAssembly code(req, Environment::host(), "x86-64", req.program->size() * per_insn + 1024);
  x86::Assembler a(code.holder());
  X86Emitter emitter(req, a);
  auto emitted = emitter.emit_program();
  if (!emitted) return std::move(emitted).error();
  rel8_overflow = code.errors().displacement_overflow();
  return code.finish(emitter.func_target_pcs(), [&](const CodeHolder&) { return emitter.pc_offsets(); });
}

}  // namespace

Result<NativeCode> compile(const CompileRequest& req) {
  bool rel8_overflow = false;
  auto native = assemble(req, rel8_overflow);
  if (!rel8_overflow) return native;
  // A size bound was wrong somewhere (or the request forced rel8): rel32 always reaches. The same
  // blinding seed gives the same keys, so only the jump encodings differ.
  CompileRequest near = req;
  near.forward_jumps = ForwardJumps::AllNear;
  native = assemble(near, rel8_overflow);
  if (native) native->rebuilt_with_near_jumps = true;
  return native;
}

}  // namespace bpfvm::jit::x86_64
