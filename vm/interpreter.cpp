// The interpreter: direct-threaded dispatch (GCC/Clang computed goto) over prepared slots.
// Each table row maps to one handler label; ALU semantics live in vm/alu_semantics.hpp, shared with
// the JIT's constant folding and tests.
#include "vm/interpreter.hpp"

#include <array>
#include <cstring>
#include <limits>

#include "vm/alu_semantics.hpp"
#include "vm/exec_errors.hpp"
#include "vm/kfunc_call.hpp"

namespace bpfvm::vm {

using isa::Form;
using isa::Kind;
using isa::Operand;


namespace {

struct Frame {
  const Interpreter* program;  // the caller: a tail call may have switched programs since
  const void* return_slot;
  std::uint64_t saved[4];  // r6..r9
  std::uint64_t r10;
};

// Everything the dispatch loop needs; one per run, on the host stack.
struct Machine {
  std::uint64_t reg[isa::kNumRegs];
  Frame frames[isa::kMaxRunFrames];
  alignas(16) std::uint8_t stack[isa::kMaxRunFrames * isa::kStackBytes];
};

template <class T>
T load_guest(std::uint64_t addr) {
  T v;
  std::memcpy(&v, reinterpret_cast<const void*>(addr), sizeof v);
  return v;
}

template <class T>
void store_guest(std::uint64_t addr, T v) {
  std::memcpy(reinterpret_cast<void*>(addr), &v, sizeof v);
}

// Handler labels for each row, filled by the core in prepare mode.
using LabelTable = std::array<const void*, isa::kNumOps>;

enum class Phase { Prepare, Run };
using Mode = Interpreter::Mode;

// One instantiation per Mode: Unchecked and Checked differ in CHECK(); Coverage is Checked plus
// EDGE() on conditional jumps, so the other two pay nothing for it.
template <Mode kMode>
Result<ExecResult> execute(Phase phase, LabelTable* labels_out, const Interpreter* self,
                           const Interpreter::Slot* start, RunContext* ctx,
                           std::span<const std::uint64_t> args, std::uint64_t budget) {
  constexpr bool kChecked = kMode != Mode::Unchecked;
  constexpr bool kCoverage = kMode == Mode::Coverage;
  if (phase == Phase::Prepare) {
    // Pick the label for every row from its kind, width and operand.
    for (std::size_t i = 0; i < isa::kNumOps; ++i) {
      const auto& op = isa::kOps[i];
      const bool w64 = op.width == 64;
      const bool reg = op.operand == Operand::Reg;
#define BPFVM_PICK4(K) (w64 ? (reg ? &&K##_64_reg : &&K##_64_imm) : (reg ? &&K##_32_reg : &&K##_32_imm))
#define BPFVM_PICKW(K) \
  (op.width == 8 ? &&K##_8 : op.width == 16 ? &&K##_16 : op.width == 32 ? &&K##_32 : &&K##_64)
#define BPFVM_PICK2(K) (w64 ? &&K##_64 : &&K##_32)
      const void* h = nullptr;
      switch (op.kind) {
        case Kind::Add: h = BPFVM_PICK4(add); break;
        case Kind::Sub: h = BPFVM_PICK4(sub); break;
        case Kind::Mul: h = BPFVM_PICK4(mul); break;
        case Kind::Div: h = BPFVM_PICK4(div); break;
        case Kind::SDiv: h = BPFVM_PICK4(sdiv); break;
        case Kind::Or: h = BPFVM_PICK4(bor); break;
        case Kind::And: h = BPFVM_PICK4(band); break;
        case Kind::Lsh: h = BPFVM_PICK4(lsh); break;
        case Kind::Rsh: h = BPFVM_PICK4(rsh); break;
        case Kind::Mod: h = BPFVM_PICK4(mod); break;
        case Kind::SMod: h = BPFVM_PICK4(smod); break;
        case Kind::Xor: h = BPFVM_PICK4(bxor); break;
        case Kind::Mov: h = BPFVM_PICK4(mov); break;
        case Kind::Arsh: h = BPFVM_PICK4(arsh); break;
        case Kind::MovSx:
          h = w64 ? (op.off.value == 8 ? &&movsx8_64 : op.off.value == 16 ? &&movsx16_64 : &&movsx32_64)
                  : (op.off.value == 8 ? &&movsx8_32 : &&movsx16_32);
          break;
        case Kind::Neg: h = BPFVM_PICK2(neg); break;
        case Kind::ToLe: h = op.width == 16 ? &&le_16 : op.width == 32 ? &&le_32 : &&le_64; break;
        case Kind::ToBe:
        case Kind::Bswap: h = op.width == 16 ? &&bswap_16 : op.width == 32 ? &&bswap_32 : &&bswap_64; break;
        case Kind::Ldx: h = BPFVM_PICKW(ldx); break;
        case Kind::LdxSx: h = op.width == 8 ? &&ldxs_8 : op.width == 16 ? &&ldxs_16 : &&ldxs_32; break;
        case Kind::St: h = BPFVM_PICKW(st); break;
        case Kind::Stx: h = BPFVM_PICKW(stx); break;
        case Kind::Lddw: h = &&lddw; break;
        case Kind::AtomicAdd: h = BPFVM_PICK2(atomic_add); break;
        case Kind::AtomicOr: h = BPFVM_PICK2(atomic_or); break;
        case Kind::AtomicAnd: h = BPFVM_PICK2(atomic_and); break;
        case Kind::AtomicXor: h = BPFVM_PICK2(atomic_xor); break;
        case Kind::Xchg: h = BPFVM_PICK2(xchg); break;
        case Kind::CmpXchg: h = BPFVM_PICK2(cmpxchg); break;
        case Kind::Ja: h = &&ja; break;
        case Kind::Jeq: h = BPFVM_PICK4(jeq); break;
        case Kind::Jgt: h = BPFVM_PICK4(jgt); break;
        case Kind::Jge: h = BPFVM_PICK4(jge); break;
        case Kind::Jset: h = BPFVM_PICK4(jset); break;
        case Kind::Jne: h = BPFVM_PICK4(jne); break;
        case Kind::Jsgt: h = BPFVM_PICK4(jsgt); break;
        case Kind::Jsge: h = BPFVM_PICK4(jsge); break;
        case Kind::Jlt: h = BPFVM_PICK4(jlt); break;
        case Kind::Jle: h = BPFVM_PICK4(jle); break;
        case Kind::Jslt: h = BPFVM_PICK4(jslt); break;
        case Kind::Jsle: h = BPFVM_PICK4(jsle); break;
        case Kind::Call: case Kind::CallKfunc: h = &&call_helper; break;  // a kfunc is called as a helper
        case Kind::CallLocal: h = &&call_local; break;
        case Kind::CallReg: h = &&call_reg; break;
        case Kind::Exit: h = &&exit; break;
        case Kind::LdAbs: h = op.width == 8 ? &&ldabs_8 : op.width == 16 ? &&ldabs_16 : &&ldabs_32; break;
        case Kind::LdInd: h = op.width == 8 ? &&ldind_8 : op.width == 16 ? &&ldind_16 : &&ldind_32; break;
      }
#undef BPFVM_PICK4
#undef BPFVM_PICKW
#undef BPFVM_PICK2
      (*labels_out)[i] = h;
    }
    return ExecResult{};
  }

  Machine m;
  // Checked runs read unwritten stack as zero (deterministic, and what the JIT's checked variant
  // does); a program the verifier let read unwritten stack (InterpreterOptions::zero_stack) must not
  // see an earlier run's bytes. Frames are cleared as calls first enter them, not all 41 up front: a
  // run of the main function clears 512 bytes instead of 20 KiB (the fuzzer's per-input cost, issue
  // #19). Other programs pay nothing.
  const bool zero_frames = kChecked || self->zero_stack();
  int zeroed_frames = 1;
  if (zero_frames) std::memset(m.stack + sizeof m.stack - isa::kStackBytes, 0, isa::kStackBytes);
  std::memset(m.reg, 0, sizeof m.reg);
  for (std::size_t i = 0; i < args.size() && i < 5; ++i) m.reg[1 + i] = args[i];
  const auto stack_top = reinterpret_cast<std::uintptr_t>(m.stack + sizeof m.stack);
  m.reg[isa::kFramePointer] = stack_top;
  int depth = 0;
  // Deepest depth a local call may reach: kMaxCallFrames - 1 below the main program, and as many below
  // the frame each tail call continued on (capped by the frames a run has, isa::kMaxRunFrames).
  int depth_limit = isa::kMaxCallFrames - 1;
  ctx->stack = Region{stack_top - isa::kStackBytes, isa::kStackBytes, true, "stack"};

  // The program being run; bpf_tail_call replaces it, returns from subprograms restore it.
  const Interpreter* prog = self;
  const Interpreter::Slot* slots = prog->slots(kMode).data();
  std::size_t n_slots = prog->slots(kMode).size();
  [[maybe_unused]] std::uint32_t* const edges = ctx->edge_counters;
  [[maybe_unused]] const void* const edges_owner = ctx->edge_counters_owner;
  std::uint64_t executed = ctx->insns_executed;
  const Interpreter::Slot* pc = start;
  std::uint64_t* const r = m.reg;
  std::uint64_t fault_addr = 0;
  unsigned fault_size = 0;
  bool fault_write = false;
  const HelperEntry* helper = nullptr;
  const Interpreter::Slot* target = nullptr;
  std::uint64_t packet_offset = 0;
  unsigned packet_bytes = 0;

  auto pc_index = [&] { return static_cast<std::uint32_t>(pc - slots); };
  auto mem_ok = [&](std::uint64_t addr, unsigned size, bool write) {
    if (ctx->allowed(static_cast<std::uintptr_t>(addr), size, write)) return true;
    fault_addr = addr;
    fault_size = size;
    fault_write = write;
    return false;
  };

#define DISPATCH()                                  \
  do {                                              \
    if (++executed > budget) goto budget_exhausted; \
    goto* pc->handler;                              \
  } while (0)
#define NEXT() \
  do {         \
    ++pc;      \
    DISPATCH(); \
  } while (0)
#define DST r[pc->dst]
#define SRC_REG r[pc->src]
#define SRC_IMM static_cast<std::uint64_t>(static_cast<std::int64_t>(pc->imm))

  DISPATCH();

  // ALU: one macro makes the four (width, operand) handlers of a binary operation.
#define ALU_BIN(K, FN)                                                         \
  K##_64_imm : DST = alu::FN##64(DST, SRC_IMM); NEXT();                        \
  K##_64_reg : DST = alu::FN##64(DST, SRC_REG); NEXT();                        \
  K##_32_imm : DST = alu::FN##32(static_cast<std::uint32_t>(DST), static_cast<std::uint32_t>(pc->imm)); NEXT(); \
  K##_32_reg : DST = alu::FN##32(static_cast<std::uint32_t>(DST), static_cast<std::uint32_t>(SRC_REG)); NEXT();
  ALU_BIN(add, add)
  ALU_BIN(sub, sub)
  ALU_BIN(mul, mul)
  ALU_BIN(div, div)
  ALU_BIN(sdiv, sdiv)
  ALU_BIN(bor, bit_or)
  ALU_BIN(band, bit_and)
  ALU_BIN(lsh, lsh)
  ALU_BIN(rsh, rsh)
  ALU_BIN(mod, mod)
  ALU_BIN(smod, smod)
  ALU_BIN(bxor, bit_xor)
  ALU_BIN(mov, mov)
  ALU_BIN(arsh, arsh)
#undef ALU_BIN

movsx8_64: DST = alu::movsx64(SRC_REG, 8); NEXT();
movsx16_64: DST = alu::movsx64(SRC_REG, 16); NEXT();
movsx32_64: DST = alu::movsx64(SRC_REG, 32); NEXT();
movsx8_32: DST = alu::movsx32(SRC_REG, 8); NEXT();
movsx16_32: DST = alu::movsx32(SRC_REG, 16); NEXT();
neg_64: DST = alu::neg64(DST); NEXT();
neg_32: DST = alu::neg32(static_cast<std::uint32_t>(DST)); NEXT();
le_16: DST = alu::to_le(DST, 16); NEXT();
le_32: DST = alu::to_le(DST, 32); NEXT();
le_64: DST = alu::to_le(DST, 64); NEXT();
bswap_16: DST = alu::bswap(DST, 16); NEXT();
bswap_32: DST = alu::bswap(DST, 32); NEXT();
bswap_64: DST = alu::bswap(DST, 64); NEXT();

  // Memory. ADDR is computed with wrap-around like the hardware would.
#define ADDR_SRC (SRC_REG + static_cast<std::uint64_t>(static_cast<std::int64_t>(pc->off)))
#define ADDR_DST (DST + static_cast<std::uint64_t>(static_cast<std::int64_t>(pc->off)))
#define CHECK(ADDR, SIZE, WRITE) \
  if constexpr (kChecked) {      \
    if (!mem_ok(ADDR, SIZE, WRITE)) goto memory_fault; \
  }
#define LOADS(BITS, T, ST)                                                               \
  ldx_##BITS : { const auto a = ADDR_SRC; CHECK(a, BITS / 8, false)                     \
                 DST = load_guest<T>(a); NEXT(); }                                      \
  st_##BITS : { const auto a = ADDR_DST; CHECK(a, BITS / 8, true)                       \
                store_guest<T>(a, static_cast<T>(SRC_IMM)); NEXT(); }                  \
  stx_##BITS : { const auto a = ADDR_DST; CHECK(a, BITS / 8, true)                      \
                 store_guest<T>(a, static_cast<T>(SRC_REG)); NEXT(); }
  LOADS(8, std::uint8_t, std::int8_t)
  LOADS(16, std::uint16_t, std::int16_t)
  LOADS(32, std::uint32_t, std::int32_t)
  LOADS(64, std::uint64_t, std::int64_t)
#undef LOADS
ldxs_8: { const auto a = ADDR_SRC; CHECK(a, 1, false)
  DST = static_cast<std::uint64_t>(static_cast<std::int64_t>(load_guest<std::int8_t>(a))); NEXT(); }
ldxs_16: { const auto a = ADDR_SRC; CHECK(a, 2, false)
  DST = static_cast<std::uint64_t>(static_cast<std::int64_t>(load_guest<std::int16_t>(a))); NEXT(); }
ldxs_32: { const auto a = ADDR_SRC; CHECK(a, 4, false)
  DST = static_cast<std::uint64_t>(static_cast<std::int64_t>(load_guest<std::int32_t>(a))); NEXT(); }

lddw: DST = pc->imm64; pc += 2; DISPATCH();

