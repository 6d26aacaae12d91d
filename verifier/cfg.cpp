// Static control-flow analysis: the kernel's check_cfg plus a register liveness pass for pruning.
#include "verifier/cfg.hpp"

#include <algorithm>

namespace bpfvm::verifier {

using isa::Form;
using isa::Kind;
using isa::Operand;

namespace {

using reg_mask::bit;
using reg_mask::kArgs;
using reg_mask::kCallerSaved;

struct UseDef {
  RegMask use = 0, def = 0;
};

UseDef use_def(const vm::Program& p, std::uint32_t pc) {
  const auto& op = p.op(pc);
  const auto& in = p.insns[pc];
  UseDef u;
  switch (op.form) {
    case Form::Alu:
      if (op.operand == Operand::Reg) u.use |= bit(in.src);
      if (op.kind != Kind::Mov && op.kind != Kind::MovSx) u.use |= bit(in.dst);
      u.def = bit(in.dst);
      break;
    case Form::AluUnary: u.use = bit(in.dst); u.def = bit(in.dst); break;
    case Form::Load: case Form::LoadSx: u.use = bit(in.src); u.def = bit(in.dst); break;
    case Form::Store: u.use = bit(in.dst); break;
    case Form::StoreReg: u.use = bit(in.dst) | bit(in.src); break;
    case Form::Atomic:
      u.use = bit(in.dst) | bit(in.src);
      if (op.kind == Kind::CmpXchg) { u.use |= bit(0); u.def = bit(0); }
      else if (in.imm & isa::enc::kFetch) u.def = bit(in.src);
      break;
    case Form::WideImm: u.def = bit(in.dst); break;
    case Form::Jump:
      u.use = bit(in.dst);
      if (op.operand == Operand::Reg) u.use |= bit(in.src);
      break;
    case Form::Ja: case Form::Ja32: break;
    case Form::Call: case Form::CallKfunc: case Form::CallLocal: u.use = kArgs; u.def = kCallerSaved; break;
    case Form::CallReg: u.use = kArgs | bit(in.dst); u.def = kCallerSaved; break;
    case Form::Exit: u.use = bit(0); break;
    case Form::PacketLoad:  // reads the skb in r6 (and src for LD_IND); clobbers r0-r5 like a call
      u.use = bit(isa::kPacketLoadCtxReg);
      if (op.kind == Kind::LdInd) u.use |= bit(in.src);
      u.def = kCallerSaved;
      break;
  }
  u.use |= bit(isa::kFramePointer);
  return u;
}

}  // namespace

std::uint32_t Cfg::subprog_of(std::uint32_t pc) const {
  auto it = std::upper_bound(subprog_starts.begin(), subprog_starts.end(), pc);
  return *(it - 1);
}

Check build_cfg(const vm::Program& p, bool allow_loops, Cfg& cfg) {
  const auto n = static_cast<std::uint32_t>(p.size());
  cfg.subprog_starts = {0};
  cfg.prune_point.assign(n, 0);
  cfg.loop_head.assign(n, 0);
  cfg.live_in.assign(n, 0);
  cfg.successors.assign(n, {});
  for (std::uint32_t pc = 0; pc < n; ++pc) {
    if (p.ops[pc] == isa::kNoOp) continue;
    const auto& op = p.op(pc);
    if (op.form == Form::CallLocal)
      cfg.subprog_starts.push_back(static_cast<std::uint32_t>(vm::branch_target(p.insns[pc], op, pc)));
    if (op.form == Form::WideImm && static_cast<isa::LddwSrc>(p.insns[pc].src) == isa::LddwSrc::Func)
      cfg.subprog_starts.push_back(static_cast<std::uint32_t>(pc + 1 + p.insns[pc].imm));
  }
  std::sort(cfg.subprog_starts.begin(), cfg.subprog_starts.end());
  cfg.subprog_starts.erase(std::unique(cfg.subprog_starts.begin(), cfg.subprog_starts.end()), cfg.subprog_starts.end());

  // Successors, and the rule that control stays inside its subprogram.
  for (std::uint32_t pc = 0; pc < n; ++pc) {
    if (p.ops[pc] == isa::kNoOp) continue;
    const auto& op = p.op(pc);
    const std::uint32_t fn = cfg.subprog_of(pc);
    const std::uint32_t next = pc + (isa::is_wide(op) ? 2 : 1);
    auto add = [&](std::uint32_t to) -> Check {
      if (to >= n || cfg.subprog_of(to) != fn) {
        ViolationDetail d;
        d.other_pc = to;
        return violation(pc, to >= n || op.form == Form::Jump || op.form == Form::Ja || op.form == Form::Ja32
                                 ? ViolationKind::JumpOutOfFunction
                                 : ViolationKind::FallThroughFunction, d);
      }
      cfg.successors[pc].push_back(to);
      return std::nullopt;
    };
    switch (op.form) {
      case Form::Jump: {
        const auto t = static_cast<std::uint32_t>(vm::branch_target(p.insns[pc], op, pc));
        if (auto c = add(next)) return c;
        if (auto c = add(t)) return c;
        cfg.prune_point[t] = 1;
        if (next < n) cfg.prune_point[next] = 1;
        break;
      }
      case Form::Ja: case Form::Ja32: {
        const auto t = static_cast<std::uint32_t>(vm::branch_target(p.insns[pc], op, pc));
        if (auto c = add(t)) return c;
        cfg.prune_point[t] = 1;
        break;
      }
      case Form::Exit: break;
      case Form::Call: case Form::CallKfunc: case Form::CallLocal: case Form::CallReg: case Form::PacketLoad:
        if (auto c = add(next)) return c;
        cfg.prune_point[next] = 1;
        break;
      case Form::Alu: case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::Store:
      case Form::StoreReg: case Form::Atomic: case Form::WideImm:
        if (auto c = add(next)) return c;
        break;
    }
  }
  for (auto s : cfg.subprog_starts) cfg.prune_point[s] = 1;

  // Depth-first walk from every function entry: reachability and back-edges.
  std::vector<std::uint8_t> color(n, 0);  // 0 new, 1 on the DFS stack, 2 done
  for (auto start : cfg.subprog_starts) {
    if (color[start]) continue;
    std::vector<std::pair<std::uint32_t, std::size_t>> stack{{start, 0}};
    color[start] = 1;
    while (!stack.empty()) {
      auto& [pc, i] = stack.back();
      if (i < cfg.successors[pc].size()) {
        const auto to = cfg.successors[pc][i++];
        if (color[to] == 1) {
          if (!allow_loops) {
            ViolationDetail d;
            d.other_pc = to;
            return violation(pc, ViolationKind::BackEdge, d);
          }
          cfg.loop_head[to] = 1;
        }
        if (color[to] == 0) {
          color[to] = 1;
          stack.emplace_back(to, 0);
        }
      } else {
        color[pc] = 2;
        stack.pop_back();
      }
    }
  }
  for (std::uint32_t pc = 0; pc < n; ++pc)
    if (p.ops[pc] != isa::kNoOp && color[pc] == 0) return violation(pc, ViolationKind::Unreachable);

  // Liveness: backward fixpoint over the intra-procedural graph.
  std::vector<UseDef> ud(n);
  for (std::uint32_t pc = 0; pc < n; ++pc)
    if (p.ops[pc] != isa::kNoOp) ud[pc] = use_def(p, pc);
  for (bool changed = true; changed;) {
    changed = false;
    for (std::uint32_t k = n; k-- > 0;) {
      if (p.ops[k] == isa::kNoOp) continue;
      RegMask out = 0;
      for (auto s : cfg.successors[k]) out |= cfg.live_in[s];
      const RegMask in = static_cast<RegMask>(ud[k].use | (out & ~ud[k].def));
      if (in != cfg.live_in[k]) {
        cfg.live_in[k] = in;
        changed = true;
      }
    }
  }
  return std::nullopt;
}

}  // namespace bpfvm::verifier
