// Array-map lookups lowered to address arithmetic and one Select (x86-64 cmov, arm64 csel).
#include "jit/opt/array_lookup.hpp"

#include <bit>

namespace bpfvm::jit::opt {

using isa::Kind;

ValueId lower_array_lookup(Function& fn, BlockId b, const vm::DirectArray& array, ValueId key) {
  auto constant = [&](std::int64_t v) { return fn.add(b, Inst{.op = Op::Const, .imm = v}); };
  // Array keys are 4 bytes (the kernel refuses other key sizes); the load zero-extends.
  const ValueId index = fn.add(b, Inst{.op = Op::Load, .bits = 4, .args = {key}});
  // A power-of-two stride (every 8-byte-aligned value up to 2^k) is a shift, as the kernel emits.
  const bool shift = std::has_single_bit(array.stride);
  const ValueId scale = constant(shift ? std::countr_zero(array.stride) : array.stride);
  const ValueId offset = fn.add(b, Inst{.op = Op::Alu, .kind = shift ? Kind::Lsh : Kind::Mul, .width = 64,
                                        .args = {index, scale}});
  const ValueId address = fn.add(b, Inst{.op = Op::Alu, .kind = Kind::Add, .width = 64,
                                         .args = {offset, constant(static_cast<std::int64_t>(array.base))}});
  // Unsigned 32-bit compare: max_entries may be up to 2^32 - 1, an immediate at that width.
  return fn.add(b, Inst{.op = Op::Select, .kind = Kind::Jlt, .width = 32,
                        .args = {index, constant(array.max_entries), address, constant(0)}});
}

}  // namespace bpfvm::jit::opt
