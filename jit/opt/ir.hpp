// The optimizing tier's SSA IR: one function per program (BPF-to-BPF calls inlined), basic blocks
// of instructions whose operands are other instructions' results. Target independent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bpfvm/result.hpp"
#include "jit/opt/id_list.hpp"
#include "vm/helper_registry.hpp"
#include "vm/isa.hpp"

namespace bpfvm::jit::opt {

using ValueId = std::uint32_t;
using BlockId = std::uint32_t;
inline constexpr ValueId kNoValue = UINT32_MAX;

enum class Op : std::uint8_t {
  Const,     // imm
  Arg,       // r1..r5 on entry: imm = 0..4
  FramePtr,  // r10 of the inlined frame at depth imm: entry r10 - depth * 512. No location: the
             // backend addresses the frame from its own stack pointer (Loc::Kind::Frame)
  Phi,       // one argument per predecessor, in Block::preds order
  Copy,      // args[0]; passes replace it by its argument
  Alu,       // kind/width of an isa binary op (Mov is Copy/Zext32): args[0] op args[1]
  MovSx,     // sign-extend the low `bits` of args[0], result width `width`
  Unary,     // kind Neg / ToLe / ToBe / Bswap of args[0]; bits in `bits`
  Zext32,    // low 32 bits of args[0]
  Load,      // *(size)(args[0] + off), zero- or (sx) sign-extended to 64 bits; indexed (address
             // folding): *(size)(args[0] + (args[1] << scale) + off)
  Store,     // *(size)(args[0] + off) = args[1]; indexed: at args[0] + (args[2] << scale) + off
  Atomic,    // kind AtomicAdd..CmpXchg at args[0] + off with operand args[1] (CmpXchg: args[2] = r0);
             // result: the old value (fetch forms, xchg, cmpxchg), unused otherwise
  Call,      // helper (args = r1..r5), result r0; helper == nullptr: a callx by helper id, args[5]
             // the value naming it (resolved at run time, callx_target_error when it names none)
  Jmp,       // terminator: succs[0]
  Branch,    // terminator: if (args[0] kind args[1]) succs[0] else succs[1]
  Ret,       // terminator: the program's r0 = args[0]
  Select,    // (args[0] kind args[1]) ? args[2] : args[3], the comparison as Branch's (select.cpp)
  Charge,    // counted/checked builds: pay imm instructions of the budget segment starting at pc
             // (jit/emit_driver.cpp budget_segments); short of them, the budget error at its exact pc
  Frames,    // checked builds: the live eBPF frames become depths 0..imm (the run's stack region,
             // as the interpreter's ctx->stack at a call and a return)
  FuncAddr,  // lddw_func: the native address of the function compiled for the subprogram at pc imm
             // (a callback root, Function::root_pc); position independent, so not a Const
  ConstInReg,  // imm, held in a location: licm.cpp loads a wide constant read inside a loop once, before it
  TailCall,    // after a Call that may have been bpf_tail_call (helper 12, a callx by id): a chosen target
               // runs (its baseline code, as from the call's inlined depth imm) and the result is 1, its r0
               // then in TailResult; else 0. Clobbers like a Call; a failed target fails the run
  TailResult,  // the r0 of the target the TailCall args[0] ran
  Rotate,      // rotate_idiom.cpp: args[0] rotated left (kind Lsh) or right (kind Rsh) by args[1] masked
               // by width - 1; width 32: of the low half, zero-extended (x86-64 rol/ror/rorx, arm64 ror/rorv)
};

struct Inst {
  Op op = Op::Const;
  isa::Kind kind = isa::Kind::Add;  // Alu, Unary, Branch
  std::uint8_t width = 64;          // Alu/Branch/MovSx: 32 or 64
  std::uint8_t bits = 0;            // MovSx source bits; Unary byte-order bits; Load/Store bytes
  bool sx = false;                  // Load: sign-extending
  bool fetch = false;               // Atomic: BPF_FETCH (the old value is a result)
  bool dead = false;                // removed by a pass
  bool checked = false;             // Load/Store/Atomic of a checked build whose access the IR has not
                                    // proven inside a live frame: the backend checks it (checked_accesses.cpp)
  std::uint8_t depth = 0;           // Load/Store/Atomic: inlined depth of the code doing the access
                                    // (a deeper frame is not live there)
  std::int32_t off = 0;             // Load/Store/Atomic displacement (fold_address_offsets widens it)
  std::uint8_t scale = 0;           // indexed Load/Store: log2 of the index's multiplier (0..3)
  std::int64_t imm = 0;             // Const value, Arg index, FramePtr depth; Call: 0, or the address
                                    // of a map's direct lookup entry (vm::DirectLookupFn) called on
                                    // args (r1, r2) instead of the helper
  std::uint32_t pc = 0;             // source instruction (Call: the pc helper faults name)
  const vm::HelperEntry* helper = nullptr;  // Call
  IdList args;  // operands, inline up to IdList::kInline (id_list.hpp)
  BlockId block = 0;
};

struct Block {
  std::vector<ValueId> insts;  // phis first, one terminator last
  IdList preds, succs;
};

/// A whole program as one SSA function; block 0 is the entry.
struct Function {
  std::vector<Inst> values;
  std::vector<Block> blocks;
  std::uint32_t max_depth = 0;  // deepest inlined frame (FramePtr depth)
  std::uint32_t root_pc = 0;    // where it starts: pc 0 (the program), or a callback's subprogram

  ValueId add(BlockId b, Inst inst) {
    inst.block = b;
    values.push_back(std::move(inst));
    const auto id = static_cast<ValueId>(values.size() - 1);
    blocks[b].insts.push_back(id);
    return id;
  }
  bool is_const(ValueId v) const { return values[v].op == Op::Const; }
  bool defines_value(ValueId v) const {
    const Op op = values[v].op;
    return op != Op::Store && op != Op::Jmp && op != Op::Branch && op != Op::Ret && op != Op::Charge &&
           op != Op::Frames;
  }
};

/// The index operand of an indexed Load/Store (see Op::Load), or kNoValue.
inline ValueId index_of(const Inst& i) {
  if (i.op == Op::Load && i.args.size() == 2) return i.args[1];
  if (i.op == Op::Store && i.args.size() == 3) return i.args[2];
  return kNoValue;
}

/// True when v is a zero-extending load of at most 2 bytes, so its bits 16..63 are zero (a 16-bit byte
/// swap of it needs no zero-extension after swapping the low half).
inline bool zero_above_16(const Function& fn, ValueId v) {
  const Inst& i = fn.values[v];
  return i.op == Op::Load && !i.sx && i.bits <= 2;
}

/// True for instructions a pass may delete when nothing uses their result.
bool is_pure(const Inst& inst);

/// Text of the function (tests and `--listing`): one line per live instruction.
std::string to_text(const Function& fn);
/// One instruction's line of to_text: "v12 = alu k0/64 v3 v7", a terminator with "->bN" per successor.
std::string inst_text(const Function& fn, ValueId id);

}  // namespace bpfvm::jit::opt
