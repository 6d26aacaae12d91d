// bpf_map_lookup_elem on a plain array as IR: the kernel's array_map_gen_lookup (and the baseline's
// jit/inline_array_lookup) written as values, so that folding, promotion and selection see through it.
#pragma once

#include "jit/opt/ir.hpp"
#include "vm/direct_array.hpp"

namespace bpfvm::jit::opt {

/// Appends to block b: index = *(u32 *)key; r0 = index < max_entries ? base + index * stride : 0.
/// Returns r0. The key pointer was proven readable by the verifier (fast runs only: a checked run
/// calls the helper, which checks it).
ValueId lower_array_lookup(Function& fn, BlockId b, const vm::DirectArray& array, ValueId key);

}  // namespace bpfvm::jit::opt
