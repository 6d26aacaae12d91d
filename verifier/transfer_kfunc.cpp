// Kfunc calls (`call kfunc`, BPF_PSEUDO_KFUNC_CALL), the kernel's check_kfunc_call / check_kfunc_args for
// the argument kinds bpfvm's kfuncs have (include/bpfvm/kfunc_signature.hpp): the kfunc must be one the
// registry holds and the program type may call, dynptr arguments follow process_dynptr_func, a
// `__opt`/`__szk` pair is NULL or memory of a constant size, and a returned slice is PTR_TO_MEM (read-only
// for bpf_dynptr_slice) of that size, maybe NULL.
#include <algorithm>

#include "verifier/transfer.hpp"
#include "vm/kfunc_call.hpp"

namespace bpfvm::verifier {

using bpfvm::KfuncArg;
using bpfvm::KfuncRet;

namespace {

constexpr std::int64_t kDynptrBytes = 16;  // sizeof(struct bpf_dynptr)
constexpr std::int64_t kIterNumBytes = 8;  // sizeof(struct bpf_iter_num)

// The texts naming a stack object's misplacements (ViolationDetail::note holds static text).
struct StackObjectNotes {
  std::string_view variable, unaligned;
};
constexpr StackObjectNotes kDynptrNotes{"dynptr has to be at a constant offset",
                                        "cannot pass in dynptr at an offset that is not a multiple of 8"};
constexpr StackObjectNotes kIterNotes{"an iterator has to be at a constant offset",
                                      "cannot pass in an iterator at an offset that is not a multiple of 8"};

// A stack object argument (dynptr_get_spi / iter_get_spi): `bytes` stack bytes at a constant, 8-aligned
// offset inside the frame (d gets the offset).
Check check_stack_object_slot(std::uint32_t pc, const RegValue& v, ViolationDetail& d, std::int64_t bytes,
                              const StackObjectNotes& notes) {
  if (!v.value.is_const()) {
    d.note = notes.variable;
    return violation(pc, ViolationKind::HelperArgType, d);
  }
  const auto off = static_cast<std::int64_t>(v.value.const_value());
  d.off_min = d.off_max = off;
  if (off % 8 != 0) {
    d.note = notes.unaligned;
    return violation(pc, ViolationKind::HelperArgType, d);
  }
  if (!StackSlots::in_frame(off, bytes)) {
    d.size = bytes;
    d.limit = StackSlots::kBytes;
    return violation(pc, ViolationKind::OutOfBounds, d);
  }
  return std::nullopt;
}

bool is_null(const RegValue& v) { return v.is_scalar() && v.value.is_const() && v.value.const_value() == 0; }

// process_dynptr_func for a kfunc argument: drain's const dynptr (CONST_PTR_TO_DYNPTR, as the kernel
// made it) or 16 stack bytes at a constant 8-aligned offset, initialised (Dynptr) or becoming one
// (DynptrUninit: bpf_dynptr_clone's copy, which holds the reference of the initialised dynptr before it,
// `held_ref`, as the kernel's clone_ref_obj_id). An initialised stack dynptr's reference goes to
// `held_ref` (0: a local dynptr).
Check check_kfunc_dynptr(State& s, std::uint32_t pc, KfuncArg kind, const RegValue& v, ViolationDetail d,
                         std::uint32_t& held_ref, bool& packet) {
  if (v.type == RegType::Dynptr) {
    if (!v.value.is_const() || v.value.const_value() != 0) {
      d.note = "the const bpf_dynptr must be the pointer the kernel passed";
      return violation(pc, ViolationKind::HelperArgType, d);
    }
    if (kind == KfuncArg::Dynptr) {
      packet = false;  // drain's sample
      return std::nullopt;
    }
    d.note = "Dynptr has to be an uninitialized dynptr";
    return violation(pc, ViolationKind::HelperArgType, d);
  }
  if (v.type != RegType::Stack) {
    d.note = "expected pointer to stack or const struct bpf_dynptr";
    return violation(pc, ViolationKind::HelperArgType, d);
  }
  if (auto c = check_dynptr_slot(pc, v, d)) return c;
  const auto off = static_cast<std::int64_t>(v.value.const_value());
  if (kind == KfuncArg::DynptrUninit || kind == KfuncArg::PacketDynptrUninit) {  // MEM_UNINIT: the kfunc makes the slots a dynptr
    if (std::as_const(s).frames[v.frame].stack.touches_referenced_dynptr(static_cast<int>(off), kDynptrBytes)) {
      d.note = "cannot overwrite referenced dynptr";
      return violation(pc, ViolationKind::HelperArgType, d);
    }
    // A clone keeps the original's kind (packet or not); bpf_dynptr_from_skb/_xdp make a packet one.
    packet = kind == KfuncArg::PacketDynptrUninit || (kind == KfuncArg::DynptrUninit && packet);
    s.frames[v.frame].stack.mark_dynptr(static_cast<int>(off), held_ref, packet);
    return std::nullopt;
  }
  if (std::as_const(s).frames[v.frame].stack.dynptr_at(static_cast<int>(off))) {
    held_ref = std::as_const(s).frames[v.frame].stack.dynptr_ref(static_cast<int>(off));
    packet = std::as_const(s).frames[v.frame].stack.dynptr_packet(static_cast<int>(off));
    return std::nullopt;
  }
  d.note = "Expected an initialized dynptr";
  return violation(pc, ViolationKind::HelperArgType, d);
}

// process_iter_arg for a bpf_iter_num argument: 8 stack bytes at a constant 8-aligned offset, not an
// iterator yet (IterNumNew: is_iter_reg_valid_uninit; they become an active one holding a new
// reference, mark_stack_slots_iter) or an iterator (is_iter_reg_valid_init; IterNumDestroy releases it).
// `iter` gets the iterator's frame and offset.
Check check_kfunc_iter(Env& env, State& s, std::uint32_t pc, KfuncArg kind, const RegValue& v, ViolationDetail d,
                       std::pair<std::uint32_t, int>& iter) {
  if (v.type != RegType::Stack) {
    d.note = "expected pointer to an iterator on stack";
    return violation(pc, ViolationKind::HelperArgType, d);
  }
  if (auto c = check_stack_object_slot(pc, v, d, kIterNumBytes, kIterNotes)) return c;
  const int at = static_cast<int>(static_cast<std::int64_t>(v.value.const_value()));
  iter = {v.frame, at};
  const StackSlots& stack = std::as_const(s).frames[v.frame].stack;
  if (kind == KfuncArg::IterNumNew) {
    if (stack.iter_at(at)) {
      d.note = "expected uninitialized iter_num";
      return violation(pc, ViolationKind::HelperArgType, d);
    }
    if (stack.touches_referenced_dynptr(at, kIterNumBytes)) {
      d.note = "cannot overwrite referenced dynptr";
      return violation(pc, ViolationKind::HelperArgType, d);
    }
    const std::uint32_t ref = env.new_id();
    s.refs.push_back(ref);
    env.note_ref(ref, pc);
    s.frames[v.frame].stack.mark_iter(at, ref);
    return std::nullopt;
  }
  const StackSlots::Iter* it = stack.iter_at(at);
  if (it == nullptr) {
    d.note = "expected an initialized iter_num";
    return violation(pc, ViolationKind::HelperArgType, d);
  }
  if (kind == KfuncArg::IterNumDestroy) {
    std::erase(s.refs, it->ref);
    s.frames[v.frame].stack.unmark_iter(at);
  }
  return std::nullopt;
}

}  // namespace

Check check_dynptr_slot(std::uint32_t pc, const RegValue& v, ViolationDetail& d) {
  return check_stack_object_slot(pc, v, d, kDynptrBytes, kDynptrNotes);
}

Check call_kfunc(Env& env, State& s, std::uint32_t pc, Successors& out) {
  const auto& opts = env.options;
  ViolationDetail d;
  if (opts.helpers == nullptr) {
    d.note = "kfunc calls without a helper registry";
    return violation(pc, ViolationKind::Unsupported, d);
  }
  auto resolved = vm::resolve_kfunc_call(env.program, pc, *opts.helpers);
  if (!resolved) {
    const std::string* name = env.program.kfunc_name(env.program.insns[pc].imm);
    d.kfunc = name ? std::string_view(*name) : std::string_view("unknown");
    d.note = "bpfvm does not implement it";
    return violation(pc, ViolationKind::Unsupported, d);
  }
  const vm::KfuncEntry& k = **resolved;
  d.kfunc = k.call.name;
  // add_subprog_and_kfunc: only privileged loaders may call kernel functions.
  if (opts.unprivileged) {
    d.note = "calling kernel functions are not allowed in unprivileged mode";
    return violation(pc, ViolationKind::KfuncNotAllowed, d);
  }
  // btf_kfunc_id_set_contains: the kfunc's set must be registered for the program type (plain and host
  // types, which are no kernel type, may call every kfunc).
  const bool kernel_type = opts.program_type.helper_ids.has_value();
  if (kernel_type && !k.program_types.empty() &&
      std::find(k.program_types.begin(), k.program_types.end(), opts.program_type.name) == k.program_types.end())
    return violation(pc, ViolationKind::KfuncNotAllowed, d);
  if (s.lock.held) {
    d.note = "function calls are not allowed while holding a lock";
    return violation(pc, ViolationKind::SpinLock, d);
  }
  std::optional<std::uint64_t> const_size;  // the __szk argument (meta->arg_constant)
  std::uint32_t dynptr_ref = 0;              // the dynptr argument's reference (meta->ref_obj_id)
  std::pair<std::uint32_t, int> iter{0, 0};  // the iterator argument's frame and stack offset
  bool iter_next = false;
  bool dynptr_packet = false;                // the dynptr argument names packet bytes (skb/xdp)
  for (int i = 0; i < 5; ++i) {
    const int r = i + 1;
    const KfuncArg kind = k.signature.args[static_cast<std::size_t>(i)];
    if (kind == KfuncArg::None) continue;
    d.reg = d.arg = r;
    if (auto c = check_reg_init(s, r, pc)) return c;
    const RegValue v = s.reg(r);
    switch (kind) {
      case KfuncArg::None: break;
      case KfuncArg::Scalar:
        if (!v.is_scalar()) {
          d.note = "a scalar argument";
          return violation(pc, ViolationKind::HelperArgType, d);
        }
        break;
      case KfuncArg::Dynptr: case KfuncArg::DynptrUninit: case KfuncArg::PacketDynptrUninit:
        if (auto c = check_kfunc_dynptr(s, pc, kind, v, d, dynptr_ref, dynptr_packet)) return c;
        break;
      case KfuncArg::Ctx:
        // KF_ARG_PTR_TO_CTX: the context itself, unmodified (check_ptr_off_reg).
        if (v.type != RegType::Ctx || !v.value.is_const() || v.value.const_value() != 0) {
          d.note = "arg#0 expected pointer to ctx (the program's unmodified context)";
          return violation(pc, ViolationKind::HelperArgType, d);
        }
        break;
      case KfuncArg::IterNumNew: case KfuncArg::IterNumNext: case KfuncArg::IterNumDestroy:
        if (auto c = check_kfunc_iter(env, s, pc, kind, v, d, iter)) return c;
        iter_next = iter_next || kind == KfuncArg::IterNumNext;
        break;
      case KfuncArg::ConstSize:
        // is_kfunc_arg_const_mem_size: "R%d must be a known constant".
        if (!v.is_scalar() || !v.value.is_const()) {
          d.note = "a __szk argument must be a known constant";
          return violation(pc, ViolationKind::HelperArgType, d);
        }
        const_size = v.value.const_value();
        break;
      case KfuncArg::MemOpt: {
        const KfuncArg next = i + 1 < 5 ? k.signature.args[static_cast<std::size_t>(i + 1)] : KfuncArg::None;
        const RegValue size = r + 1 <= 5 ? s.reg(r + 1) : RegValue::not_init();
        if (next != KfuncArg::ConstSize) {
          d.note = "a __opt memory argument without its __szk size";
          return violation(pc, ViolationKind::Unsupported, d);
        }
        if (is_null(v)) break;  // is_kfunc_arg_optional and NULL: no memory to check
        if (!size.is_scalar() || !size.value.is_const()) break;  // the size's own check refuses it
        const auto bytes = static_cast<std::int64_t>(size.value.const_value());
        if (auto c = check_helper_mem(opts, s, pc, r, bytes, bytes, false, 0, r, env.reads_uninit_stack)) {
          c->detail.kfunc = d.kfunc;
          return c;
        }
        break;
      }
    }
  }
  d.reg = d.arg = -1;
  clobber_caller_saved_regs(s);
  RegValue r0 = RegValue::unknown();
  switch (k.signature.ret) {
    case KfuncRet::Integer: break;
    case KfuncRet::Void: r0 = RegValue::not_init(); break;
    case KfuncRet::MemOrNull: case KfuncRet::RdonlyMemOrNull: {
      if (!const_size) {
        d.note = "a memory return without a __szk size argument";
        return violation(pc, ViolationKind::Unsupported, d);
      }
      // bpf_dynptr_slice_rdwr: may_access_direct_pkt_data(BPF_WRITE), whatever the dynptr's kind.
      if (k.signature.ret == KfuncRet::MemOrNull && kernel_type && !opts.program_type.packet_writable) {
        d.note = "the prog does not allow writes to packet data";
        return violation(pc, ViolationKind::KfuncNotAllowed, d);
      }
      constexpr std::uint64_t kMaxMemBytes = 1u << 29;
      r0 = RegValue::pointer(RegType::Mem, static_cast<std::uint32_t>(std::min(*const_size, kMaxMemBytes)));
      r0.read_only = k.signature.ret == KfuncRet::RdonlyMemOrNull;
      r0.maybe_null = true;
      r0.id = env.new_id();
      r0.ref = dynptr_ref;  // a ring buffer dynptr's slice dies with its release
      r0.packet_slice = dynptr_packet;  // an skb/xdp dynptr's slice dies when the packet data moves
      break;
    }
    case KfuncRet::RdonlyIntOrNull:
      if (!iter_next) {
        d.note = "an int * return without an iterator to step";
        return violation(pc, ViolationKind::Unsupported, d);
      }
      // process_iter_next_call: an active iterator forks. The queued path gets the next element (a
      // non-null pointer to 4 read-only bytes, an unknown number) and goes round the loop once more
      // (depth + 1); this path sees the iterator drained (NULL) and leaves the loop. A drained
      // iterator only returns NULL.
      if (std::as_const(s).frames[iter.first].stack.iter_at(iter.second)->state == StackSlots::IterState::Active) {
        Fork more{s, pc + 1};
        more.state.frames[iter.first].stack.iter_at(iter.second)->depth += 1;
        more.state.reg(0) = RegValue::pointer(RegType::Mem, 4);
        more.state.reg(0).read_only = true;
        out.forks.push_back(std::move(more));
        s.frames[iter.first].stack.iter_at(iter.second)->state = StackSlots::IterState::Drained;
      }
      r0 = RegValue::scalar(ScalarDomain::constant(0));
      break;
  }
  s.reg(0) = r0;
  out.next_pc = pc + 1;
  return std::nullopt;
}

}  // namespace bpfvm::verifier
