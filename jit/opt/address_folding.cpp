// Address folding: a load, store or atomic whose address is `base + constant` (a 64-bit add or
// subtract of a constant, through any chain of them) addresses `base` with the constant in its
// displacement, so a backend emits one instruction with a displacement instead of computing the
// address; the add, when nothing else reads it, is then dead. Frame accesses end on the FramePtr
// itself, which backends address from their stack pointer.
#include "jit/opt/passes.hpp"

#include <limits>

namespace bpfvm::jit::opt {

namespace {

/// The base and the constant `v` adds to it, when v is a 64-bit add/sub of a constant.
bool split_constant(const Function& fn, ValueId v, ValueId& base, std::int64_t& delta) {
  const Inst& i = fn.values[v];
  if (i.dead || i.op != Op::Alu || i.width != 64) return false;
  const ValueId a = i.args[0], b = i.args[1];
  // 64-bit wrap-around is the same either way: (x + c) + off == x + (c + off) modulo 2^64.
  if (i.kind == isa::Kind::Add && fn.is_const(b) && !fn.is_const(a)) {
    base = a, delta = fn.values[b].imm;
  } else if (i.kind == isa::Kind::Add && fn.is_const(a) && !fn.is_const(b)) {
    base = b, delta = fn.values[a].imm;
  } else if (i.kind == isa::Kind::Sub && fn.is_const(b) && !fn.is_const(a)) {
    base = a, delta = static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(fn.values[b].imm));
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::uint32_t fold_address_offsets(Function& fn) {
  // Displacements stay well inside 32 bits, so a backend may add its own frame offset to one.
  constexpr std::int64_t kMaxDisp = std::numeric_limits<std::int32_t>::max() / 2;
  std::uint32_t folded = 0;
  for (auto& block : fn.blocks)
    for (auto id : block.insts) {
      Inst& i = fn.values[id];
      if (i.dead || (i.op != Op::Load && i.op != Op::Store && i.op != Op::Atomic)) continue;
      ValueId base = 0;
      std::int64_t delta = 0;
      while (split_constant(fn, i.args[0], base, delta)) {
        // Both at most 2^31 in magnitude here, or rejected: no overflow in the sum.
        if (delta > kMaxDisp || delta < -kMaxDisp) break;
        const std::int64_t disp = i.off + delta;
        if (disp > kMaxDisp || disp < -kMaxDisp) break;
        i.args[0] = base;
        i.off = static_cast<std::int32_t>(disp);
        ++folded;
      }
    }
  return folded;
}

}  // namespace bpfvm::jit::opt
