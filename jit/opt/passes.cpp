// The SSA passes: trivial-phi removal, constant folding with redundant zero-extension removal,
// copy propagation and dead code elimination. Folding evaluates through vm/alu_semantics.hpp, the
// functions the interpreter runs, so a folded value is the interpreter's by construction.
#include "jit/opt/passes.hpp"

#include <algorithm>
#include <bit>
#include <iterator>
#include <optional>
#include <string>

#include "vm/alu_semantics.hpp"

namespace bpfvm::jit::opt {

using isa::Kind;

bool is_pure(const Inst& inst) {
  switch (inst.op) {
    case Op::Const: case Op::Arg: case Op::FramePtr: case Op::Phi: case Op::Copy: case Op::Alu:
    case Op::MovSx: case Op::Unary: case Op::Zext32: case Op::Select: case Op::FuncAddr: case Op::ConstInReg:
    case Op::Rotate:
      return true;
    case Op::Load:
      return !inst.checked;  // an unchecked load cannot fault, so an unused one may go
    case Op::Store: case Op::Atomic: case Op::Call: case Op::Jmp: case Op::Branch: case Op::Ret:
    case Op::Charge: case Op::Frames: case Op::TailCall: case Op::TailResult:
      return false;
  }
  return false;
}

namespace {

/// Follows Copy chains to the value a use really reads.
ValueId resolve(const Function& fn, ValueId v) {
  while (fn.values[v].op == Op::Copy) v = fn.values[v].args[0];
  return v;
}

void make_copy(Inst& inst, ValueId of) {
  inst.op = Op::Copy;
  inst.args = {of};
}

void make_const(Inst& inst, std::uint64_t value) {
  inst.op = Op::Const;
  inst.imm = static_cast<std::int64_t>(value);
  inst.args.clear();
}

// Phis whose arguments all have a zero upper half: followed through at most this many phis (loops
// close through phis; one already being looked at adds nothing new, so it counts as zero-upper).
constexpr std::size_t kMaxPhisFollowed = 16;

bool upper_half_zero_through_phis(const Function& fn, ValueId v, std::vector<ValueId>& phis) {
  const Inst& i = fn.values[v];
  if (i.op != Op::Phi) return upper_half_zero(fn, v);
  if (std::find(phis.begin(), phis.end(), v) != phis.end()) return true;
  if (phis.size() == kMaxPhisFollowed) return false;
  phis.push_back(v);
  return std::all_of(i.args.begin(), i.args.end(),
                     [&](ValueId a) { return upper_half_zero_through_phis(fn, a, phis); });
}

}  // namespace

// True when the value's upper 32 bits are zero whatever its inputs: a 32-bit zero-extending x86
// or arm64 instruction produced it (every backend writes 32-bit results zero-extended), or a phi
// of such values.
bool upper_half_zero(const Function& fn, ValueId v) {
  const Inst& i = fn.values[v];
  switch (i.op) {
    case Op::Phi: {
      std::vector<ValueId> phis;
      return upper_half_zero_through_phis(fn, v, phis);
    }
    case Op::Const: return static_cast<std::uint64_t>(i.imm) >> 32 == 0;
    case Op::Alu:
      if (i.width == 32) return true;
      // x >> 32 or more, x & a 32-bit mask
      if (i.args.size() == 2 && fn.is_const(i.args[1])) {
        const auto c = static_cast<std::uint64_t>(fn.values[i.args[1]].imm);
        return (i.kind == Kind::Rsh && (c & 63) >= 32) || (i.kind == Kind::And && c >> 32 == 0);
      }
      return false;
    case Op::MovSx: return i.width == 32;
    case Op::Zext32: return true;
    case Op::Rotate: return i.width == 32;
    case Op::Unary: return i.kind == Kind::Neg ? i.width == 32 : i.bits <= 32;
    case Op::Load: return !i.sx && i.bits <= 4;
    default: return false;
  }
}

void remove_trivial_phis(Function& fn) {
  // The phis in block order, found once: each round looks at them only, not at every instruction.
  std::vector<ValueId> phis;
  for (const auto& blk : fn.blocks)
    for (auto id : blk.insts)
      if (fn.values[id].op == Op::Phi && !fn.values[id].dead) phis.push_back(id);
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto id : phis) {
      Inst& phi = fn.values[id];
      if (phi.op != Op::Phi || phi.dead) continue;
      ValueId same = kNoValue;
      bool trivial = true;
      for (auto a : phi.args) {
        a = resolve(fn, a);
        if (a == id || a == same) continue;
        if (same != kNoValue) {
          trivial = false;
          break;
        }
        same = a;
      }
      if (!trivial || same == kNoValue) continue;
      make_copy(phi, same);
      changed = true;
    }
  }
  propagate_copies(fn);
}

