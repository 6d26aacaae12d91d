// The eBPF instruction set (RFC 9669 incl. v4), modeled once: one row per operation.
// Decoder, encoder, assembler, disassembler, interpreter, verifier and JITs all read this table;
// no other file knows opcode bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace bpfvm::isa {

template <class E>
constexpr std::underlying_type_t<E> to_underlying(E e) noexcept {
  return static_cast<std::underlying_type_t<E>>(e);
}

/// How an engine executes a row; engines switch over Form with no default.
enum class Form : std::uint8_t {
  Alu,        // dst = dst OP src|imm (binary ALU, incl. mov/movsx/sdiv/smod)
  AluUnary,   // neg, le/be/bswap: dst = OP(dst)
  Load,       // dst = *(size *)(src + off), zero-extended
  LoadSx,     // dst = *(signed size *)(src + off), sign-extended (MEMSX)
  Store,      // *(size *)(dst + off) = imm
  StoreReg,   // *(size *)(dst + off) = src
  Atomic,     // lock-prefixed read-modify-write on *(size *)(dst + off)
  WideImm,    // lddw: two slots, 64-bit immediate or a pseudo source
  Jump,       // conditional jump, 32 (JMP32) or 64-bit compare
  Ja,         // unconditional jump, offset in off (16 bit)
  Ja32,       // unconditional jump, offset in imm (32 bit)
  Call,       // helper call by id (src 0)
  CallLocal,  // BPF-to-BPF call, imm = relative target (src 1)
  CallReg,    // callx: target in register dst
  CallKfunc,  // kernel function call (src 2, BPF_PSEUDO_KFUNC_CALL): imm = the kfunc's BTF id, off = the
              // BTF it is in (0 = vmlinux, else a module BTF's fd_array index); Program::kfuncs names it
  Exit,
  PacketLoad, // legacy LD_ABS/LD_IND: r0 = big-endian packet bytes of the skb in r6; r1-r5 unreadable
              // after it (verifier); out of the packet the current function returns 0 (gen_ld_abs's exit)
};

/// The semantic operation of a row. Width and operand source come from the row.
enum class Kind : std::uint8_t {
  // Alu
  Add, Sub, Mul, Div, SDiv, Or, And, Lsh, Rsh, Mod, SMod, Xor, Mov, MovSx, Arsh,
  // AluUnary
  Neg, ToLe, ToBe, Bswap,
  // memory
  Ldx, LdxSx, St, Stx, Lddw,
  // Atomic
  AtomicAdd, AtomicOr, AtomicAnd, AtomicXor, Xchg, CmpXchg,
  // Jump
  Ja, Jeq, Jgt, Jge, Jset, Jne, Jsgt, Jsge, Jlt, Jle, Jslt, Jsle,
  // Calls
  Call, CallLocal, CallReg, CallKfunc, Exit,
  // PacketLoad: offset imm (LdAbs) or src + imm (LdInd)
  LdAbs, LdInd,
};

/// What decode accepts in one instruction field.
enum class Rule : std::uint8_t {
  Zero,      // must be zero
  Reg,       // register r0..r10 (read)
  RegWrite,  // register r0..r10, written. r10 (the read-only frame pointer) decodes, as the kernel
             // refuses only a write its verifier explores: see vm::writes_frame_pointer
  Any,       // any value
  Fixed,     // exactly FieldRule::value (tells apart rows that share an opcode byte)
};

struct FieldRule {
  Rule rule = Rule::Zero;
  std::int32_t value = 0;
  constexpr bool accepts(std::int64_t v) const {
    switch (rule) {
      case Rule::Zero: return v == 0;
      case Rule::Reg: return v >= 0 && v <= 10;
      case Rule::RegWrite: return v >= 0 && v <= 10;
      case Rule::Any: return true;
      case Rule::Fixed: return v == value;
    }
    return false;
  }
};

/// Source of an ALU/jump second operand.
enum class Operand : std::uint8_t { None, Imm, Reg };

/// Pseudo sources of lddw (src field), as the kernel defines them.
enum class LddwSrc : std::uint8_t {
  Imm64 = 0,           // plain 64-bit immediate
  MapFd = 1,           // BPF_PSEUDO_MAP_FD: imm = map fd/index → map pointer
  MapValue = 2,        // BPF_PSEUDO_MAP_VALUE: imm = map, next imm = offset into value
  BtfId = 3,           // BPF_PSEUDO_BTF_ID: kernel symbol
  Func = 4,            // BPF_PSEUDO_FUNC: imm = relative insn offset → code pointer
  MapIdx = 5,          // BPF_PSEUDO_MAP_IDX
  MapIdxValue = 6,     // BPF_PSEUDO_MAP_IDX_VALUE
};

