// Checked builds of the optimizing tier: which memory accesses still need the run-time check.
// Only what the IR itself proves is trusted (a checked run exists to catch what the verifier got
// wrong): an access at a constant offset from a live frame's r10 stays inside that frame.
#include <cstdint>

#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

namespace {

constexpr std::int64_t kFrameBytes = isa::kStackBytes;

/// The FramePtr an address is a constant away from (through 64-bit add/sub of constants), and that
/// constant plus `off`; or kNoValue.
ValueId frame_base(const Function& fn, ValueId v, std::int64_t& off) {
  for (int steps = 0; steps < 64; ++steps) {
    const Inst& i = fn.values[v];
    if (i.op == Op::FramePtr) return v;
    if (i.op != Op::Alu || i.width != 64 || (i.kind != isa::Kind::Add && i.kind != isa::Kind::Sub)) return kNoValue;
    const bool const_right = fn.is_const(i.args[1]);
    if (!const_right && !(i.kind == isa::Kind::Add && fn.is_const(i.args[0]))) return kNoValue;
    const std::int64_t c = fn.values[const_right ? i.args[1] : i.args[0]].imm;
    if (c < -(std::int64_t{1} << 31) || c > (std::int64_t{1} << 31)) return kNoValue;  // no wrap below
    off += i.kind == isa::Kind::Add ? c : -c;
    v = const_right ? i.args[0] : i.args[1];
  }
  return kNoValue;
}

}  // namespace

std::uint32_t drop_proven_checks(Function& fn) {
  std::uint32_t dropped = 0;
  for (auto& i : fn.values) {
    if (i.dead || !i.checked || index_of(i) != kNoValue) continue;
    std::int64_t off = i.off;
    const ValueId base = frame_base(fn, i.args[0], off);
    if (base == kNoValue) continue;
    // Frames deeper than the access's own are not live there (a callee's frame after its return).
    if (fn.values[base].imm > i.depth) continue;
    if (off < -kFrameBytes || off + i.bits > 0) continue;
    i.checked = false;
    ++dropped;
  }
  return dropped;
}

}  // namespace bpfvm::jit::opt