namespace {

/// x when v is a zero-extension of x's low half: clang's `(x << 32) >> 32` (no alu32) or a Zext32.
ValueId zext_source(const Function& fn, ValueId v) {
  const Inst& i = fn.values[v];
  if (i.dead) return kNoValue;
  if (i.op == Op::Zext32) return resolve(fn, i.args[0]);
  if (i.op != Op::Alu || i.kind != Kind::Rsh || i.width != 64 || !fn.is_const(i.args[1]) || fn.values[i.args[1]].imm != 32)
    return kNoValue;
  const Inst& shl = fn.values[resolve(fn, i.args[0])];
  if (shl.dead || shl.op != Op::Alu || shl.kind != Kind::Lsh || shl.width != 64 || !fn.is_const(shl.args[1]) ||
      fn.values[shl.args[1]].imm != 32)
    return kNoValue;
  return resolve(fn, shl.args[0]);
}

/// A 64-bit equality, unsigned or jset branch between zero-extended low halves (or a constant below
/// 2^32) compares the low halves alone: a 32-bit branch on the unextended values, so the shifts may
/// die (`mov; shl 32; shr 32; cmp` per operand became one `cmp r32` in primes' and rc4's loops).
/// Signed conditions keep their operands: a zero-extended value is never negative, its low half may be.
void narrow_zext_compare(Function& fn, Inst& i) {
  if (i.width != 64 || i.args.size() != 2) return;
  switch (i.kind) {
    case Kind::Jeq: case Kind::Jne: case Kind::Jgt: case Kind::Jge: case Kind::Jlt: case Kind::Jle: case Kind::Jset: break;
    default: return;
  }
  ValueId narrowed[2];
  bool any = false;
  for (std::size_t k = 0; k < 2; ++k) {
    const ValueId a = i.args[k];
    if (fn.is_const(a)) {
      if (static_cast<std::uint64_t>(fn.values[a].imm) > 0xffffffffu) return;
      narrowed[k] = a;
      continue;
    }
    narrowed[k] = zext_source(fn, a);
    if (narrowed[k] == kNoValue) return;
    any = true;
  }
  if (!any) return;
  i.args[0] = narrowed[0], i.args[1] = narrowed[1];
  i.width = 32;
}

/// How many low bits of v can be set at most (64 when unknown), through at most `depth` ALU
/// operations: loads, constants and 32-bit results bound it, masks, shifts, sums and products carry
/// the bound (divmod's divisor `(__u64)p[i] + 5` has 9 bits).
unsigned significant_bits(const Function& fn, ValueId v, unsigned depth = 4) {
  const Inst& i = fn.values[v];
  if (i.op == Op::Const) return static_cast<unsigned>(std::bit_width(static_cast<std::uint64_t>(i.imm)));
  if (i.op == Op::Load && !i.sx) return 8u * i.bits;
  const unsigned known = upper_half_zero(fn, v) ? 32 : 64;
  if (i.op != Op::Alu || i.width != 64 || depth == 0) return known;
  const unsigned a = significant_bits(fn, i.args[0], depth - 1);
  const unsigned b = significant_bits(fn, i.args[1], depth - 1);
  const bool c = fn.is_const(i.args[1]);
  const unsigned count = c ? static_cast<unsigned>(fn.values[i.args[1]].imm & 63) : 0;
  unsigned bound = 64;
  switch (i.kind) {
    case Kind::And: bound = std::min(a, b); break;
    case Kind::Or: case Kind::Xor: bound = std::max(a, b); break;
    case Kind::Add: bound = std::max(a, b) + 1; break;
    case Kind::Mul: bound = a + b; break;
    case Kind::Rsh: bound = c ? (a > count ? a - count : 0) : a; break;
    case Kind::Lsh: if (c) bound = a + count; break;
    default: break;
  }
  return std::min({bound, known, 64u});
}

/// A 64-bit unsigned div/mod whose operands both fit 32 bits (zero-extended low halves, values of
/// at most 32 significant bits, constants below 2^32) gives what the 32-bit one does on their low halves (x / 0
/// = 0 and x % 0 = x either way): a 32-bit div on the unextended values, so the extensions may die
/// and x86-64 divides 32 bits (primes' and divmod's `(__u32)x / y` without alu32).
void narrow_zext_divide(Function& fn, Inst& i) {
  if (i.width != 64 || i.args.size() != 2 || (i.kind != Kind::Div && i.kind != Kind::Mod)) return;
  ValueId narrowed[2];
  for (std::size_t k = 0; k < 2; ++k) {
    const ValueId a = i.args[k];
    if (fn.is_const(a) && static_cast<std::uint64_t>(fn.values[a].imm) > 0xffffffffu) return;
    narrowed[k] = fn.is_const(a) ? a : zext_source(fn, a);
    if (narrowed[k] == kNoValue) {
      if (significant_bits(fn, a) > 32) return;
      narrowed[k] = a;
    }
  }
  i.args[0] = narrowed[0], i.args[1] = narrowed[1];
  i.width = 32;
}

}  // namespace

