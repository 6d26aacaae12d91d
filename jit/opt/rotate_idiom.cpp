// Rotate idiom recognition. eBPF has no rotate instruction, so clang spells `rotl(x, n)` as two
// shifts and an or: `(x << n) | (x >> (W - n))`. The pass turns that or into one Op::Rotate
// (x86-64 rol/ror/rorx, arm64 ror/rorv); the shifts and the `W - n` die when nothing else reads them.
//
// Every form is exact under the interpreter's shifts (vm/alu_semantics.hpp: the count is masked by
// W - 1, W the shift's width), for every amount:
//   constant:  (x << c) op (x >> d), c, d masked, c != 0 and c + d == W: the two parts have no bit
//              in common, so op may be |, ^ or + (no carries): rotl(x, c).
//   variable:  (x << n) | (x >> m), m = C - n' or -n' with C % W == 0 and n' equal to n in its low
//              log2(W) bits (n itself, a zero-extension or an and keeping those bits): with k = n & (W-1),
//              k = 0 gives x | x = x = rotl(x, 0), else rotl(x, k). Only `|`: ^ and + give 0 and 2x at
//              k = 0. The mirrored form (x >> n) | (x << (W - n)) is rotr(x, n).
//   widths:    both shifts 32-bit (alu32): rotate of the low half, zero-extended, whether the or is 32-
//              or 64-bit (both parts have a zero upper half); both 64-bit with a 64-bit op. Mixed widths
//              stay shifts.
#include <optional>

#include "jit/opt/passes.hpp"

namespace bpfvm::jit::opt {

namespace {

using isa::Kind;

struct Shift {
  Kind kind;
  ValueId x, amount;
  unsigned width;
};

std::optional<Shift> as_shift(const Function& fn, ValueId v) {
  const Inst& i = fn.values[v];
  if (i.dead || i.op != Op::Alu || (i.kind != Kind::Lsh && i.kind != Kind::Rsh)) return std::nullopt;
  return Shift{i.kind, i.args[0], i.args[1], i.width};
}

/// The value whose low log2(width) bits are v's: through zero-extensions and ands whose mask keeps
/// those bits (a 32-bit and keeps them too).
ValueId amount_source(const Function& fn, ValueId v, unsigned width) {
  for (int hops = 0; hops < 4; ++hops) {
    const Inst& i = fn.values[v];
    if (i.op == Op::Zext32) {
      v = i.args[0];
    } else if (i.op == Op::Alu && i.kind == Kind::And && fn.is_const(i.args[1]) &&
               (static_cast<std::uint64_t>(fn.values[i.args[1]].imm) & (width - 1)) == width - 1) {
      v = i.args[0];
    } else {
      break;
    }
  }
  return v;
}

/// True when m's low log2(width) bits are those of -n whatever n is: C - n (C a multiple of the
/// width, 32- or 64-bit: both keep the low bits of the difference) or neg n.
bool negates(const Function& fn, ValueId m, ValueId n, unsigned width) {
  m = amount_source(fn, m, width);
  n = amount_source(fn, n, width);
  const Inst& i = fn.values[m];
  if (i.op == Op::Alu && i.kind == Kind::Sub && fn.is_const(i.args[0]) &&
      (static_cast<std::uint64_t>(fn.values[i.args[0]].imm) & (width - 1)) == 0)
    return amount_source(fn, i.args[1], width) == n;
  if (i.op == Op::Unary && i.kind == Kind::Neg) return amount_source(fn, i.args[0], width) == n;
  return false;
}

/// Rewrites `id` (an or, xor or add) into a Rotate when it is one of the forms above.
bool match(Function& fn, ValueId id) {
  Inst& i = fn.values[id];
  auto p = as_shift(fn, i.args[0]), q = as_shift(fn, i.args[1]);
  if (!p || !q || p->kind == q->kind || p->x != q->x || p->width != q->width) return false;
  if (p->width == 64 && i.width != 64) return false;  // a 32-bit or of 64-bit shifts: not a rotate
  const Shift& l = p->kind == Kind::Lsh ? *p : *q;
  const Shift& r = p->kind == Kind::Lsh ? *q : *p;
  const unsigned w = l.width;
  Kind direction = Kind::Lsh;
  ValueId amount = kNoValue;
  if (fn.is_const(l.amount) && fn.is_const(r.amount)) {
    const auto c = static_cast<std::uint64_t>(fn.values[l.amount].imm) & (w - 1);
    const auto d = static_cast<std::uint64_t>(fn.values[r.amount].imm) & (w - 1);
    if (c == 0 || c + d != w) return false;
    amount = l.amount;
  } else {
    if (i.kind != Kind::Or) return false;
    if (negates(fn, r.amount, l.amount, w)) {
      amount = l.amount;
    } else if (negates(fn, l.amount, r.amount, w)) {
      direction = Kind::Rsh;
      amount = r.amount;
    } else {
      return false;
    }
  }
  const ValueId x = l.x;
  i.op = Op::Rotate;
  i.kind = direction;
  i.width = static_cast<std::uint8_t>(w);
  i.args = {x, amount};
  return true;
}

}  // namespace

std::uint32_t recognize_rotates(Function& fn) {
  std::uint32_t rotates = 0;
  for (const auto& blk : fn.blocks)
    for (auto id : blk.insts) {
      const Inst& i = fn.values[id];
      if (i.dead || i.op != Op::Alu || (i.kind != Kind::Or && i.kind != Kind::Xor && i.kind != Kind::Add)) continue;
      rotates += match(fn, id);
    }
  return rotates;
}

}  // namespace bpfvm::jit::opt
