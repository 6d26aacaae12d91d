// The optimizing tier's passes over the SSA IR. Each is on its own so bench figures can be taken
// with and without it (PassSet); each keeps the function in SSA form.
#pragma once

#include <cstdint>

#include "jit/opt/ir.hpp"

namespace bpfvm::jit::opt {

/// Which passes run (all by default). Lowering, copy resolution and the register allocator always run.
struct PassSet {
  bool fold_constants = true;  // constant propagation and folding (vm/alu_semantics.hpp), algebraic identities
  bool remove_zext = true;     // drops a 32-bit zero-extension of a value that is already zero-extended
  bool dce = true;             // dead code elimination
};

/// Phis whose arguments are all one value (or the phi itself) become that value. Run after lowering.
void remove_trivial_phis(Function& fn);
/// Folds operations on constants (and x+0, x*1, ... identities) into constants or copies.
void fold_constants(Function& fn, bool remove_zext);
/// Replaces every use of a Copy by its source; the copies become dead.
void propagate_copies(Function& fn);
/// Marks instructions dead whose results nothing with an effect (store, call, terminator) needs.
void eliminate_dead_code(Function& fn);

/// Runs the enabled passes in their fixed order.
void optimize(Function& fn, const PassSet& passes);

}  // namespace bpfvm::jit::opt