void fold_constants(Function& fn, bool remove_zext) {
  // One forward walk over blocks in reverse post-order sees every operand's definition first,
  // except through back edges (phis), which stay as they are.
  for (auto& blk : fn.blocks)
    for (auto id : blk.insts) {
      Inst& i = fn.values[id];
      if (i.dead) continue;
      for (auto& a : i.args) a = resolve(fn, a);
      auto cval = [&](std::size_t k) { return static_cast<std::uint64_t>(fn.values[i.args[k]].imm); };
      auto is_c = [&](std::size_t k) { return fn.is_const(i.args[k]); };
      switch (i.op) {
        case Op::Alu: {
          const bool w64 = i.width == 64;
          if (is_c(0) && is_c(1)) {
            if (auto v = vm::alu::binary(i.kind, w64, cval(0), cval(1))) make_const(i, *v);
            break;
          }
          if (remove_zext) narrow_zext_divide(fn, i);
          if (!is_c(1) || i.width != 64) break;  // 32-bit identities still zero-extend: left to Zext32 logic
          const auto c = cval(1);
          // (x << 32) >> 32, clang's zero-extension without alu32, of an x whose upper half is zero.
          // (As one Zext32 for any other x, `mov r32, r32` instead of mov, shl, shr, it moved switch's
          // branch targets by 6 bytes and ran it 0.90 -> 0.97-1.00x the baseline: not done.)
          if (remove_zext && i.kind == Kind::Rsh && c == 32) {
            const Inst& shl = fn.values[i.args[0]];
            if (shl.op == Op::Alu && shl.kind == Kind::Lsh && shl.width == 64 && fn.is_const(shl.args[1]) &&
                fn.values[shl.args[1]].imm == 32 && upper_half_zero(fn, resolve(fn, shl.args[0]))) {
              make_copy(i, resolve(fn, shl.args[0]));
              break;
            }
          }
          const bool identity =
              (c == 0 && (i.kind == Kind::Add || i.kind == Kind::Sub || i.kind == Kind::Or ||
                          i.kind == Kind::Xor || i.kind == Kind::Lsh || i.kind == Kind::Rsh ||
                          i.kind == Kind::Arsh)) ||
              (c == 1 && (i.kind == Kind::Mul || i.kind == Kind::Div || i.kind == Kind::SDiv)) ||
              (c == ~std::uint64_t{0} && i.kind == Kind::And);
          if (identity) make_copy(i, i.args[0]);
          break;
        }
        case Op::MovSx:
          if (is_c(0))
            make_const(i, i.width == 64 ? vm::alu::movsx64(cval(0), i.bits) : vm::alu::movsx32(cval(0), i.bits));
          break;
        case Op::Unary:
          if (!is_c(0)) break;
          switch (i.kind) {
            case Kind::Neg: make_const(i, i.width == 64 ? vm::alu::neg64(cval(0)) : vm::alu::neg32(static_cast<std::uint32_t>(cval(0)))); break;
            case Kind::ToLe: make_const(i, vm::alu::to_le(cval(0), i.bits)); break;
            case Kind::ToBe: case Kind::Bswap: make_const(i, vm::alu::bswap(cval(0), i.bits)); break;
            default: break;
          }
          break;
        case Op::Branch:
          if (remove_zext) narrow_zext_compare(fn, i);
          break;
        case Op::Zext32:
          if (is_c(0))
            make_const(i, static_cast<std::uint32_t>(cval(0)));
          else if (remove_zext && upper_half_zero(fn, i.args[0]))
            make_copy(i, i.args[0]);
          break;
        default:
          break;
      }
    }
  propagate_copies(fn);
}

