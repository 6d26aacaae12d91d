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
//   truncated: clang's 32-bit rotate without alu32, `(x << c) op ((x & m) >> (32 - c))` in 64-bit
//              operations, c in 1..31, m below 2^32 with bits 32-c..31 set (or x itself, of a zero
//              upper half): its low half is rotl32(x, c), its upper half is not. Taken only where
//              nothing reads the upper half (`low_half_only`, below): then the zero-extended rotate
//              gives every user what the shifts gave it.
#include <optional>
#include <utility>
#include <vector>

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

/// Whether user `u` reads only the low 32 bits of its operand `k` (given which values have only
/// their low half read: `low`). A 64-bit add, sub, mul, and, or, xor, neg or left shift computes its
/// low half from its operands' low halves; shift amounts are masked to 5 or 6 bits.
bool reads_low_half(const Function& fn, ValueId u, std::size_t k, const std::vector<bool>& low) {
  const Inst& i = fn.values[u];
  switch (i.op) {
    case Op::Alu:
      if (i.width == 32) return true;
      switch (i.kind) {
        case Kind::Lsh:
          if (k == 1) return true;
          return low[u] || (fn.is_const(i.args[1]) && (fn.values[i.args[1]].imm & 63) >= 32);
        case Kind::Rsh: case Kind::Arsh: return k == 1;
        case Kind::And:  // a mask below 2^32 reads only the other operand's low half
          if (const ValueId m = i.args[1 - k]; fn.is_const(m) && static_cast<std::uint64_t>(fn.values[m].imm) >> 32 == 0)
            return true;
          return low[u];
        case Kind::Add: case Kind::Sub: case Kind::Mul: case Kind::Or: case Kind::Xor: return low[u];
        default: return false;
      }
    case Op::Rotate: return i.width == 32 || k == 1;
    case Op::Zext32: return true;
    case Op::MovSx: return i.bits <= 32;
    case Op::Unary: return i.kind == Kind::Neg ? i.width == 32 || low[u] : i.bits <= 32;
    case Op::Phi: return low[u];
    case Op::Branch: return i.width == 32;
    case Op::Select: return k >= 2 ? low[u] : i.width == 32;
    case Op::Store: return k == 1 && i.bits <= 4;  // the stored value, not the address or index
    default: return false;
  }
}

/// Per value: true when every user reads only its low 32 bits (through the operations above, phis
/// and loops included: the greatest fixed point, from all true).
std::vector<bool> low_half_only(const Function& fn) {
  std::vector<bool> low(fn.values.size(), true);
  std::vector<std::vector<ValueId>> users(fn.values.size());
  for (ValueId u = 0; u < fn.values.size(); ++u)
    if (!fn.values[u].dead)
      for (auto a : fn.values[u].args) users[a].push_back(u);
  std::vector<ValueId> work;
  auto check = [&](ValueId v) {
    if (!low[v]) return;
    for (auto u : users[v]) {
      const auto& args = fn.values[u].args;
      for (std::size_t k = 0; k < args.size(); ++k)
        if (args[k] == v && !reads_low_half(fn, u, k, low)) {
          low[v] = false;
          work.push_back(v);
          return;
        }
    }
  };
  for (ValueId v = 0; v < fn.values.size(); ++v)
    if (!fn.values[v].dead) check(v);
  while (!work.empty()) {  // v lost its mark: its operands may be read whole now
    const ValueId v = work.back();
    work.pop_back();
    for (auto a : fn.values[v].args) check(a);
  }
  return low;
}

/// The truncated form's two shifts: a 64-bit left and right shift by constants c (1..31) and 32 - c.
/// Only the or/xor/add itself is ever rewritten (never a shift), so this holds or fails for `id`
/// whatever other candidates become: recognize_rotates asks it before the low-half analysis.
std::optional<std::pair<Shift, Shift>> truncated_shifts(const Function& fn, ValueId id) {
  const Inst& i = fn.values[id];
  auto p = as_shift(fn, i.args[0]), q = as_shift(fn, i.args[1]);
  if (!p || !q || p->kind == q->kind || p->width != 64 || q->width != 64) return std::nullopt;
  const Shift& l = p->kind == Kind::Lsh ? *p : *q;
  const Shift& r = p->kind == Kind::Lsh ? *q : *p;
  if (!fn.is_const(l.amount) || !fn.is_const(r.amount)) return std::nullopt;
  const auto c = static_cast<std::uint64_t>(fn.values[l.amount].imm) & 63;
  const auto d = static_cast<std::uint64_t>(fn.values[r.amount].imm) & 63;
  if (c == 0 || c >= 32 || c + d != 32) return std::nullopt;
  return std::pair{l, r};
}

/// The truncated form: `id` is a 64-bit or/xor/add only whose low half is read.
bool match_truncated(Function& fn, ValueId id) {
  Inst& i = fn.values[id];
  const auto shifts = truncated_shifts(fn, id);
  if (!shifts) return false;
  const auto& [l, r] = *shifts;
  const auto c = static_cast<std::uint64_t>(fn.values[l.amount].imm) & 63;
  const auto d = static_cast<std::uint64_t>(fn.values[r.amount].imm) & 63;
  const ValueId x = l.x;
  bool ok = r.x == x && upper_half_zero(fn, x);
  if (const Inst& a = fn.values[r.x]; !ok && a.op == Op::Alu && a.kind == Kind::And && a.width == 64) {
    for (std::size_t k = 0; k < 2 && !ok; ++k) {
      if (a.args[k] != x || !fn.is_const(a.args[1 - k])) continue;
      const auto m = static_cast<std::uint64_t>(fn.values[a.args[1 - k]].imm);
      const std::uint64_t top = ((std::uint64_t{1} << c) - 1) << d;  // bits 32-c..31
      ok = m >> 32 == 0 && (m & top) == top;
    }
  }
  if (!ok) return false;
  i.op = Op::Rotate;
  i.kind = Kind::Lsh;
  i.width = 32;
  i.args = {x, l.amount};
  return true;
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
  std::vector<ValueId> truncated;
  for (const auto& blk : fn.blocks)
    for (auto id : blk.insts) {
      const Inst& i = fn.values[id];
      if (i.dead || i.op != Op::Alu || (i.kind != Kind::Or && i.kind != Kind::Xor && i.kind != Kind::Add)) continue;
      if (match(fn, id)) ++rotates;
      else if (i.width == 64 && truncated_shifts(fn, id)) truncated.push_back(id);
    }
  if (truncated.empty()) return rotates;
  // One analysis for all: a rewrite only narrows what its operands' users read, so the marks of the
  // others stay true.
  const auto low = low_half_only(fn);
  bool any = false;
  for (auto id : truncated)
    if (low[id] && match_truncated(fn, id)) ++rotates, any = true;
  if (!any) return rotates;
  // The truncation after such a rotate (clang's `mov32 r, r`) has nothing left to clear.
  for (auto& i : fn.values)
    if (!i.dead && i.op == Op::Zext32 && upper_half_zero(fn, i.args[0])) i.op = Op::Copy;
  propagate_copies(fn);
  return rotates;
}

}  // namespace bpfvm::jit::opt
