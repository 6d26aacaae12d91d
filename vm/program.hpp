// The program model: raw instruction slots, their decoded rows, and decoding/encoding of bytecode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpfvm/result.hpp"
#include "vm/isa.hpp"

namespace bpfvm::vm {

/// One 8-byte instruction slot as it is encoded (RFC 9669 section 3).
struct Insn {
  std::uint8_t code = 0;
  std::uint8_t dst = 0;  // low nibble of byte 1 (little-endian layout)
  std::uint8_t src = 0;  // high nibble of byte 1
  std::int16_t off = 0;
  std::int32_t imm = 0;

  friend bool operator==(const Insn&, const Insn&) = default;
};

inline constexpr std::size_t kInsnBytes = 8;

/// Decode one slot from 8 little-endian bytes.
Insn insn_from_bytes(std::span<const std::uint8_t, kInsnBytes> bytes);
/// Encode one slot into 8 little-endian bytes.
void insn_to_bytes(const Insn& insn, std::span<std::uint8_t, kInsnBytes> out);

/// The kernel function a `call kfunc` names: the call's imm (the BTF id the kernel would see, or an id
/// the loader chose when no target BTF gave one) and the function's name, which every stage uses.
struct KfuncRef {
  std::int32_t btf_id = 0;
  std::string name;
  friend bool operator==(const KfuncRef&, const KfuncRef&) = default;
};

/// A decoded, structurally valid program: every slot names its table row, jumps and calls land on
/// instruction starts inside the program, and control cannot fall off the end.
struct Program {
  std::string name;                 // for messages; the file or ELF section it came from
  std::vector<Insn> insns;          // raw slots; lddw takes two
  std::vector<isa::OpId> ops;       // row per slot; isa::kNoOp on the second slot of lddw
  std::vector<KfuncRef> kfuncs;     // the kernel functions `call kfunc` insns name, by imm (may be empty)

  std::size_t size() const { return insns.size(); }
  const isa::OpInfo& op(std::size_t pc) const { return isa::kOps[ops[pc]]; }
  /// Name of the kfunc a `call kfunc` with this imm calls, or nullptr when the program does not say.
  const std::string* kfunc_name(std::int32_t imm) const {
    for (const auto& k : kfuncs)
      if (k.btf_id == imm) return &k.name;
    return nullptr;
  }
  /// 64-bit immediate of the lddw starting at pc.
  std::uint64_t wide_imm(std::size_t pc) const {
    return std::uint64_t(std::uint32_t(insns[pc].imm)) | (std::uint64_t(std::uint32_t(insns[pc + 1].imm)) << 32);
  }
};

/// Find the table row an instruction slot encodes, or explain which field is wrong.
Result<isa::OpId> decode_insn(const Insn& insn, std::uint32_t pc);

/// Decode and validate a whole program from raw slots.
Result<Program> decode_program(std::vector<Insn> insns, std::string name = {});
/// Decode and validate a program from little-endian bytecode (length must be a multiple of 8).
Result<Program> decode_program(std::span<const std::uint8_t> bytes, std::string name = {});

/// Little-endian bytecode of a program's slots.
std::vector<std::uint8_t> encode_program(std::span<const Insn> insns);

/// The insn writes r10, the read-only frame pointer (a RegWrite dst of 10, or the src a fetching
/// atomic loads into). Decode accepts it, since the kernel refuses such a write only on a path its
/// verifier explores; the verifier refuses explored ones and turns dead ones into `exit`, and no
/// engine prepares a program that still holds one (first_frame_pointer_write).
bool writes_frame_pointer(const isa::OpInfo& op, const Insn& insn);
/// The error an engine gives for a program holding an insn that writes r10, or none.
std::optional<Error> frame_pointer_write_error(const Program& program);

/// Target slot of the jump or local call at pc (no range check).
std::int64_t branch_target(const Insn& insn, const isa::OpInfo& op, std::size_t pc);

}  // namespace bpfvm::vm
