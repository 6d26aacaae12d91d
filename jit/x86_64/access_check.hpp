// Checked mode's inline access test on x86-64, shared by both tiers: the address passes inline when
// it lies in the live stack frames or in the region the last read (write) passed in
// jit_check_access (Region::contains, written without overflow: no region starts below 4096), and
// otherwise calls the tier's check stub (address in `addr`, access_info in `tmp`).
#pragma once

#include <asmjit/x86.h>

#include <cstddef>
#include <cstdint>

#include "jit/runtime.hpp"

namespace bpfvm::jit::x86_64 {

inline void emit_access_check(asmjit::x86::Assembler& a, const asmjit::x86::Gp& addr, const asmjit::x86::Gp& tmp,
                              const asmjit::x86::Gp& state, unsigned size_bytes, bool write, std::uint32_t pc,
                              const asmjit::Label& check_stub) {
  using namespace asmjit;
  auto field = [&](std::size_t offset) { return x86::qword_ptr(state, static_cast<std::int32_t>(offset)); };
  const Label not_stack = a.newLabel();
  const Label slow = a.newLabel();
  const Label ok = a.newLabel();
  // Every jump skips at most seven instructions (under 40 bytes): rel8.
  a.mov(tmp, addr);
  a.sub(tmp, field(offsetof(JitState, stack_lo)));
  a.short_().jb(not_stack);
  a.add(tmp, imm(size_bytes));
  a.cmp(tmp, field(offsetof(JitState, stack_size)));
  a.short_().jbe(ok);
  a.bind(not_stack);
  a.mov(tmp, addr);
  a.sub(tmp, field(write ? offsetof(JitState, write_lo) : offsetof(JitState, read_lo)));
  a.short_().jb(slow);
  a.add(tmp, imm(size_bytes));
  a.cmp(tmp, field(write ? offsetof(JitState, write_size) : offsetof(JitState, read_size)));
  a.short_().jbe(ok);
  a.bind(slow);
  a.mov(tmp, imm(access_info(pc, size_bytes, write)));
  a.call(check_stub);
  a.bind(ok);
}

}  // namespace bpfvm::jit::x86_64