  // Atomics: the fetch variants (imm bit 0) return the old value in src, zero-extended for 32 bits.
#define ATOMIC_RMW(K, BUILTIN)                                                              \
  K##_64 : { const auto a = ADDR_DST; CHECK(a, 8, true)                                    \
    const auto old = BUILTIN(reinterpret_cast<std::uint64_t*>(a), SRC_REG, __ATOMIC_SEQ_CST); \
    if (pc->imm & isa::enc::kFetch) { SRC_REG = old; } NEXT(); }                                \
  K##_32 : { const auto a = ADDR_DST; CHECK(a, 4, true)                                    \
    const auto old = BUILTIN(reinterpret_cast<std::uint32_t*>(a), static_cast<std::uint32_t>(SRC_REG), __ATOMIC_SEQ_CST); \
    if (pc->imm & isa::enc::kFetch) { SRC_REG = old; } NEXT(); }
  ATOMIC_RMW(atomic_add, __atomic_fetch_add)
  ATOMIC_RMW(atomic_or, __atomic_fetch_or)
  ATOMIC_RMW(atomic_and, __atomic_fetch_and)
  ATOMIC_RMW(atomic_xor, __atomic_fetch_xor)
#undef ATOMIC_RMW
xchg_64: { const auto a = ADDR_DST; CHECK(a, 8, true)
  SRC_REG = __atomic_exchange_n(reinterpret_cast<std::uint64_t*>(a), SRC_REG, __ATOMIC_SEQ_CST); NEXT(); }
