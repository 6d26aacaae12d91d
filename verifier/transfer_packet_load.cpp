// Transfer function of the legacy packet loads (LD_ABS/LD_IND), after the kernel's check_ld_abs:
// skb program types only, r6 must be the unmodified context, r1-r5 become unreadable and r0 an
// unknown scalar of the load's width. Outside the packet the instruction returns 0 from the current
// function (bpf_gen_ld_abs's hidden `r0 = 0; exit`), a path explored here like an exit.
#include "verifier/transfer.hpp"

namespace bpfvm::verifier {

Check transfer_packet_load(Env& env, State& s, std::uint32_t pc, Successors& out) {
  const auto& op = env.program.op(pc);
  const auto& in = env.program.insns[pc];
  ViolationDetail d;
  d.reg = isa::kPacketLoadCtxReg;
  if (!env.options.program_type.legacy_packet_loads) {
    d.note = "instructions not allowed for this program type (only socket filter and tc programs have an skb)";
    return violation(pc, ViolationKind::PacketLoadNotAllowed, d);
  }
  if (auto c = check_reg_init(s, isa::kPacketLoadCtxReg, pc)) return c;
  // It may end the program, which would leak a held ring buffer reservation (check_resource_leak).
  if (!s.refs.empty()) {
    d.note = "cannot be mixed with ring buffer reservations: it may end the program while one is held";
    return violation(pc, ViolationKind::PacketLoadNotAllowed, d);
  }
  if (s.lock.held) {
    d.note = "cannot be used inside bpf_spin_lock-ed region";
    return violation(pc, ViolationKind::PacketLoadNotAllowed, d);
  }
  const RegValue& ctx = s.reg(isa::kPacketLoadCtxReg);
  if (ctx.type != RegType::Ctx || !ctx.value.is_const() || ctx.value.const_value() != 0) {
    d.note = "at the time of BPF_LD_ABS|IND R6 != pointer to skb";
    return violation(pc, ViolationKind::PacketLoadNotAllowed, d);
  }
  if (op.kind == isa::Kind::LdInd)
    if (auto c = check_reg_init(s, in.src, pc)) return c;

  for (int r = 1; r <= 5; ++r) s.reg(r) = RegValue::not_init();
  s.reg(0) = RegValue::scalar(ScalarDomain::unsigned_range(0, (std::uint64_t{1} << op.width) - 1));

  if (s.frames.size() > 1) {
    // The hidden exit returns 0 to the caller; the main function's simply ends the program.
    State hidden = s;
    hidden.reg(0) = RegValue::scalar(ScalarDomain::constant(0));
    Successors after;
    if (auto c = transfer_exit(env, hidden, pc, after)) return c;
    out.forks.push_back(Fork{std::move(hidden), after.next_pc});
    for (auto& f : after.forks) out.forks.push_back(std::move(f));
  }
  return std::nullopt;
}

}  // namespace bpfvm::verifier