/// One row of the table: an operation and the exact encoding it owns.
struct OpInfo {
  std::uint8_t code;             // opcode byte
  Kind kind;
  Form form;
  std::uint8_t width;            // ALU/jump: 32 or 64; memory: access bits; byte order: 16/32/64
  Operand operand;               // second operand of ALU and jumps
  FieldRule dst, src, off, imm;  // what decode accepts in each field
  std::string_view mnemonic;     // conformance-dialect spelling
};

// Opcode byte pieces (RFC 9669 section 3 and 4), used only to build the table below.
namespace enc {
inline constexpr std::uint8_t kLd = 0x00, kLdx = 0x01, kSt = 0x02, kStx = 0x03, kAlu32 = 0x04,
                              kJmp64 = 0x05, kJmp32 = 0x06, kAlu64 = 0x07;
inline constexpr std::uint8_t kSrcK = 0x00, kSrcX = 0x08;
inline constexpr std::uint8_t kSizeW = 0x00, kSizeH = 0x08, kSizeB = 0x10, kSizeDW = 0x18;
inline constexpr std::uint8_t kModeImm = 0x00, kModeAbs = 0x20, kModeInd = 0x40, kModeMem = 0x60,
                              kModeMemSx = 0x80, kModeAtomic = 0xc0;
inline constexpr std::int32_t kFetch = 0x01;
}  // namespace enc

