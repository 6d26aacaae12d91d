// The optimizing tier's passes over the SSA IR. Each is on its own so bench figures can be taken
// with and without it (PassSet); each keeps the function in SSA form.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "jit/opt/ir.hpp"
#include "vm/stack_range.hpp"

namespace bpfvm::jit::opt {

/// Which passes run (all by default). Lowering, copy resolution and the register allocator always run.
struct PassSet {
  bool fold_constants = true;  // constant propagation and folding (vm/alu_semantics.hpp), algebraic identities
  bool remove_zext = true;     // drops a 32-bit zero-extension of a value that is already zero-extended
  bool dce = true;             // dead code elimination
  bool promote_stack = true;   // stack slots accessed only whole at constant offsets become SSA values
  bool fold_addresses = true;  // `base + constant` addresses of loads/stores/atomics go into their displacement
  bool select = true;          // small diamonds and triangles become Select (cmov/csel), select.cpp
  bool strength_reduce = true; // div/mod by constants become shifts, masks, multiplies (strength_reduce.cpp)
  bool cse = true;             // common subexpressions over the dominator tree (cse.cpp)
  bool licm = true;            // loop-invariant pure operations and wide constants move to the preheader (licm.cpp)
  bool cse_loads = true;       // with cse: repeated loads and loads of stored values reuse them (cse.cpp, memory_alias.cpp)
  bool licm_loads = true;      // with licm: loop-invariant loads no store in the loop may alias move too (licm.cpp)
  bool combine_loads = true;   // or/shift trees of adjacent narrow loads become one wide load (load_combine.cpp)
  bool rotate = true;          // `(x << n) | (x >> (W - n))` becomes one Op::Rotate (rotate_idiom.cpp)
  bool unroll_loops = true;    // small counted loops copied 2 or 4 times, the counter tested in the last copy (loop_unroll.cpp)
  bool address_after_step = true;  // with fold_addresses: accesses after a phi's step read the stepped value (address_folding.cpp)
  bool reassociate = true;     // a loop's add/xor/or/and chain takes its carried operand last (reassociate.cpp)
};

/// All passes but those named, comma separated (the PassSet member names); InvalidArgument naming
/// an unknown one. For benchmarks that measure one pass at a time.
Result<PassSet> passes_without(std::string_view names);

/// What the verifier proved that passes may rely on. Default: nothing (unverified programs, tests
/// of the tier on raw programs); the passes then stay sound for any program that runs safely.
struct VerifierFacts {
  /// Every stack access, through any pointer and by any helper, stays inside the frame the pointer
  /// was derived from (the verifier's stack bounds check; true of every verifier::VerifiedProgram).
  bool pointers_stay_in_frame = false;
  /// Per pc of the program: the stack bytes the insn may touch on every path
  /// (verifier::VerifiedProgram::stack_ranges). Empty: not known. With pointers_stay_in_frame, stack
  /// promotion takes a slot of a frame whose address escapes when no access but the slot's own may reach it.
  std::vector<vm::StackRange> stack_ranges;
};

/// True when v's upper 32 bits are zero whatever its inputs (a 32-bit operation, a zero-extending
/// load or a small constant made it; every backend writes 32-bit results zero-extended).
bool upper_half_zero(const Function& fn, ValueId v);

/// Phis whose arguments are all one value (or the phi itself) become that value. Run after lowering.
void remove_trivial_phis(Function& fn);
/// Folds operations on constants (and x+0, x*1, ... identities) into constants or copies.
void fold_constants(Function& fn, bool remove_zext);
/// Replaces every use of a Copy by its source; the copies become dead.
void propagate_copies(Function& fn);
/// Marks instructions dead whose results nothing with an effect (store, call, terminator) needs.
void eliminate_dead_code(Function& fn);

/// Stack-slot promotion (promote_stack.cpp): slots of frames whose address never escapes, accessed
/// only whole at one constant offset, become SSA values. Returns how many slots it promoted.
std::uint32_t promote_stack_slots(Function& fn, const VerifierFacts& facts);

/// Address folding (address_folding.cpp): a Load/Store/Atomic whose address is a 64-bit add or
/// subtract of a constant (through chains of them) takes the base as its address and the constant in
/// `off`. Returns how many adds it folded.
std::uint32_t fold_address_offsets(Function& fn);
/// After address folding: a Load/Store addressed by a phi x (base or index) that comes after the
/// phi's back-edge value w = x + c (a 64-bit add of a constant, same block) is addressed by w with
/// the displacement less c << scale, so x dies at w and the allocator can give w x's register (a
/// loop counter stepped before its byte is read, clang's shape: no copy on the back edge). Returns
/// how many operands it rewrote.
std::uint32_t address_after_step(Function& fn);
/// Branch-to-select conversion (select.cpp): a branch whose arms are at most two cheap pure
/// instructions each (or nothing) and meet at one join becomes Selects of the join's phis.
/// Returns how many branches it removed.
std::uint32_t select_small_diamonds(Function& fn);

/// Division and modulo by constants (strength_reduce.cpp): by 0, 1 and powers of two for any width,
/// unsigned 32-bit ones by any constant through a multiply (Granlund–Montgomery). Returns how many.
std::uint32_t reduce_strength(Function& fn);

/// Common subexpression elimination (cse.cpp): a pure ALU operation, extension, byte swap or select
/// equal to one that dominates it (same operation, same operands) becomes a copy of it; equal
/// constants become one. Returns how many operations it replaced.
std::uint32_t eliminate_common_subexpressions(Function& fn);
/// The same, and with `loads` load reuse: a load of what a dominating load read or a dominating store
/// wrote, with no store, atomic or call between them that may alias it, takes that value.
std::uint32_t eliminate_common_subexpressions(Function& fn, bool loads, const VerifierFacts& facts);

/// Loop-invariant code motion (licm.cpp): pure operations of a single-entry loop whose operands are
/// defined outside it move to the end of its preheader, and wide constants read in it are loaded there
/// once (Op::ConstInReg), while the loop's estimated register pressure allows. Returns how many.
std::uint32_t hoist_loop_invariants(Function& fn);
/// The same, and with `loads` loads no store, atomic or call in the loop may alias, in the loop's head
/// and safe to run in the preheader (licm.cpp).
std::uint32_t hoist_loop_invariants(Function& fn, bool loads, const VerifierFacts& facts);

/// Load combining (load_combine.cpp): an or/shift tree of unchecked zero-extending loads of adjacent
/// bytes from one address (little-endian order) becomes one load of 2, 4 or 8 bytes; in big-endian
/// order (byte loads) that load byte-swapped. Returns how many trees it combined.
std::uint32_t combine_narrow_loads(Function& fn);

/// Checked builds (checked_accesses.cpp): clears `checked` on the accesses the IR proves inside a
/// frame that is live where they run (FramePtr(d) + a constant, d at most the access's depth, the
/// bytes within [-512, 0)): the checked interpreter allows exactly those without asking. Returns how many.
std::uint32_t drop_proven_checks(Function& fn);

/// Rotate idiom recognition (rotate_idiom.cpp): an or (xor, add for constant amounts) of a value
/// shifted left and right by amounts that sum to the width becomes one Op::Rotate. Returns how many.
std::uint32_t recognize_rotates(Function& fn);

/// Loop unrolling (loop_unroll.cpp): a small innermost loop whose counter (a constant start, a
/// constant step, a test against a constant on every iteration) gives a trip count divisible by 4 or
/// 2 is copied that many times; the counter's test stays in the last copy, every other exit test in
/// each. Fast builds only (loops with checked accesses or budget charges stay). Returns how many.
std::uint32_t unroll_loops(Function& fn);

/// Reassociation (reassociate.cpp): in a loop, a one-block chain of one add/xor/or/and (one width)
/// with exactly one operand carried from an earlier iteration or copy combines the others first and
/// that one last. Returns how many chains changed.
std::uint32_t reassociate_carried_chains(Function& fn);

/// Runs the enabled passes in their fixed order.
void optimize(Function& fn, const PassSet& passes);
void optimize(Function& fn, const PassSet& passes, const VerifierFacts& facts);

}  // namespace bpfvm::jit::opt
