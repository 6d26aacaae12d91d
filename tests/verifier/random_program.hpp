// Random programs for soundness testing: bytes (fuzzer input or a PRNG) -> instruction slots drawn
// from isa::kOps, biased toward what the verifier can accept (small offsets, stack and r1 bases).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vm/isa.hpp"
#include "vm/program.hpp"

namespace bpfvm::verifier::test {

class ByteSource {
 public:
  explicit ByteSource(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool empty() const { return pos_ >= bytes_.size(); }
  std::uint8_t next() { return pos_ < bytes_.size() ? bytes_[pos_++] : 0; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

/// Up to `max_insns` slots, ending in `mov r0, 0; exit` so decode accepts them more often.
inline std::vector<vm::Insn> random_program(ByteSource& in, std::size_t max_insns) {
  using isa::Form;
  std::vector<vm::Insn> out;
  // Prologue: every register and 64 bytes of stack initialised, r6 = input, r7 = stack - 32.
  for (std::uint8_t r : {0, 3, 4, 5, 8, 9})
    out.push_back(vm::Insn{0xb7, r, 0, 0, static_cast<std::int32_t>(static_cast<std::int8_t>(in.next()))});
  out.push_back(vm::Insn{0xbf, 6, 1, 0, 0});   // mov r6, r1
  out.push_back(vm::Insn{0xbf, 7, 10, 0, 0});  // mov r7, r10
  out.push_back(vm::Insn{0x07, 7, 0, 0, -32}); // add r7, -32
  for (std::int16_t off = -64; off < 0; off += 8)
    out.push_back(vm::Insn{0x7a, 10, 0, off, static_cast<std::int32_t>(in.next() % 16)});  // stdw
  constexpr std::uint8_t kBases[] = {1, 6, 7, 10};
  while (!in.empty() && out.size() + 3 < max_insns) {
    const auto& op = isa::kOps[in.next() % isa::kNumOps];
    if (op.form == Form::CallLocal || op.form == Form::CallReg || op.form == Form::CallKfunc) continue;
    if (op.form == Form::PacketLoad) continue;  // LD_ABS/LD_IND need an skb program type
    if (op.form == Form::WideImm && op.src.value != 0) continue;  // no maps in random programs
    vm::Insn i;
    i.code = op.code;
    const std::uint8_t regs = in.next();
    i.dst = regs & 0x0f;
    i.src = regs >> 4;
    i.dst %= 10;
    i.src %= 11;
    if (op.form == Form::Load || op.form == Form::LoadSx) i.src = kBases[i.src % 4];
    if (op.form == Form::Store || op.form == Form::StoreReg || op.form == Form::Atomic) i.dst = kBases[i.dst % 4];
    const std::uint8_t o = in.next();
    const std::uint8_t m = in.next();
    if (op.form == Form::Jump || op.form == Form::Ja) {
      i.off = static_cast<std::int16_t>(static_cast<std::int8_t>(o) % 8);
      i.imm = static_cast<std::int8_t>(m);
    } else if (op.form == Form::Ja32) {
      i.imm = static_cast<std::int8_t>(o) % 8;
    } else if (op.form == Form::Call) {
      i.imm = (m & 1) ? 7 : 5;
    } else {
      i.off = static_cast<std::int16_t>(static_cast<std::int8_t>(o));
      if (op.form == Form::Load || op.form == Form::LoadSx || op.form == Form::Store || op.form == Form::StoreReg ||
          op.form == Form::Atomic)
        i.off = static_cast<std::int16_t>((i.src == 10 || i.dst == 10) ? -8 * (1 + (o % 8)) + (m & 7) % 4
                                                                       : static_cast<std::int8_t>(o) % 40);
      i.imm = (m & 0x80) ? static_cast<std::int32_t>(static_cast<std::int8_t>(m)) : (m % 72);
    }
    // Fixed fields (sdiv's off, movsx width, atomic op, byte-order width) come from the row.
    if (op.off.rule == isa::Rule::Fixed) i.off = static_cast<std::int16_t>(op.off.value);
    if (op.imm.rule == isa::Rule::Fixed) i.imm = op.imm.value;
    if (op.src.rule == isa::Rule::Fixed) i.src = static_cast<std::uint8_t>(op.src.value);
    if (op.src.rule == isa::Rule::Zero) i.src = 0;
    if (op.dst.rule == isa::Rule::Zero) i.dst = 0;
    if (op.off.rule == isa::Rule::Zero) i.off = 0;
    if (op.imm.rule == isa::Rule::Zero) i.imm = 0;
    out.push_back(i);
    if (op.form == Form::WideImm) out.push_back(vm::Insn{0, 0, 0, 0, static_cast<std::int32_t>(m)});
  }
  out.push_back(vm::Insn{0xb7, 0, 0, 0, 0});  // mov r0, 0
  out.push_back(vm::Insn{0x95, 0, 0, 0, 0});  // exit
  return out;
}

}  // namespace bpfvm::verifier::test