namespace detail {
using enum Kind;
using F = Form;
using enc::kSrcK;
using enc::kSrcX;

inline constexpr FieldRule kZ{Rule::Zero};
inline constexpr FieldRule kR{Rule::Reg};
inline constexpr FieldRule kW{Rule::RegWrite};
inline constexpr FieldRule kA{Rule::Any};
constexpr FieldRule fixed(std::int32_t v) { return {Rule::Fixed, v}; }

constexpr std::uint8_t alu_class(int width) { return width == 64 ? enc::kAlu64 : enc::kAlu32; }
constexpr std::uint8_t jmp_class(int width) { return width == 64 ? enc::kJmp64 : enc::kJmp32; }

// Binary ALU op in both widths and both sources: 4 rows.
template <std::size_t N>
struct Rows {
  std::array<OpInfo, N> rows{};
  std::size_t n = 0;
  constexpr void add(OpInfo r) { rows[n++] = r; }
};

constexpr std::uint8_t size_bits(std::uint8_t size_code) {
  return size_code == enc::kSizeB ? 8 : size_code == enc::kSizeH ? 16 : size_code == enc::kSizeW ? 32 : 64;
}

constexpr auto build_table() {
  Rows<200> t;
  struct BinOp { Kind kind; std::uint8_t op; std::int32_t off; std::string_view m64, m32; };
  constexpr BinOp kBin[] = {
      {Add, 0x00, 0, "add", "add32"},   {Sub, 0x10, 0, "sub", "sub32"},
      {Mul, 0x20, 0, "mul", "mul32"},   {Div, 0x30, 0, "div", "div32"},
      {SDiv, 0x30, 1, "sdiv", "sdiv32"}, {Or, 0x40, 0, "or", "or32"},
      {And, 0x50, 0, "and", "and32"},   {Lsh, 0x60, 0, "lsh", "lsh32"},
      {Rsh, 0x70, 0, "rsh", "rsh32"},   {Mod, 0x90, 0, "mod", "mod32"},
      {SMod, 0x90, 1, "smod", "smod32"}, {Xor, 0xa0, 0, "xor", "xor32"},
      {Mov, 0xb0, 0, "mov", "mov32"},   {Arsh, 0xc0, 0, "arsh", "arsh32"},
  };
  for (int width : {64, 32}) {
    for (const auto& b : kBin) {
      const auto m = width == 64 ? b.m64 : b.m32;
      const FieldRule off = b.off ? fixed(b.off) : kZ;
      t.add({std::uint8_t(alu_class(width) | kSrcK | b.op), b.kind, F::Alu, std::uint8_t(width),
             Operand::Imm, kW, kZ, off, kA, m});
      t.add({std::uint8_t(alu_class(width) | kSrcX | b.op), b.kind, F::Alu, std::uint8_t(width),
             Operand::Reg, kW, kR, off, kZ, m});
    }
    // neg: BPF_K only.
    t.add({std::uint8_t(alu_class(width) | kSrcK | 0x80), Neg, F::AluUnary, std::uint8_t(width),
           Operand::None, kW, kZ, kZ, kZ, width == 64 ? "neg" : "neg32"});
  }
  // movsx: mov with off = source bits; 64-bit takes 8/16/32, 32-bit takes 8/16 (RFC 9669 4.1).
  t.add({0xbf, MovSx, F::Alu, 64, Operand::Reg, kW, kR, fixed(8), kZ, "movsx864"});
  t.add({0xbf, MovSx, F::Alu, 64, Operand::Reg, kW, kR, fixed(16), kZ, "movsx1664"});
  t.add({0xbf, MovSx, F::Alu, 64, Operand::Reg, kW, kR, fixed(32), kZ, "movsx3264"});
  t.add({0xbc, MovSx, F::Alu, 32, Operand::Reg, kW, kR, fixed(8), kZ, "movsx832"});
  t.add({0xbc, MovSx, F::Alu, 32, Operand::Reg, kW, kR, fixed(16), kZ, "movsx1632"});
  // Byte order: ALU32 END with source bit = to-LE (K) / to-BE (X); ALU64 END K = bswap. imm = width.
  constexpr std::string_view kLe[] = {"le16", "le32", "le64"}, kBe[] = {"be16", "be32", "be64"},
                             kSwap[] = {"bswap16", "bswap32", "bswap64"};
  for (int i = 0; i < 3; ++i) {
    const std::uint8_t w = std::uint8_t(16 << i);
    t.add({0xd4, ToLe, F::AluUnary, w, Operand::None, kW, kZ, kZ, fixed(w), kLe[i]});
    t.add({0xdc, ToBe, F::AluUnary, w, Operand::None, kW, kZ, kZ, fixed(w), kBe[i]});
    t.add({0xd7, Bswap, F::AluUnary, w, Operand::None, kW, kZ, kZ, fixed(w), kSwap[i]});
  }
  // Loads and stores.
  struct Size { std::uint8_t code; std::string_view sfx; };
  constexpr Size kSizes[] = {{enc::kSizeB, "b"}, {enc::kSizeH, "h"}, {enc::kSizeW, "w"}, {enc::kSizeDW, "dw"}};
  constexpr std::string_view kLdx[] = {"ldxb", "ldxh", "ldxw", "ldxdw"},
                             kLdxs[] = {"ldxsb", "ldxsh", "ldxsw", ""},
                             kSt[] = {"stb", "sth", "stw", "stdw"},
                             kStx[] = {"stxb", "stxh", "stxw", "stxdw"};
  for (int i = 0; i < 4; ++i) {
    const auto s = kSizes[i];
    const auto bits = size_bits(s.code);
    t.add({std::uint8_t(enc::kLdx | enc::kModeMem | s.code), Ldx, F::Load, bits, Operand::Reg, kW, kR, kA, kZ, kLdx[i]});
    if (s.code != enc::kSizeDW)
      t.add({std::uint8_t(enc::kLdx | enc::kModeMemSx | s.code), LdxSx, F::LoadSx, bits, Operand::Reg, kW, kR, kA, kZ, kLdxs[i]});
    t.add({std::uint8_t(enc::kSt | enc::kModeMem | s.code), St, F::Store, bits, Operand::Imm, kR, kZ, kA, kA, kSt[i]});
    t.add({std::uint8_t(enc::kStx | enc::kModeMem | s.code), Stx, F::StoreReg, bits, Operand::Reg, kR, kR, kA, kZ, kStx[i]});
  }
  // Legacy packet loads (RFC 9669 5.5): BPF_LD with mode ABS/IND, sizes B/H/W; the DW forms do not
  // exist (the kernel refuses them). dst must be 0 and off 0 (kernel: "uses reserved fields").
  constexpr std::string_view kLdAbs[] = {"ldabsb", "ldabsh", "ldabsw"}, kLdInd[] = {"ldindb", "ldindh", "ldindw"};
  for (int i = 0; i < 3; ++i) {
    const auto s = kSizes[i];
    const auto bits = size_bits(s.code);
    t.add({std::uint8_t(enc::kLd | enc::kModeAbs | s.code), LdAbs, F::PacketLoad, bits, Operand::Imm, kZ, kZ, kZ, kA, kLdAbs[i]});
    t.add({std::uint8_t(enc::kLd | enc::kModeInd | s.code), LdInd, F::PacketLoad, bits, Operand::Reg, kZ, kR, kZ, kA, kLdInd[i]});
  }
  // lddw: one row per pseudo source.
  constexpr std::string_view kLddw[] = {"lddw", "lddw_map_fd", "lddw_map_value", "lddw_btf_id",
                                        "lddw_func", "lddw_map_idx", "lddw_map_idx_value"};
  for (int src = 0; src <= 6; ++src)
    t.add({0x18, Lddw, F::WideImm, 64, Operand::Imm, kW, fixed(src), kZ, kA, kLddw[src]});
  // Atomics: imm selects the operation; FETCH returns the old value in src.
  struct AtomicOp { Kind kind; std::int32_t imm; std::string_view m; };
  constexpr AtomicOp kAtomics[] = {
      {AtomicAdd, 0x00, "add"}, {AtomicOr, 0x40, "or"}, {AtomicAnd, 0x50, "and"},
      {AtomicXor, 0xa0, "xor"}, {AtomicAdd, 0x01, "fetch add"}, {AtomicOr, 0x41, "fetch or"},
      {AtomicAnd, 0x51, "fetch and"}, {AtomicXor, 0xa1, "fetch xor"},
      {Xchg, 0xe1, "xchg"}, {CmpXchg, 0xf1, "cmpxchg"},
  };
  for (int width : {64, 32}) {
    const std::uint8_t code = enc::kStx | enc::kModeAtomic | (width == 64 ? enc::kSizeDW : enc::kSizeW);
    for (const auto& a : kAtomics)
      t.add({code, a.kind, F::Atomic, std::uint8_t(width), Operand::Reg, kR, kR, kA, fixed(a.imm), a.m});
  }
  // Jumps.
  t.add({0x05, Ja, F::Ja, 64, Operand::None, kZ, kZ, kA, kZ, "ja"});
  t.add({0x06, Ja, F::Ja32, 32, Operand::None, kZ, kZ, kZ, kA, "ja32"});
  struct JmpOp { Kind kind; std::uint8_t op; std::string_view m64, m32; };
  constexpr JmpOp kJmps[] = {
      {Jeq, 0x10, "jeq", "jeq32"},   {Jgt, 0x20, "jgt", "jgt32"},   {Jge, 0x30, "jge", "jge32"},
      {Jset, 0x40, "jset", "jset32"}, {Jne, 0x50, "jne", "jne32"},   {Jsgt, 0x60, "jsgt", "jsgt32"},
      {Jsge, 0x70, "jsge", "jsge32"}, {Jlt, 0xa0, "jlt", "jlt32"},   {Jle, 0xb0, "jle", "jle32"},
      {Jslt, 0xc0, "jslt", "jslt32"}, {Jsle, 0xd0, "jsle", "jsle32"},
  };
  for (int width : {64, 32}) {
    for (const auto& j : kJmps) {
      const auto m = width == 64 ? j.m64 : j.m32;
      t.add({std::uint8_t(jmp_class(width) | kSrcK | j.op), j.kind, F::Jump, std::uint8_t(width),
             Operand::Imm, kR, kZ, kA, kA, m});
      t.add({std::uint8_t(jmp_class(width) | kSrcX | j.op), j.kind, F::Jump, std::uint8_t(width),
             Operand::Reg, kR, kR, kA, kZ, m});
    }
  }
  // Calls and exit. callx (0x8d) names its target register in dst (RFC 9669 / LLVM encoding).
  t.add({0x85, Call, F::Call, 64, Operand::Imm, kZ, fixed(0), kZ, kA, "call"});
  t.add({0x85, CallLocal, F::CallLocal, 64, Operand::Imm, kZ, fixed(1), kZ, kA, "call local"});
  t.add({0x85, CallKfunc, F::CallKfunc, 64, Operand::Imm, kZ, fixed(2), kA, kA, "call kfunc"});
  t.add({0x8d, CallReg, F::CallReg, 64, Operand::Reg, kR, kZ, kZ, kZ, "callx"});
  t.add({0x95, Exit, F::Exit, 64, Operand::None, kZ, kZ, kZ, kZ, "exit"});
  return t;
}

inline constexpr auto kBuilt = build_table();
}  // namespace detail

