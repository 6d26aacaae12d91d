// Checked mode's inline access test on AArch64, shared by both tiers: the address passes inline when
// it lies in the live stack frames or in the region the last read (write) passed in
// jit_check_access (Region::contains, written without overflow: addr - lo cannot come near 2^64
// because every region is a user-space range), and otherwise reaches the tier's check stub with
// `tmp` = access_info.
#pragma once

#include <asmjit/arm.h>
#include <asmjit/arm/a64assembler.h>

#include <cstddef>
#include <cstdint>

#include "jit/arm64/instruction_forms.hpp"
#include "jit/runtime.hpp"

namespace bpfvm::jit::arm64 {

/// `call_stub()` emits the call of the tier's check stub (address in `addr`, access_info in `tmp`).
template <class CallStub>
void emit_access_check(asmjit::a64::Assembler& a, const asmjit::a64::Gp& addr, const asmjit::a64::Gp& tmp,
                       const asmjit::a64::Gp& size, const asmjit::a64::Gp& state, unsigned size_bytes, bool write,
                       std::uint32_t pc, CallStub&& call_stub) {
  using namespace asmjit;
  auto field = [&](std::size_t offset) { return a64::ptr(state, static_cast<std::int32_t>(offset)); };
  const Label slow = a.newLabel(), ok = a.newLabel();
  // One range: tmp = addr - lo borrows below it (LO); tmp + size_bytes <= size inside it (LS).
  auto test_range = [&](std::size_t lo, std::size_t bytes, const Label& outside) {
    a.ldr(tmp, field(lo));
    a.subs(tmp, addr, tmp);
    a.b_lo(outside);
    a.ldr(size, field(bytes));
    a.add(tmp, tmp, Imm(size_bytes));
    a.cmp(tmp, size);
    a.b_ls(ok);
  };
  const Label not_stack = a.newLabel();
  test_range(offsetof(JitState, stack_lo), offsetof(JitState, stack_size), not_stack);
  a.bind(not_stack);
  test_range(write ? offsetof(JitState, write_lo) : offsetof(JitState, read_lo),
             write ? offsetof(JitState, write_size) : offsetof(JitState, read_size), slow);
  a.bind(slow);
  move_wide_imm(a, tmp, access_info(pc, size_bytes, write));
  call_stub();
  a.bind(ok);
}

}  // namespace bpfvm::jit::arm64
