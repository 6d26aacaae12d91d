// Memory transfer functions: loads, stores, atomics and lddw (including map pseudo loads).
#include "verifier/btf_pointer.hpp"
#include "verifier/transfer.hpp"

namespace bpfvm::verifier {

using isa::Form;
using isa::Kind;
using isa::LddwSrc;

namespace {

constexpr std::uint32_t kMapTypeArray = 2;  // BPF_MAP_TYPE_ARRAY: direct value access allowed

// The kernel's check_map_prog_compatibility, for the rules bpfvm models: some program types may not
// use maps whose values hold a bpf_spin_lock or a bpf_timer at all.
Check check_map_for_program_type(const Env& env, std::uint32_t pc, const MapInfo& map, ViolationDetail d) {
  const auto& type = env.options.program_type;
  if (map.spin_lock_off >= 0 && !type.spin_locks_refused.empty()) {
    d.note = type.spin_locks_refused;
    return violation(pc, ViolationKind::SpinLock, d);
  }
  if (map.timer_off >= 0 && !type.timers_refused.empty()) {
    d.note = type.timers_refused;
    return violation(pc, ViolationKind::Timer, d);
  }
  return std::nullopt;
}

Check transfer_lddw(Env& env, State& s, std::uint32_t pc) {
  const auto& in = env.program.insns[pc];
  const int dst = in.dst;
  ViolationDetail d;
  d.reg = dst;
  const auto src = static_cast<LddwSrc>(in.src);
  switch (src) {
    case LddwSrc::Imm64:
      s.reg(dst) = RegValue::scalar(ScalarDomain::constant(env.program.wide_imm(pc)));
      return std::nullopt;
    case LddwSrc::MapFd:
    case LddwSrc::MapIdx: {
      const auto index = static_cast<std::uint32_t>(in.imm);
      d.limit = index;
      const auto map = map_info_of(env.options, index);
      if (!map) return violation(pc, ViolationKind::UnknownMap, d);
      if (auto c = check_map_for_program_type(env, pc, *map, d)) return c;
      s.reg(dst) = RegValue::pointer(RegType::MapPtr, index);
      return std::nullopt;
    }
    case LddwSrc::MapValue:
    case LddwSrc::MapIdxValue: {
      const auto index = static_cast<std::uint32_t>(in.imm);
      const auto off = static_cast<std::uint32_t>(env.program.insns[pc + 1].imm);
      const auto map = map_info_of(env.options, index);
      d.limit = index;
      if (!map) return violation(pc, ViolationKind::UnknownMap, d);
      if (auto c = check_map_for_program_type(env, pc, *map, d)) return c;
      if (map->type != kMapTypeArray) {
        d.note = "direct value access (lddw map value) to a map that is not BPF_MAP_TYPE_ARRAY";
        return violation(pc, ViolationKind::Unsupported, d);
      }
      if (map->max_entries != 1) {
        // array_map_direct_value_addr: only single-element arrays (global data) have a direct value.
        d.note = "direct value access (lddw map value) needs an array with max_entries 1";
        return violation(pc, ViolationKind::InvalidMemAccess, d);
      }
      d.off_min = d.off_max = off;
      d.limit = map->value_size;
      if (off >= map->value_size) return violation(pc, ViolationKind::OutOfBounds, d);
      s.reg(dst) = RegValue::pointer(RegType::MapValue, index, off);
      return std::nullopt;
    }
    case LddwSrc::Func:
      s.reg(dst) = RegValue::pointer(RegType::FuncPtr, static_cast<std::uint32_t>(pc + 1 + in.imm));
      return std::nullopt;
    case LddwSrc::BtfId: {
      // check_pseudo_btf_id: a kernel variable (a typed __ksym) of vmlinux's BTF (insn[1].imm 0; a
      // module's BTF is not asked for).
      const KernelTypes* kernel = env.options.kernel_types;
      const auto var = kernel && env.program.insns[pc + 1].imm == 0 ? kernel->variable(static_cast<std::uint32_t>(in.imm))
                                                                    : std::nullopt;
      if (!var) {
        d.note = kernel ? "lddw BPF_PSEUDO_BTF_ID naming no variable of the kernel's BTF"
                        : "lddw of a kernel variable (BPF_PSEUDO_BTF_ID) without the kernel's BTF";
        return violation(pc, ViolationKind::Unsupported, d);
      }
      s.reg(dst) = kernel_variable_pointer(*var);
      return std::nullopt;
    }
  }
  d.note = "unknown lddw pseudo source";
  return violation(pc, ViolationKind::Unsupported, d);
}

Check transfer_atomic(Env& env, State& s, std::uint32_t pc) {
  const auto& op = env.program.op(pc);
  const auto& in = env.program.insns[pc];
  const int size = op.width / 8;
  ViolationDetail d;
  d.reg = in.dst;
  d.reg2 = in.src;
  if (auto c = check_reg_init(s, in.src, pc)) return c;
  if (auto c = check_reg_init(s, in.dst, pc)) return c;
  const RegValue& ptr = s.reg(in.dst);
  if (ptr.type == RegType::Ctx || ptr.type == RegType::Packet || ptr.type == RegType::PacketMeta)
    return violation(pc, ViolationKind::AtomicNotAllowed, d);
  if (s.reg(in.src).is_pointer()) {
    if (env.options.unprivileged) return violation(pc, ViolationKind::PointerLeak, d);
    d.note = "atomic operation with a pointer operand";
    return violation(pc, ViolationKind::Unsupported, d);
  }
  if (op.kind == Kind::CmpXchg) {
    if (auto c = check_reg_init(s, 0, pc)) return c;
    if (s.reg(0).is_pointer()) {
      d.reg2 = 0;
      if (env.options.unprivileged) return violation(pc, ViolationKind::PointerLeak, d);
      d.note = "cmpxchg with a pointer in r0";
      return violation(pc, ViolationKind::Unsupported, d);
    }
  }
  // Atomics are always checked for strict alignment (the kernel's check_atomic): every possible
  // offset must be a multiple of the width. Stack frames and map values start 8-byte aligned.
  const ScalarDomain addr = ptr.value.add(ScalarDomain::constant(static_cast<std::uint64_t>(std::int64_t{in.off})));
  const std::uint64_t low = static_cast<std::uint64_t>(size) - 1;
  if ((addr.bits().mask() & low) != 0 || (addr.bits().value() & low) != 0) {
    // Wrapping adds: an unbounded offset is still reported, without signed overflow.
    d.off_min = static_cast<std::int64_t>(static_cast<std::uint64_t>(ptr.value.smin()) + static_cast<std::uint64_t>(std::int64_t{in.off}));
    d.off_max = static_cast<std::int64_t>(static_cast<std::uint64_t>(ptr.value.smax()) + static_cast<std::uint64_t>(std::int64_t{in.off}));
    d.size = size;
    return violation(pc, ViolationKind::MisalignedAtomic, d);
  }
  // Read-modify-write: the location must be readable (and initialised) and writable.
  RegValue old;
  if (auto c = check_mem_access(env.options, s, pc, in.dst, in.off, size, false, nullptr, &old, env.reads_uninit_stack)) return c;
  // A whole spilled pointer (the kernel's check_atomic_rmw reads the slot with no register, which only
  // the privileged may do with a pointer: "leaking pointer from stack"); the write below leaves plain
  // bytes, and a fetch gets the old content, the pointer, as the kernel's register fill does.
  if (old.is_pointer() && env.options.unprivileged) {
    d.note = "atomic operation on a spilled pointer";
    return violation(pc, ViolationKind::PointerLeak, d);
  }
  if (auto c = check_mem_access(env.options, s, pc, in.dst, in.off, size, true, nullptr, nullptr, env.reads_uninit_stack)) return c;
  const RegValue fetched = old.is_pointer() ? old
                         : RegValue::scalar(size == 8 ? ScalarDomain::top() : ScalarDomain::unsigned_range(0, 0xffffffffu));
  if (op.kind == Kind::CmpXchg)
    s.reg(0) = fetched;
  else if (in.imm & isa::enc::kFetch)
    s.reg(in.src) = fetched;
  return std::nullopt;
}

}  // namespace

// The kernel's "same insn cannot be used with different pointers" for the context: the ctx-access
// rewrite (helpers/ctx_rewrite.cpp) changes an insn whose base is the context, so on every path it
// must be the context or on none.
Check note_access_base(Env& env, const State& s, std::uint32_t pc, int base) {
  const RegValue& v = s.reg(base);
  if (!v.is_pointer()) return std::nullopt;  // refused by the access check with its own reason
  const std::uint8_t kind = v.type == RegType::Ctx ? kAccessCtx : kAccessOther;
  if (env.access_base.size() != env.program.size()) env.access_base.assign(env.program.size(), kAccessUnseen);
  auto& seen = env.access_base[pc];
  if (seen != kAccessUnseen && seen != kAccessCtx && kind == kAccessCtx) seen = kAccessCtx | kAccessOther;
  if (seen == kAccessCtx && kind == kAccessOther) seen = kAccessCtx | kAccessOther;
  if (seen == kAccessUnseen) seen = kind;
  if (seen == (kAccessCtx | kAccessOther)) {
    ViolationDetail d;
    d.reg = base;
    return violation(pc, ViolationKind::MixedPointerBase, d);
  }
  return std::nullopt;
}

// The stack bytes each insn may touch (VerifiedProgram::stack_ranges): the optimizing tier keeps a
// stack slot in a register only where no other access may reach it. A call given a stack pointer is
// Unknown: a helper may keep it (a dynptr over stack memory) and a callback may index from it.
void note_stack_range(Env& env, const State& s, std::uint32_t pc) {
  const auto& op = env.program.op(pc);
  const auto& in = env.program.insns[pc];
  vm::StackRange r;
  switch (op.form) {
    case Form::Load: case Form::LoadSx: case Form::Store: case Form::StoreReg: case Form::Atomic: {
      const RegValue& base = s.reg(op.form == Form::Load || op.form == Form::LoadSx ? in.src : in.dst);
      if (base.type != RegType::Stack) return;
      const auto top = static_cast<std::int64_t>(s.frames.size()) - 1;
      const std::int64_t lo = base.value.smin() + in.off, hi = base.value.smax() + in.off + op.width / 8;
      // Out of any frame: refused by the access check, which runs next.
      if (base.frame > top || lo < INT16_MIN || hi > INT16_MAX) r = vm::StackRange::unknown();
      else r = vm::StackRange::bytes(static_cast<std::uint8_t>(top - base.frame), static_cast<std::int16_t>(lo),
                                     static_cast<std::int16_t>(hi));
      break;
    }
    case Form::Call: case Form::CallKfunc: case Form::CallReg:
      for (int a = 1; a <= 5; ++a)
        if (s.reg(a).type == RegType::Stack) r = vm::StackRange::unknown();
      if (r.kind == vm::StackRange::Kind::None) return;
      break;
    case Form::Alu: case Form::AluUnary: case Form::Jump: case Form::Ja: case Form::Ja32: case Form::CallLocal:
    case Form::Exit: case Form::PacketLoad: case Form::WideImm:
      return;  // a local call's callee records its own accesses
  }
  if (env.stack_ranges.size() != env.program.size()) env.stack_ranges.assign(env.program.size(), vm::StackRange{});
  env.stack_ranges[pc].join(r);
}

// The kernel's max_tp_access: the furthest byte of a writable tracepoint's buffer the program reaches.
// An access at a variable or negative offset is refused by check_mem_access.
// Also the kernel's max_ctx_offset: the furthest context byte (a syscall program's run checks it).
void note_furthest_access(Env& env, const RegValue& base, std::int16_t off, int size) {
  if ((base.type != RegType::TpBuffer && base.type != RegType::Ctx) || !base.value.is_const()) return;
  const std::int64_t end = static_cast<std::int64_t>(base.value.const_value()) + off + size;
  if (end <= 0 || end > UINT32_MAX) return;  // refused by check_mem_access
  auto& furthest = base.type == RegType::Ctx ? env.ctx_bytes_reached : env.tp_buffer_bytes;
  furthest = std::max(furthest, static_cast<std::uint32_t>(end));
}

// The kernel's check_stack_write_fixed_off (assign_scalar_id_before_mov, privileged only): an unknown
// scalar stored at a slot's start whose value fits the store gets an id first, so the slot and the
// register are linked copies and a bound learned on a fill of the slot bounds the register too.
void link_before_spill(Env& env, State& s, const vm::Insn& in, int bytes) {
  if (env.options.unprivileged) return;
  const RegValue& base = s.reg(in.dst);
  const RegValue& v = s.reg(in.src);
  if (base.type != RegType::Stack || !base.value.is_const() || !v.is_scalar() || v.id != 0 || v.value.is_const()) return;
  const auto off = static_cast<std::int64_t>(base.value.const_value()) + in.off;
  if (off % 8 != 0 || (bytes < 8 && v.value.umax() > (std::uint64_t{1} << (8 * bytes)) - 1)) return;
  s.reg(in.src).id = env.new_id();
}

Check transfer_memory(Env& env, State& s, std::uint32_t pc) {
  const auto& op = env.program.op(pc);
  const auto& in = env.program.insns[pc];
  const int size = op.width / 8;
  if (op.form == Form::Load || op.form == Form::LoadSx) {
    if (auto c = check_reg_init(s, in.src, pc)) return c;
    if (auto c = note_access_base(env, s, pc, in.src)) return c;
    note_furthest_access(env, s.reg(in.src), in.off, size);
  } else if (op.form == Form::Store || op.form == Form::StoreReg || op.form == Form::Atomic) {
    if (auto c = check_reg_init(s, in.dst, pc)) return c;
    if (auto c = note_access_base(env, s, pc, in.dst)) return c;
    note_furthest_access(env, s.reg(in.dst), in.off, size);
  }
  switch (op.form) {
    case Form::Load:
    case Form::LoadSx: {
      ViolationDetail d;
      d.reg = in.dst;
      if (in.dst == isa::kFramePointer) return violation(pc, ViolationKind::FramePointerWrite, d);
      RegValue loaded;
      if (auto c = check_mem_access(env.options, s, pc, in.src, in.off, size, false, nullptr, &loaded, env.reads_uninit_stack)) return c;
      if (op.form == Form::LoadSx) {
        // A sign-extending load yields a number even from a pointer field of the context.
        if (!loaded.is_scalar()) loaded = RegValue::unknown();
        loaded = RegValue::scalar(loaded.value.sign_extend(op.width));
      }
      {
        // A load through a map pointer becomes `mov32 dst, value`: every path must read the same
        // constant there, and none may load through another pointer (kMapLoadOther).
        if (env.map_ptr_loads.empty()) env.map_ptr_loads.assign(env.program.size(), kMapLoadUnseen);
        auto& at = env.map_ptr_loads[pc];
        const bool map = s.reg(in.src).type == RegType::MapPtr;
        const auto value = map ? static_cast<std::int64_t>(loaded.value.const_value()) : kMapLoadOther;
        if ((at != kMapLoadUnseen && at != value) || value > 0xffffffff) {
          ViolationDetail d;
          d.reg = in.src;
          d.note = "a load through a map pointer that another path reaches with another map or pointer, or that "
                   "sign-extends to more than 32 bits";
          return violation(pc, ViolationKind::Unsupported, d);
        }
        at = value;
      }
      // Each load of a maybe-null context field (__sk_buff.sk) is its own pointer: one null check
      // proves nothing about another load's value.
      if (loaded.maybe_null && loaded.id == 0) loaded.id = env.new_id();
      s.reg(in.dst) = loaded;
      return std::nullopt;
    }
    case Form::Store: {
      const RegValue v =
          RegValue::scalar(ScalarDomain::constant(static_cast<std::uint64_t>(static_cast<std::int64_t>(in.imm))));
      return check_mem_access(env.options, s, pc, in.dst, in.off, size, true, &v, nullptr, env.reads_uninit_stack);
    }
    case Form::StoreReg: {
      if (auto c = check_reg_init(s, in.src, pc)) return c;
      link_before_spill(env, s, in, size);
      const RegValue v = s.reg(in.src);
      return check_mem_access(env.options, s, pc, in.dst, in.off, size, true, &v, nullptr, env.reads_uninit_stack);
    }
    case Form::Atomic:
      return transfer_atomic(env, s, pc);
    case Form::WideImm: {
      if (in.dst == isa::kFramePointer) {
        ViolationDetail d;
        d.reg = in.dst;
        return violation(pc, ViolationKind::FramePointerWrite, d);
      }
      return transfer_lddw(env, s, pc);
    }
    case Form::Alu: case Form::AluUnary: case Form::Jump: case Form::Ja: case Form::Ja32: case Form::Call: case Form::CallKfunc:
    case Form::CallLocal: case Form::CallReg: case Form::Exit: case Form::PacketLoad:
      break;
  }
  return violation(pc, ViolationKind::Unsupported);
}

}  // namespace bpfvm::verifier