inline constexpr std::size_t kNumOps = detail::kBuilt.n;

/// Every operation, one row each. A row's index is its OpId.
inline constexpr auto kOps = [] {
  std::array<OpInfo, kNumOps> ops{};
  for (std::size_t i = 0; i < kNumOps; ++i) ops[i] = detail::kBuilt.rows[i];
  // Stable insertion sort by opcode byte, so rows sharing a byte form one range for kCodeIndex.
  for (std::size_t i = 1; i < kNumOps; ++i)
    for (std::size_t j = i; j > 0 && ops[j - 1].code > ops[j].code; --j) std::swap(ops[j - 1], ops[j]);
  return ops;
}();

using OpId = std::uint16_t;
inline constexpr OpId kNoOp = 0xffff;

/// For each opcode byte, the first row with that byte and how many rows share it.
struct CodeIndex {
  std::uint16_t first = kNoOp;
  std::uint8_t count = 0;
};

inline constexpr auto kCodeIndex = [] {
  std::array<CodeIndex, 256> idx{};
  for (std::size_t i = 0; i < kNumOps; ++i) {
    auto& e = idx[kOps[i].code];
    if (e.count == 0) e.first = static_cast<std::uint16_t>(i);
    ++e.count;
  }
  return idx;
}();

namespace detail {
// Rows sharing an opcode byte must be contiguous so kCodeIndex can describe them as a range.
constexpr bool rows_with_same_code_are_contiguous() {
  for (std::size_t i = 0; i < kNumOps; ++i) {
    const auto& e = kCodeIndex[kOps[i].code];
    if (i < e.first || i >= std::size_t(e.first) + e.count) return false;
  }
  return true;
}
// Two rows with the same opcode byte must differ in a Fixed field, or decode would be ambiguous.
constexpr bool rows_are_distinguishable() {
  for (std::size_t i = 0; i < kNumOps; ++i)
    for (std::size_t j = i + 1; j < kNumOps; ++j) {
      const auto& a = kOps[i];
      const auto& b = kOps[j];
      if (a.code != b.code) continue;
      auto excludes = [](FieldRule x, FieldRule y) { return x.rule == Rule::Fixed && !y.accepts(x.value); };
      const bool differ = excludes(a.off, b.off) || excludes(b.off, a.off) || excludes(a.imm, b.imm) ||
                          excludes(b.imm, a.imm) || excludes(a.src, b.src) || excludes(b.src, a.src);
      if (!differ) return false;
    }
  return true;
}
}  // namespace detail

