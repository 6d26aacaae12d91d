// Strength reduction of division and modulo by constants. Every result is the interpreter's
// (vm/alu_semantics.hpp) for every dividend, including the divisors the verifier refuses:
// x / 0 = 0 and x % 0 = x (32-bit: its low half), so unverified programs agree too.
//   unsigned, any width: by 0, by 1, by 2^k (shift / mask);
//   unsigned 32-bit (or 64-bit of a dividend whose upper half is zero), any other divisor d:
//     Granlund–Montgomery with one 64-bit multiply: l = ceil(log2 d), m = floor(2^32 (2^l - d) / d) + 1
//     (< 2^32), t = (x * m) >> 32, q = (t + x) >> l (t + x < 2^33: no overflow in 64 bits);
//     x % d = x - q * d.
//   signed: only by 0 (sdiv gives 0, smod keeps the dividend).
#include <algorithm>
#include <bit>

#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

namespace {

using isa::Kind;

class Reducer {
 public:
  explicit Reducer(Function& fn) : fn_(fn) {}

  /// Rewrites the division or modulo `id` (a live Alu with a constant divisor); true when it did.
  bool reduce(ValueId id) {
    const Inst i = fn_.values[id];
    const bool w64 = i.width == 64, is_mod = i.kind == Kind::Mod || i.kind == Kind::SMod;
    const bool is_signed = i.kind == Kind::SDiv || i.kind == Kind::SMod;
    const std::uint64_t d = w64 ? static_cast<std::uint64_t>(fn_.values[i.args[1]].imm)
                                : static_cast<std::uint32_t>(fn_.values[i.args[1]].imm);
    const ValueId x = i.args[0];
    id_ = id;
    if (d == 0) {
      if (!is_mod) return become(Inst{.op = Op::Const, .imm = 0});
      return w64 ? become(Inst{.op = Op::Copy, .args = {x}}) : become(Inst{.op = Op::Zext32, .args = {x}});
    }
    if (is_signed) return false;
    if (std::has_single_bit(d)) {
      const auto k = static_cast<std::int64_t>(std::countr_zero(d));
      if (is_mod) return become(alu(Kind::And, i.width, x, constant(static_cast<std::int64_t>(d - 1))));
      return become(alu(Kind::Rsh, i.width, x, constant(k)));
    }
    // The magic-number form needs a dividend below 2^32.
    ValueId x32 = x;
    if (!w64) {
      if (!upper_half_zero(fn_, x)) x32 = insert(Inst{.op = Op::Zext32, .args = {x}});
    } else if (!upper_half_zero(fn_, x) || d > UINT32_MAX) {
      return false;
    }
    const auto l = static_cast<unsigned>(std::bit_width(d - 1));  // ceil(log2 d), d not a power of two
    const std::uint64_t m = ((std::uint64_t{1} << 32) * ((std::uint64_t{1} << l) - d)) / d + 1;
    const ValueId prod = insert(alu(Kind::Mul, 64, x32, constant(static_cast<std::int64_t>(m))));
    const ValueId t = insert(alu(Kind::Rsh, 64, prod, constant(32)));
    const ValueId sum = insert(alu(Kind::Add, 64, t, x32));
    if (!is_mod) return become(alu(Kind::Rsh, 64, sum, constant(l)));
    const ValueId q = insert(alu(Kind::Rsh, 64, sum, constant(l)));
    const ValueId qd = insert(alu(Kind::Mul, 64, q, constant(static_cast<std::int64_t>(d))));
    return become(alu(Kind::Sub, 64, x32, qd));
  }

 private:
  static Inst alu(Kind kind, std::uint8_t width, ValueId a, ValueId b) {
    return Inst{.op = Op::Alu, .kind = kind, .width = width, .args = {a, b}};
  }
  /// A new value placed right before the instruction being reduced.
  ValueId insert(Inst inst) {
    const Inst& at = fn_.values[id_];
    inst.block = at.block;
    inst.pc = at.pc;
    fn_.values.push_back(std::move(inst));
    const auto nid = static_cast<ValueId>(fn_.values.size() - 1);
    auto& insts = fn_.blocks[fn_.values[id_].block].insts;
    insts.insert(std::find(insts.begin(), insts.end(), id_), nid);
    return nid;
  }
  ValueId constant(std::int64_t v) { return insert(Inst{.op = Op::Const, .imm = v}); }
  /// The reduced instruction itself becomes `inst` (same id: its users need no rewrite).
  bool become(Inst inst) {
    Inst& at = fn_.values[id_];
    inst.block = at.block;
    inst.pc = at.pc;
    at = std::move(inst);
    return true;
  }

  Function& fn_;
  ValueId id_ = 0;
};

}  // namespace

std::uint32_t reduce_strength(Function& fn) {
  std::vector<ValueId> candidates;
  for (const auto& blk : fn.blocks)
    for (auto id : blk.insts) {
      const Inst& i = fn.values[id];
      if (i.dead || i.op != Op::Alu || !fn.is_const(i.args[1])) continue;
      if (i.kind == Kind::Div || i.kind == Kind::Mod || i.kind == Kind::SDiv || i.kind == Kind::SMod)
        candidates.push_back(id);
    }
  Reducer reducer(fn);
  std::uint32_t reduced = 0;
  for (auto id : candidates) reduced += reducer.reduce(id);
  if (reduced) propagate_copies(fn);
  return reduced;
}

}  // namespace bpfvm::jit::opt