void propagate_copies(Function& fn) {
  // One walk: resolve() follows a Copy whether or not it is dead yet.
  for (auto& inst : fn.values) {
    if (inst.dead) continue;
    for (auto& a : inst.args) a = resolve(fn, a);
    if (inst.op == Op::Copy) inst.dead = true;
  }
}

void eliminate_dead_code(Function& fn) {
  std::vector<bool> live(fn.values.size(), false);
  std::vector<ValueId> work;
  for (ValueId v = 0; v < fn.values.size(); ++v)
    if (!fn.values[v].dead && !is_pure(fn.values[v])) {
      live[v] = true;
      work.push_back(v);
    }
  while (!work.empty()) {
    const auto v = work.back();
    work.pop_back();
    for (auto a : fn.values[v].args)
      if (!live[a]) {
        live[a] = true;
        work.push_back(a);
      }
  }
  for (ValueId v = 0; v < fn.values.size(); ++v)
    if (!live[v]) fn.values[v].dead = true;
}

namespace {
// Every pass switch by the name passes_without takes: the PassSet member's name, in PassSet's order.
constexpr std::pair<std::string_view, bool PassSet::*> kPassNames[] = {
    {"fold_constants", &PassSet::fold_constants},
    {"remove_zext", &PassSet::remove_zext},
    {"dce", &PassSet::dce},
    {"promote_stack", &PassSet::promote_stack},
    {"fold_addresses", &PassSet::fold_addresses},
    {"select", &PassSet::select},
    {"strength_reduce", &PassSet::strength_reduce},
    {"cse", &PassSet::cse},
    {"licm", &PassSet::licm},
    {"cse_loads", &PassSet::cse_loads},
    {"licm_loads", &PassSet::licm_loads},
    {"combine_loads", &PassSet::combine_loads},
    {"rotate", &PassSet::rotate},
    {"unroll_loops", &PassSet::unroll_loops},
    {"address_after_step", &PassSet::address_after_step},
    {"reassociate", &PassSet::reassociate},
};
}  // namespace

Result<PassSet> passes_without(std::string_view names) {
  PassSet set;
  while (!names.empty()) {
    const auto comma = names.find(',');
    const auto name = names.substr(0, comma);
    names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
    if (name.empty()) continue;
    const auto* entry = std::find_if(std::begin(kPassNames), std::end(kPassNames),
                                     [&](const auto& e) { return e.first == name; });
    if (entry == std::end(kPassNames)) {
      std::string known;
      for (const auto& [n, member] : kPassNames) known += (known.empty() ? "" : ", ") + std::string(n);
      return make_error(Errc::InvalidArgument, "unknown optimizing-tier pass '" + std::string(name) + "' (" + known + ")");
    }
    set.*(entry->second) = false;
  }
  return set;
}