static_assert(kNumOps < 200, "grow Rows<> in build_table");
static_assert(detail::rows_with_same_code_are_contiguous(), "rows sharing an opcode must be adjacent");
static_assert(detail::rows_are_distinguishable(), "rows sharing an opcode must differ in a fixed field");

/// Row lookup by mnemonic (assembler). Returns every row with that spelling via a callback-free scan.
constexpr OpId find_op(std::string_view mnemonic, Operand operand) {
  for (std::size_t i = 0; i < kNumOps; ++i)
    if (kOps[i].mnemonic == mnemonic && kOps[i].operand == operand) return static_cast<OpId>(i);
  return kNoOp;
}

constexpr bool is_wide(const OpInfo& op) { return op.form == Form::WideImm; }

/// Upper bound on BPF-to-BPF call nesting, as in the kernel (MAX_CALL_FRAMES).
inline constexpr int kMaxCallFrames = 8;
/// Tail calls one run may take (the kernel's MAX_TAIL_CALL_CNT).
inline constexpr int kMaxTailCalls = 33;
/// Frames the engines give one run: a tail call from a subprogram continues in the target on the
/// subprogram's frame, and the target's exit returns to the subprogram's caller, so a chain of tail
/// calls taken one frame deep (program -> subprogram -> tail call -> ...) nests one frame per tail call
/// (the kernel runs such a chain 33 times). Deeper chains stop with Errc::CallDepth.
inline constexpr int kMaxRunFrames = kMaxCallFrames + kMaxTailCalls;
/// Bytes of stack per frame (MAX_BPF_STACK).
inline constexpr std::size_t kStackBytes = 512;
/// The register LD_ABS/LD_IND read the skb context from (the kernel's implicit BPF_REG_CTX input).
inline constexpr int kPacketLoadCtxReg = 6;
/// Registers r0..r10.
inline constexpr int kNumRegs = 11;
inline constexpr int kFramePointer = 10;

}  // namespace bpfvm::isa