xchg_32: { const auto a = ADDR_DST; CHECK(a, 4, true)
  SRC_REG = __atomic_exchange_n(reinterpret_cast<std::uint32_t*>(a), static_cast<std::uint32_t>(SRC_REG), __ATOMIC_SEQ_CST); NEXT(); }
cmpxchg_64: { const auto a = ADDR_DST; CHECK(a, 8, true)
  std::uint64_t expected = r[0];
  __atomic_compare_exchange_n(reinterpret_cast<std::uint64_t*>(a), &expected, SRC_REG, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  r[0] = expected; NEXT(); }
cmpxchg_32: { const auto a = ADDR_DST; CHECK(a, 4, true)
  std::uint32_t expected = static_cast<std::uint32_t>(r[0]);
  __atomic_compare_exchange_n(reinterpret_cast<std::uint32_t*>(a), &expected, static_cast<std::uint32_t>(SRC_REG), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  r[0] = expected; NEXT(); }
#undef CHECK
#undef ADDR_SRC
#undef ADDR_DST

  // Jumps: imm64 holds the absolute target slot, prepared once. Coverage mode counts the edge taken
  // (only in the program whose pcs index the counters, not in tail-call targets).
ja: pc = slots + pc->imm64; DISPATCH();
#define EDGE(TAKEN)                                                          \
  if constexpr (kCoverage) {                                                 \
    if (prog == edges_owner) ++edges[2 * static_cast<std::size_t>(pc - slots) + (TAKEN)]; \
  }
#define JUMP_IF(COND)                 \
  {                                   \
    const bool taken = (COND);        \
    EDGE(taken)                       \
    pc = taken ? slots + pc->imm64 : pc + 1; \
    DISPATCH();                       \
  }
#define JMP(K, CMP)                                                                                 \
  K##_64_imm : JUMP_IF(alu::CMP##64(DST, SRC_IMM))                                                  \
  K##_64_reg : JUMP_IF(alu::CMP##64(DST, SRC_REG))                                                  \
  K##_32_imm : JUMP_IF(alu::CMP##32(static_cast<std::uint32_t>(DST), static_cast<std::uint32_t>(pc->imm))) \
  K##_32_reg : JUMP_IF(alu::CMP##32(static_cast<std::uint32_t>(DST), static_cast<std::uint32_t>(SRC_REG)))
  JMP(jeq, jeq)
  JMP(jgt, jgt)
  JMP(jge, jge)
  JMP(jset, jset)
  JMP(jne, jne)
  JMP(jsgt, jsgt)
  JMP(jsge, jsge)
  JMP(jlt, jlt)
  JMP(jle, jle)
  JMP(jslt, jslt)
  JMP(jsle, jsle)
#undef JMP
#undef JUMP_IF
#undef EDGE

call_helper:
  helper = prog->helper_at(static_cast<std::size_t>(pc->imm));
invoke_helper:
  ctx->current_helper = helper;
  ctx->insns_executed = executed;  // callbacks run inside the helper count against the same budget
  r[0] = helper->fn(r[1], r[2], r[3], r[4], r[5], ctx);
  executed = ctx->insns_executed;
  if (ctx->faulted()) [[unlikely]]
    return helper_fault_error(pc_index(), helper->name, ctx->helper_fault);
  if (ctx->tail_call_target != nullptr) [[unlikely]] {
    // bpf_tail_call succeeded: continue in the target program on this frame, r1 (ctx) unchanged.
    const auto* next = static_cast<const TailCallTarget*>(ctx->tail_call_target)->interpreter.load(std::memory_order_acquire);
    ctx->tail_call_target = nullptr;
    if (next == nullptr) return tail_call_target_error(pc_index());
    // It continues on this frame and may call deeper: no earlier run's bytes in any of them.
    if (next->zero_stack()) std::memset(m.stack, 0, r[isa::kFramePointer] - reinterpret_cast<std::uintptr_t>(m.stack));
    prog = next;
    depth_limit = std::max(depth_limit, std::min(depth + isa::kMaxCallFrames - 1, isa::kMaxRunFrames - 1));
    if constexpr (kCoverage) {
      if (!prog->has_coverage())
        return make_error(Errc::Unsupported, "bpf_tail_call: the target was prepared without coverage", pc_index());
    }
    ctx->engine = prog;
    slots = prog->slots(kMode).data();
    n_slots = prog->slots(kMode).size();
    pc = slots;
    DISPATCH();
  }
  NEXT();

call_local:
  target = slots + pc->imm64;
enter_subprogram:
  if (depth >= depth_limit) return call_depth_error(pc_index());
  {
    auto& f = m.frames[depth++];
    f.program = prog;
    f.return_slot = pc + 1;
    std::memcpy(f.saved, &r[6], sizeof f.saved);
    f.r10 = r[isa::kFramePointer];
    r[isa::kFramePointer] -= isa::kStackBytes;
    ctx->stack = Region{stack_top - (depth + 1) * isa::kStackBytes, (depth + 1) * isa::kStackBytes, true, "stack"};
    if (zero_frames && depth >= zeroed_frames) {  // frames are entered one deeper at a time: depth == zeroed_frames
      std::memset(reinterpret_cast<void*>(ctx->stack.begin), 0, isa::kStackBytes);
      zeroed_frames = depth + 1;
    }
  }
  pc = target;
  DISPATCH();

call_reg: {
  // callx: a code pointer made by lddw_func, or (as the conformance suite uses it) a helper id.
  const auto value = DST;
  const auto first = reinterpret_cast<std::uintptr_t>(slots);
  const auto end = reinterpret_cast<std::uintptr_t>(slots + n_slots);
  if (value >= first && value < end && (value - first) % sizeof(Interpreter::Slot) == 0) {
    target = reinterpret_cast<const Interpreter::Slot*>(value);
    goto enter_subprogram;
  }
  helper = value <= std::numeric_limits<std::uint32_t>::max()
               ? prog->registry().find(static_cast<std::uint32_t>(value)) : nullptr;
  if (helper == nullptr) return callx_target_error(pc_index(), value);
  goto invoke_helper;
}

exit:
  if (depth == 0) {
    ctx->insns_executed = executed;
    return ExecResult{r[0], executed};
  }
  {
    const auto& f = m.frames[--depth];
    prog = f.program;
    ctx->engine = prog;
    slots = prog->slots(kMode).data();
    n_slots = prog->slots(kMode).size();
    std::memcpy(&r[6], f.saved, sizeof f.saved);
    r[isa::kFramePointer] = f.r10;
    ctx->stack = Region{stack_top - (depth + 1) * isa::kStackBytes, (depth + 1) * isa::kStackBytes, true, "stack"};
    pc = static_cast<const Interpreter::Slot*>(f.return_slot);
  }
  DISPATCH();

  // Legacy packet loads: the registry's packet-load entry reads the skb in r6, as the kernel's
  // gen_ld_abs calls bpf_skb_load_helper_N. The offset is computed in 64 bits like the kernel's r2;
  // the entry uses its low 32 bits. Outside the packet, the current function returns 0 (the
  // kernel's hidden `r0 = 0; exit`): the whole program in the main function, else to the caller.
  // r1-r5 are left as they were (the verifier makes them unreadable).
#define PACKET_LOAD(K, BYTES, OFFSET) \
  K : packet_offset = (OFFSET); packet_bytes = (BYTES); goto packet_load;
  PACKET_LOAD(ldabs_8, 1, SRC_IMM)
  PACKET_LOAD(ldabs_16, 2, SRC_IMM)
  PACKET_LOAD(ldabs_32, 4, SRC_IMM)
  PACKET_LOAD(ldind_8, 1, SRC_REG + SRC_IMM)
  PACKET_LOAD(ldind_16, 2, SRC_REG + SRC_IMM)
  PACKET_LOAD(ldind_32, 4, SRC_REG + SRC_IMM)
#undef PACKET_LOAD
packet_load: {
  helper = prog->packet_load();
  ctx->current_helper = helper;
  ctx->insns_executed = executed;
  const std::uint64_t value = helper->fn(r[isa::kPacketLoadCtxReg], packet_offset, packet_bytes, 0, 0, ctx);
  if (ctx->faulted()) [[unlikely]]
    return helper_fault_error(pc_index(), helper->name, ctx->helper_fault);
  if (static_cast<std::int64_t>(value) < 0) {
    r[0] = 0;
    goto exit;
  }
  r[0] = value;
  NEXT();
}

budget_exhausted:
  return budget_error(pc_index(), budget);
memory_fault: __attribute__((unused));
  return memory_fault_error(pc_index(), fault_addr, fault_size, fault_write);

#undef DISPATCH
#undef NEXT
#undef DST
#undef SRC_REG
#undef SRC_IMM
}

template <Mode kMode>
LabelTable make_labels() {
  LabelTable t{};
  (void)execute<kMode>(Phase::Prepare, &t, nullptr, nullptr, nullptr, {}, 0);
  return t;
}

const LabelTable& labels(Mode mode) {
  static const LabelTable kUnchecked = make_labels<Mode::Unchecked>();
  static const LabelTable kChecked = make_labels<Mode::Checked>();
  static const LabelTable kCoverage = make_labels<Mode::Coverage>();
  switch (mode) {
    case Mode::Unchecked: return kUnchecked;
    case Mode::Checked: return kChecked;
    case Mode::Coverage: return kCoverage;
  }
  return kUnchecked;
}

Result<ExecResult> execute_in(Mode mode, const Interpreter* self, const Interpreter::Slot* start, RunContext* ctx,
                              std::span<const std::uint64_t> args, std::uint64_t budget) {
  switch (mode) {
    case Mode::Unchecked: return execute<Mode::Unchecked>(Phase::Run, nullptr, self, start, ctx, args, budget);
    case Mode::Checked: return execute<Mode::Checked>(Phase::Run, nullptr, self, start, ctx, args, budget);
    case Mode::Coverage: return execute<Mode::Coverage>(Phase::Run, nullptr, self, start, ctx, args, budget);
  }
  return make_error(Errc::Internal, "unknown interpreter mode");
}

}  // namespace

