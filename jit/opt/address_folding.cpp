// Address folding: a load, store or atomic whose address is `base + constant` (a 64-bit add or
// subtract of a constant, through any chain of them) addresses `base` with the constant in its
// displacement, and a load or store whose address is `base + index` or `base + (index << 1..3)` (a
// 64-bit add of two values) becomes indexed (Op::Load), so a backend emits one instruction with a
// memory operand instead of computing the address; the adds, when nothing else reads them, are then
// dead. Frame accesses end on the FramePtr itself, which backends address from their stack pointer.
#include "jit/opt/passes.hpp"
#include "jit/opt/memory_alias.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace bpfvm::jit::opt {

namespace {

const Inst* live_alu64(const Function& fn, ValueId v, isa::Kind kind) {
  const Inst& i = fn.values[v];
  return !i.dead && i.op == Op::Alu && i.width == 64 && i.kind == kind ? &i : nullptr;
}

/// Moves the constants added to `v` into `disp` (multiplied by 2^scale: shifting left distributes
/// over addition modulo 2^64) while the displacement stays within kMaxFoldedDisp; returns the value left.
ValueId fold_constants_into(const Function& fn, ValueId v, unsigned scale, std::int64_t& disp) {
  ValueId base = 0;
  std::int64_t delta = 0;
  while (split_constant(fn, v, base, delta)) {
    if (delta > kMaxFoldedDisp || delta < -kMaxFoldedDisp) break;
    const std::int64_t sum = disp + delta * (std::int64_t{1} << scale);
    if (sum > kMaxFoldedDisp || sum < -kMaxFoldedDisp) break;
    v = base;
    disp = sum;
  }
  return v;
}

/// `z << s` with a constant s in 1..3 (a scale of an x86 index, an AArch64 register offset).
bool split_scaled(const Function& fn, ValueId v, ValueId& z, unsigned& s) {
  const Inst* shl = live_alu64(fn, v, isa::Kind::Lsh);
  if (!shl || !fn.is_const(shl->args[1]) || fn.is_const(shl->args[0])) return false;
  const auto count = static_cast<std::uint64_t>(fn.values[shl->args[1]].imm);
  if (count < 1 || count > 3) return false;
  z = shl->args[0], s = static_cast<unsigned>(count);
  return true;
}

}  // namespace

bool split_constant(const Function& fn, ValueId v, ValueId& base, std::int64_t& delta) {
  // 64-bit wrap-around is the same either way: (x + c) + off == x + (c + off) modulo 2^64.
  if (const Inst* add = live_alu64(fn, v, isa::Kind::Add)) {
    const ValueId a = add->args[0], b = add->args[1];
    if (fn.is_const(a) == fn.is_const(b)) return false;
    base = fn.is_const(b) ? a : b;
    delta = fn.values[fn.is_const(b) ? b : a].imm;
    return true;
  }
  if (const Inst* sub = live_alu64(fn, v, isa::Kind::Sub)) {
    if (!fn.is_const(sub->args[1]) || fn.is_const(sub->args[0])) return false;
    base = sub->args[0];
    delta = static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(fn.values[sub->args[1]].imm));
    return true;
  }
  return false;
}

std::uint32_t fold_address_offsets(Function& fn) {
  std::uint32_t folded = 0;
  for (auto& block : fn.blocks)
    for (auto id : block.insts) {
      Inst& i = fn.values[id];
      if (i.dead || (i.op != Op::Load && i.op != Op::Store && i.op != Op::Atomic)) continue;
      std::int64_t disp = i.off;
      ValueId base = fold_constants_into(fn, i.args[0], 0, disp);
      // base + index: loads and stores only (atomics keep one address register).
      const Inst* add = live_alu64(fn, base, isa::Kind::Add);
      if (add && i.op != Op::Atomic && index_of(i) == kNoValue && !fn.is_const(add->args[0]) &&
          !fn.is_const(add->args[1])) {
        ValueId x = add->args[0], y = add->args[1], z = 0;
        unsigned scale = 0;
        if (split_scaled(fn, x, z, scale)) x = y, y = z;      // the shifted operand is the index
        else if (split_scaled(fn, y, z, scale)) y = z;
        else if (fn.values[y].op == Op::FramePtr) std::swap(x, y);  // a frame is the base
        const ValueId b = fold_constants_into(fn, x, 0, disp);
        const ValueId index = fold_constants_into(fn, y, scale, disp);
        base = b;
        i.scale = static_cast<std::uint8_t>(scale);
        i.args.push_back(index);
        ++folded;
      }
      // An index's own constants (an unrolled loop's copies read at `index + k`, loop_unroll.cpp).
      if (const ValueId index = index_of(i); index != kNoValue) {
        const ValueId left = fold_constants_into(fn, index, i.scale, disp);
        if (left != index) i.args.back() = left, ++folded;
        // A constant index (a peeled loop copy's counter, loop_unroll.cpp) goes into the displacement.
        const std::int64_t c = fn.values[left].imm;
        if (fn.is_const(left) && c <= kMaxFoldedDisp && c >= -kMaxFoldedDisp &&
            disp + c * (std::int64_t{1} << i.scale) <= kMaxFoldedDisp &&
            disp + c * (std::int64_t{1} << i.scale) >= -kMaxFoldedDisp) {
          disp += c * (std::int64_t{1} << i.scale);
          i.args.pop_back();
          i.scale = 0;
          ++folded;
        }
      }
      if (base != i.args[0]) ++folded;
      i.args[0] = base;
      i.off = static_cast<std::int32_t>(disp);
    }
  return folded;
}

std::uint32_t address_after_step(Function& fn) {
  std::uint32_t rewritten = 0;
  // stepped[x]: the back-edge value x + c of phi x defined so far in the current block.
  std::vector<ValueId> stepped(fn.values.size(), kNoValue);
  std::vector<ValueId> touched;
  for (auto& block : fn.blocks) {
    for (auto x : touched) stepped[x] = kNoValue;
    touched.clear();
    for (auto id : block.insts) {
      Inst& i = fn.values[id];
      if (i.dead) continue;
      ValueId x = 0;
      std::int64_t c = 0;
      if (i.op == Op::Alu && split_constant(fn, id, x, c) && fn.values[x].op == Op::Phi && !fn.values[x].dead &&
          stepped[x] == kNoValue) {
        const auto& back = fn.values[x].args;
        if (std::find(back.begin(), back.end(), id) != back.end()) {
          stepped[x] = id;
          touched.push_back(x);
        }
        continue;
      }
      if ((i.op != Op::Load && i.op != Op::Store) || i.checked) continue;
      // The base (scale 0) and the index (its scale): w << s == (x << s) + (c << s) modulo 2^64.
      auto rewrite = [&](std::size_t arg, unsigned scale) {
        const ValueId w = stepped[i.args[arg]];
        if (w == kNoValue || !split_constant(fn, w, x, c) || c > kMaxFoldedDisp || c < -kMaxFoldedDisp) return;
        const std::int64_t disp = i.off - c * (std::int64_t{1} << scale);
        if (disp > kMaxFoldedDisp || disp < -kMaxFoldedDisp) return;
        i.args[arg] = w;
        i.off = static_cast<std::int32_t>(disp);
        ++rewritten;
      };
      rewrite(0, 0);
      if (index_of(i) != kNoValue) rewrite(i.args.size() - 1, i.scale);
    }
  }
  return rewritten;
}

}  // namespace bpfvm::jit::opt