void optimize(Function& fn, const PassSet& passes) { optimize(fn, passes, VerifierFacts{}); }

void optimize(Function& fn, const PassSet& passes, const VerifierFacts& facts) {
  if (passes.promote_stack) promote_stack_slots(fn, facts);
  if (passes.fold_constants || passes.remove_zext) {
    fold_constants(fn, passes.remove_zext);
    remove_trivial_phis(fn);
  }
  if (passes.rotate) recognize_rotates(fn);
  if (passes.strength_reduce) reduce_strength(fn);
  if (passes.cse) eliminate_common_subexpressions(fn, passes.cse_loads, facts);
  if (passes.fold_addresses) fold_address_offsets(fn);
  if (passes.combine_loads) combine_narrow_loads(fn);
  if (passes.dce) eliminate_dead_code(fn);
  // After load combining and DCE (a body's size is what remains of it); the copies' `index + k`
  // go into their accesses' displacements.
  if (passes.unroll_loops && unroll_loops(fn) != 0) {
    if (passes.fold_addresses) fold_address_offsets(fn);
    if (passes.dce) eliminate_dead_code(fn);
  }
  if (passes.fold_addresses && passes.address_after_step) address_after_step(fn);
  if (passes.reassociate) reassociate_carried_chains(fn);  // after unrolling: the copies' chains
  if (passes.licm) hoist_loop_invariants(fn, passes.licm_loads, facts);
  if (passes.select) select_small_diamonds(fn);
}

std::string inst_text(const Function& fn, ValueId id) {
  static constexpr const char* kNames[] = {"const", "arg", "fp", "phi", "copy", "alu", "movsx", "unary",
                                           "zext32", "load", "store", "atomic", "call", "jmp", "br", "ret",
                                           "select", "charge", "frames", "funcaddr", "const_reg", "tailcall",
                                           "tailresult", "rotate"};
  const Inst& i = fn.values[id];
  std::string out = "v" + std::to_string(id) + " = " + kNames[static_cast<int>(i.op)];
  if (i.op == Op::Const || i.op == Op::Arg || i.op == Op::FramePtr || i.op == Op::Charge || i.op == Op::Frames ||
      i.op == Op::FuncAddr || i.op == Op::ConstInReg || i.op == Op::TailCall)
    out += " " + std::to_string(i.imm);
  if (i.op == Op::Alu || i.op == Op::Branch || i.op == Op::Unary || i.op == Op::Select ||
      i.op == Op::Rotate)
    out += " k" + std::to_string(static_cast<int>(i.kind)) + "/" + std::to_string(i.width);
  for (auto a : i.args) out += " v" + std::to_string(a);
  if ((i.op == Op::Load || i.op == Op::Store || i.op == Op::Atomic) && i.off != 0) out += " off " + std::to_string(i.off);
  if (index_of(i) != kNoValue && i.scale != 0) out += " scale " + std::to_string(i.scale);
  if (i.checked && (i.op == Op::Load || i.op == Op::Store || i.op == Op::Atomic)) out += " checked";
  if (i.op == Op::Call && i.imm != 0) out += " direct";  // a map's lookup entry, not the helper
  const Block& block = fn.blocks[i.block];
  if (!block.insts.empty() && id == block.insts.back())
    for (auto s : block.succs) out += " ->b" + std::to_string(s);
  return out;
}

std::string to_text(const Function& fn) {
  std::string out;
  for (BlockId b = 0; b < fn.blocks.size(); ++b) {
    out += "b" + std::to_string(b) + ":";
    for (auto p : fn.blocks[b].preds) out += " <b" + std::to_string(p);
    out += "\n";
    for (auto id : fn.blocks[b].insts)
      if (!fn.values[id].dead) out += "  " + inst_text(fn, id) + "\n";
  }
  return out;
}

}  // namespace bpfvm::jit::opt