Result<Interpreter> Interpreter::create(const Program& program, const HelperRegistry& helpers,
                                        const PseudoResolver& resolve, const InterpreterOptions& options) {
  if (auto e = frame_pointer_write_error(program)) return std::move(*e);
  Interpreter in;
  in.program_ = std::make_shared<const Program>(program);
  in.registry_ = &helpers;
  const auto n = program.size();
  in.slots_.resize(n);
  for (std::size_t pc = 0; pc < n; ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    const auto& insn = program.insns[pc];
    const auto& op = program.op(pc);
    auto& s = in.slots_[pc];
    s.dst = insn.dst;
    s.src = insn.src;
    s.off = insn.off;
    s.imm = insn.imm;
    const auto at = static_cast<std::uint32_t>(pc);
    switch (op.form) {
      case Form::Jump: case Form::Ja: case Form::Ja32: case Form::CallLocal:
        s.imm64 = static_cast<std::uint64_t>(branch_target(insn, op, pc));
        break;
      case Form::WideImm: {
        const auto src = static_cast<isa::LddwSrc>(insn.src);
        if (src == isa::LddwSrc::Imm64) {
          s.imm64 = program.wide_imm(pc);
        } else if (src == isa::LddwSrc::Func) {
          // Patched below, once slots_ has its final address.
        } else if (!resolve) {
          return make_error(Errc::Unsupported, std::string(op.mnemonic) + ": program refers to a map or BTF object but none was supplied", at);
        } else {
          auto v = resolve(src, insn.imm, program.insns[pc + 1].imm, at);
          if (!v) return std::move(v).error();
          s.imm64 = *v;
        }
        break;
      }
      case Form::Call: {
        const auto* h = helpers.find(static_cast<std::uint32_t>(insn.imm));
        if (h == nullptr)
          return make_error(Errc::HelperFault, "call to unknown helper " + std::to_string(static_cast<std::uint32_t>(insn.imm)), at);
        s.imm = static_cast<std::int32_t>(in.helpers_.size());
        in.helpers_.push_back(h);
        break;
      }
      case Form::CallKfunc: {
        auto k = resolve_kfunc_call(program, pc, helpers);
        if (!k) return std::move(k).error();
        s.imm = static_cast<std::int32_t>(in.helpers_.size());
        in.helpers_.push_back(&(*k)->call);
        break;
      }
      case Form::PacketLoad:
        if (helpers.packet_load() == nullptr)
          return no_packet_load_error(at, op.mnemonic);
        in.packet_load_ = helpers.packet_load();
        break;
      case Form::Alu: case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::Store:
      case Form::StoreReg: case Form::Atomic: case Form::CallReg: case Form::Exit:
        break;
    }
  }
  in.checked_slots_ = in.slots_;
  in.zero_stack_ = options.zero_stack;
  if (options.coverage) in.coverage_slots_ = in.slots_;
  in.thread(in.slots_, labels(Mode::Unchecked));
  in.thread(in.checked_slots_, labels(Mode::Checked));
  if (options.coverage) in.thread(in.coverage_slots_, labels(Mode::Coverage));
  return in;
}

void Interpreter::thread(std::vector<Slot>& slots, const std::array<const void*, isa::kNumOps>& labels) {
  const auto& program = *program_;
  for (std::size_t pc = 0; pc < slots.size(); ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    slots[pc].handler = labels[program.ops[pc]];
    // BPF_PSEUDO_FUNC loads the address of the target slot in this copy; callx recognises it.
    if (program.op(pc).form == Form::WideImm &&
        static_cast<isa::LddwSrc>(program.insns[pc].src) == isa::LddwSrc::Func)
      slots[pc].imm64 = reinterpret_cast<std::uintptr_t>(
          &slots[static_cast<std::size_t>(static_cast<std::int64_t>(pc) + 1 + program.insns[pc].imm)]);
  }
}

Result<ExecResult> Interpreter::run(RunContext& ctx, std::span<const std::uint64_t> args,
                                    const ExecOptions& options) const {
  // Coverage runs take their own path, so unchecked and checked runs do exactly what they did.
  if (options.edge_counters != nullptr) [[unlikely]] {
    if (!has_coverage())
      return make_error(Errc::InvalidArgument, "edge counters given but the interpreter was created without coverage");
    ctx.edge_counters = options.edge_counters;
    ctx.edge_counters_owner = this;
    auto result = run_in(Mode::Coverage, ctx, args, options.budget_insns, options.runs);
    ctx.edge_counters = nullptr;
    ctx.edge_counters_owner = nullptr;
    return result;
  }
  return run_in(options.checked ? Mode::Checked : Mode::Unchecked, ctx, args, options.budget_insns, options.runs);
}

Result<ExecResult> Interpreter::run_in(Mode mode, RunContext& ctx, std::span<const std::uint64_t> args,
                                       std::uint64_t budget_insns, std::uint32_t runs) const {
  const auto budget = budget_insns ? budget_insns : std::numeric_limits<std::uint64_t>::max();
  const Region saved_stack = ctx.stack;
  ctx.checked = mode != Mode::Unchecked;
  ctx.budget_insns = budget_insns;
  install_hooks(ctx);
  ctx.begin_run();
  auto result = execute_in(mode, this, slots(mode).data(), &ctx, args, budget);
  for (std::uint32_t run = 1; run < runs && result; ++run) {
    ctx.begin_run();
    result = execute_in(mode, this, slots(mode).data(), &ctx, args, budget);
  }
  ctx.stack = saved_stack;
  remove_hooks(ctx);
  return result;
}

void Interpreter::install_hooks(RunContext& ctx) const {
  ctx.engine_tail_calls = true;
  ctx.invoke_callback = &Interpreter::callback_entry;
  ctx.keep_callback = &Interpreter::keep_callback_entry;
  ctx.engine = this;
}

void Interpreter::remove_hooks(RunContext& ctx) {
  ctx.invoke_callback = nullptr;
  ctx.keep_callback = nullptr;
  ctx.engine = nullptr;
  ctx.engine_tail_calls = false;
}

KeptCallback Interpreter::keep_callback_entry(const void* engine, std::uint64_t fn_value) {
  // `engine` is the program running when the helper was called: fn_value is a slot of its copy.
  return KeptCallback{&Interpreter::run_kept_callback, engine, fn_value};
}

Result<std::uint64_t> Interpreter::run_kept_callback(const void* code, RunContext& ctx, std::uint64_t fn_value,
                                                     std::span<const std::uint64_t, 5> args) {
  // A run of its own, set up as run_in sets one up; the mode and budget are the caller's ctx's.
  const auto* self = static_cast<const Interpreter*>(code);
  self->install_hooks(ctx);
  ctx.begin_run();
  auto result = self->call_function(ctx, fn_value, args);
  remove_hooks(ctx);
  return result;
}

Result<std::uint64_t> Interpreter::callback_entry(const void* engine, RunContext& ctx, std::uint64_t fn_value,
                                                  std::span<const std::uint64_t, 5> args) {
  // `engine` is the program running when the helper was called (kept current across tail calls).
  return static_cast<const Interpreter*>(engine)->call_function(ctx, fn_value, args);
}

Result<std::uint64_t> Interpreter::call_function(RunContext& ctx, std::uint64_t fn_value,
                                                 std::span<const std::uint64_t, 5> args) const {
  const Mode mode = ctx.edge_counters != nullptr ? Mode::Coverage
                    : ctx.checked                ? Mode::Checked
                                                 : Mode::Unchecked;
  if (mode == Mode::Coverage && !has_coverage())
    return make_error(Errc::Unsupported, "callback into a program prepared without coverage");
  const auto& slots = this->slots(mode);
  const auto first = reinterpret_cast<std::uintptr_t>(slots.data());
  const auto end = reinterpret_cast<std::uintptr_t>(slots.data() + slots.size());
  if (fn_value < first || fn_value >= end || (fn_value - first) % sizeof(Slot) != 0)
    return callback_target_error();
  const auto* start = reinterpret_cast<const Slot*>(fn_value);
  const auto budget = ctx.budget_insns ? ctx.budget_insns : std::numeric_limits<std::uint64_t>::max();
  // The callback runs on a fresh stack; the caller's frames stay reachable (callback_ctx usually
  // points into them) for the callback's duration.
  const Region caller_stack = ctx.stack;
  const void* const caller_engine = ctx.engine;  // a tail call inside the callback switches it
  ctx.regions.push_back(caller_stack);
  auto result = execute_in(mode, this, start, &ctx, args, budget);
  ctx.regions.pop_back();
  ctx.stack = caller_stack;
  ctx.engine = caller_engine;
  if (!result) return std::move(result).error();
  return result->r0;
}

}  // namespace bpfvm::vm
