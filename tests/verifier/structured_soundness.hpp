// Structured soundness fuzzing (issue #14): programs built from gadgets shaped like the verifier
// escapes — helpers that write memory (pop/peek/probe_read) over spilled pointers and map values,
// several objects from one map and their differences, read-only map values, ring buffer references,
// BPF-to-BPF calls passing and returning stack pointers, maybe-null comparisons, variable stack
// offsets and linked scalars. An accepted program runs in checked mode against helpers and maps that
// behave like the kernel's (lookups return distinct objects, pop/peek really write their value
// argument with a wild pattern); any fault is a verifier bug. Shared by the ctest property
// (test_structured_soundness.cpp) and the libFuzzer harness (fuzz_verifier_structured.cpp).
#pragma once

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "tests/verifier/random_program.hpp"
#include "tests/verifier/verifier_test_support.hpp"
#include "verifier/verifier.hpp"
#include "vm/interpreter.hpp"

namespace bpfvm::verifier::test {

// ---- generator -------------------------------------------------------------------------------------

namespace structured {

inline vm::Insn alu_imm(std::uint8_t code, std::uint8_t dst, std::int32_t imm) { return {code, dst, 0, 0, imm}; }
inline vm::Insn alu_reg(std::uint8_t code, std::uint8_t dst, std::uint8_t src) { return {code, dst, src, 0, 0}; }
constexpr std::uint8_t kMov = 0xb7, kMovReg = 0xbf, kAdd = 0x07, kAddReg = 0x0f, kSubReg = 0x1f, kAnd = 0x57,
                       kMulReg = 0x2f, kLsh = 0x67, kLdxdw = 0x79, kLdxb = 0x71, kStxdw = 0x7b, kStdw = 0x7a, kStb = 0x72,
                       kStw = 0x62, kJeqImm = 0x15, kJneReg = 0x5d, kJgtImm = 0x25, kJgeImm = 0x35, kCall = 0x85,
                       kExit = 0x95, kLddw = 0x18;

inline void lddw(std::vector<vm::Insn>& out, std::uint8_t dst, isa::LddwSrc src, std::int32_t imm, std::int32_t next = 0) {
  out.push_back(vm::Insn{kLddw, dst, static_cast<std::uint8_t>(src), 0, imm});
  out.push_back(vm::Insn{0, 0, 0, 0, next});
}

// Map indices of suite_maps(): 0 hash 4/8, 1 array 4/64 x16, 2 ringbuf, 3 read-only array 16 x1, 6 queue 8.
constexpr std::int32_t kHash = 0, kArray = 1, kRingbuf = 2, kReadOnly = 3, kQueue = 6;

}  // namespace structured

/// A program of gadgets drawn from `in`: registers r6 (input memory), r7/r8 (pointers from lookups or
/// elsewhere), r9 (a scalar from the input) survive across gadgets; r1-r5 and r0 are scratch. Two
/// subprograms follow the main function: `f0` returns its r1, `f1` stores through its r1.
inline std::vector<vm::Insn> structured_program(ByteSource& in, std::size_t max_gadgets) {
  using namespace structured;
  using isa::LddwSrc;
  std::vector<vm::Insn> out;
  std::vector<std::size_t> calls_f0, calls_f1;  // call insns to patch
  out.push_back(alu_reg(kMovReg, 6, 1));
  out.push_back(alu_imm(kMov, 7, 0));
  out.push_back(alu_imm(kMov, 8, 0));
  out.push_back(alu_imm(kMov, 9, in.next() & 63));
  for (std::int16_t off = -64; off < 0; off += 8) out.push_back(vm::Insn{kStdw, 10, 0, off, in.next() & 15});
  for (std::size_t g = 0; g < max_gadgets && !in.empty(); ++g) {
    const std::uint8_t kind = in.next() % 16, a = in.next(), b = in.next();
    const std::uint8_t holder = (a & 1) ? 8 : 7;
    const auto slot = static_cast<std::int16_t>(-8 * (1 + (b & 7)));
    switch (kind) {
      case 0: case 1: {  // lookup in one map: several objects; maybe keep the maybe-null result
        out.push_back(vm::Insn{kStw, 10, 0, -4, (b >> 3) & 7});
        lddw(out, 1, LddwSrc::MapFd, (a & 2) ? kArray : kHash);
        out.push_back(alu_reg(kMovReg, 2, 10));
        out.push_back(alu_imm(kAdd, 2, -4));
        out.push_back(alu_imm(kCall, 0, 1));
        if (a & 4) out.push_back(vm::Insn{kJeqImm, 0, 0, 1, 0});
        out.push_back(alu_reg(kMovReg, holder, 0));
        break;
      }
      case 2:  // spill a pointer (or the scalar) into a stack slot
        out.push_back(vm::Insn{kStxdw, 10, static_cast<std::uint8_t>((a & 6) == 0 ? 6 : (a & 6) == 2 ? 9 : holder), slot, 0});
        break;
      case 3:  // fill a slot and dereference it
        out.push_back(vm::Insn{kLdxdw, 2, 10, slot, 0});
        out.push_back(vm::Insn{(a & 2) ? kLdxdw : kLdxb, 0, 2, static_cast<std::int16_t>((a >> 2) & 7), 0});
        break;
      case 4: case 5: {  // pop/peek into the stack (a slot that may hold a spilled pointer) or a holder
        lddw(out, 1, LddwSrc::MapFd, kQueue);
        if (a & 2) {
          out.push_back(alu_reg(kMovReg, 2, holder));
        } else {
          out.push_back(alu_reg(kMovReg, 2, 10));
          out.push_back(alu_imm(kAdd, 2, slot));
        }
        out.push_back(alu_imm(kCall, 0, (b & 0x40) ? 88 : 89));
        break;
      }
      case 6: {  // probe_read into the stack or a holder
        out.push_back(alu_reg(kMovReg, 1, (a & 2) ? holder : 10));
        if (!(a & 2)) out.push_back(alu_imm(kAdd, 1, slot));
        out.push_back(alu_imm(kMov, 2, 1 + (b >> 4)));
        out.push_back(alu_imm(kMov, 3, 0));
        out.push_back(alu_imm(kCall, 0, 4));
        break;
      }
      case 7:  // distance between the holders, scaled by the scalar, added back, dereferenced
        out.push_back(alu_reg(kMovReg, 2, 8));
        out.push_back(alu_reg(kSubReg, 2, 7));
        if (a & 2) out.push_back(alu_reg(kMulReg, 2, 9));
        out.push_back(alu_reg(kMovReg, 3, 7));
        out.push_back(alu_reg(kAddReg, 3, 2));
        out.push_back(vm::Insn{kLdxb, 0, 3, 0, 0});
        break;
      case 8:  // a read-only map value, or the stack, into a holder
        if (a & 2) lddw(out, holder, LddwSrc::MapValue, kReadOnly, b & 15);
        else {
          out.push_back(alu_reg(kMovReg, holder, 10));
          out.push_back(alu_imm(kAdd, holder, slot));
        }
        break;
      case 9: {  // ring buffer reservation, maybe stored to, submitted or discarded (or leaked)
        if (a & 0x10) {  // the dynptr form: a dynptr at fp-48, maybe a slice of it in the holder
          lddw(out, 1, LddwSrc::MapFd, kRingbuf);
          out.push_back(alu_imm(kMov, 2, 8 * (1 + (b & 3))));
          out.push_back(alu_imm(kMov, 3, (b & 0x40) ? 1 : 0));  // flags != 0: a null dynptr
          out.push_back(alu_reg(kMovReg, 4, 10));
          out.push_back(alu_imm(kAdd, 4, -48));
          out.push_back(alu_imm(kCall, 0, 198));
          if (a & 2) {
            out.push_back(alu_reg(kMovReg, 1, 10));
            out.push_back(alu_imm(kAdd, 1, -48));
            out.push_back(alu_imm(kMov, 2, 8 * ((b >> 2) & 3)));
            out.push_back(alu_imm(kMov, 3, 8));
            out.push_back(alu_imm(kCall, 0, 203));
            out.push_back(alu_reg(kMovReg, holder, 0));  // maybe NULL
          }
          if (!(a & 4)) {
            out.push_back(alu_reg(kMovReg, 1, 10));
            out.push_back(alu_imm(kAdd, 1, -48));
            out.push_back(alu_imm(kMov, 2, 0));
            out.push_back(alu_imm(kCall, 0, (a & 8) ? 199 : 200));
          }
          if (b & 0x20) {  // a store through the slice, maybe released by now
            out.push_back(vm::Insn{kJeqImm, holder, 0, 1, 0});
            out.push_back(vm::Insn{kStxdw, holder, 9, 0, 0});
          }
          break;
        }
        lddw(out, 1, LddwSrc::MapFd, kRingbuf);
        out.push_back(alu_imm(kMov, 2, 8 * (1 + (b & 3))));
        out.push_back(alu_imm(kMov, 3, 0));
        out.push_back(alu_imm(kCall, 0, 131));
        const std::size_t skip = out.size();
        out.push_back(vm::Insn{kJeqImm, 0, 0, 0, 0});
        if (a & 2) out.push_back(vm::Insn{kStxdw, 0, 9, static_cast<std::int16_t>(8 * ((b >> 2) & 3)), 0});
        if (!(a & 4)) {
          out.push_back(alu_reg(kMovReg, 1, 0));
          out.push_back(alu_imm(kMov, 2, 0));
          out.push_back(alu_imm(kCall, 0, (a & 8) ? 132 : 133));
        }
        out[skip].off = static_cast<std::int16_t>(out.size() - skip - 1);
        break;
      }
      case 10: {  // maybe-null lookup compared with a holder
        out.push_back(vm::Insn{kStw, 10, 0, -4, b & 3});
        lddw(out, 1, LddwSrc::MapFd, (a & 2) ? kArray : kHash);
        out.push_back(alu_reg(kMovReg, 2, 10));
        out.push_back(alu_imm(kAdd, 2, -4));
        out.push_back(alu_imm(kCall, 0, 1));
        out.push_back(vm::Insn{kJneReg, 0, holder, 1, 0});
        out.push_back(vm::Insn{kLdxdw, 0, 0, 0, 0});
        break;
      }
      case 11: {  // variable-offset stack access
        out.push_back(alu_reg(kMovReg, 2, 9));
        out.push_back(alu_imm(kAnd, 2, (a & 2) ? 7 : 63));
        if (a & 4) out.push_back(alu_imm(kLsh, 2, 3));
        out.push_back(alu_reg(kMovReg, 3, 10));
        out.push_back(alu_imm(kAdd, 3, -64));
        out.push_back(alu_reg(kAddReg, 3, 2));
        if (a & 8) out.push_back(vm::Insn{kStb, 3, 0, static_cast<std::int16_t>(b & 7), 1});
        else out.push_back(vm::Insn{kLdxb, 0, 3, static_cast<std::int16_t>(b & 7), 0});
        break;
      }
      case 12: {  // linked scalars with a constant delta bounding a map value offset
        out.push_back(alu_reg(kMovReg, 2, 9));
        out.push_back(alu_imm(kAdd, 2, static_cast<std::int8_t>(b) % 16));
        out.push_back(vm::Insn{(a & 2) ? kJgeImm : kJgtImm, 2, 0, 3, static_cast<std::int32_t>(b & 63)});
        out.push_back(alu_reg(kMovReg, 3, holder));
        out.push_back(alu_reg(kAddReg, 3, 9));
        out.push_back(vm::Insn{kLdxb, 0, 3, 0, 0});
        break;
      }
      case 13: {  // BPF-to-BPF call with a stack pointer argument; f0 returns it, f1 stores through it
        out.push_back(alu_reg(kMovReg, 1, (a & 4) ? holder : 10));
        if (!(a & 4)) out.push_back(alu_imm(kAdd, 1, slot));
        ((a & 2) ? calls_f1 : calls_f0).push_back(out.size());
        out.push_back(vm::Insn{kCall, 0, 1, 0, 0});
        if (a & 8) out.push_back(vm::Insn{kLdxb, 2, 0, 0, 0});
        break;
      }
      case 14:  // the scalar from the input or a helper result
        if (a & 2) out.push_back(vm::Insn{kLdxb, 9, 6, static_cast<std::int16_t>(b & 7), 0});
        else out.push_back(alu_imm(kMov, 9, b & 127));
        break;
      case 15:  // bounds on the scalar
        out.push_back(vm::Insn{(a & 2) ? kJgeImm : kJgtImm, 9, 0, 1, static_cast<std::int32_t>(b & 63)});
        out.push_back(alu_imm(kMov, 9, 0));
        break;
    }
  }
  out.push_back(alu_imm(kMov, 0, 0));
  out.push_back(alu_imm(kExit, 0, 0));
  const std::size_t f0 = out.size();
  if (!calls_f0.empty()) {
    out.push_back(alu_reg(kMovReg, 0, 1));  // f0: return r1
    out.push_back(alu_imm(kExit, 0, 0));
  }
  const std::size_t f1 = out.size();
  if (!calls_f1.empty()) {
    out.push_back(vm::Insn{kStxdw, 1, 10, 0, 0});  // f1: *(u64 *)r1 = r10 (a pointer into the callee's frame)
    out.push_back(alu_imm(kMov, 0, 0));
    out.push_back(alu_imm(kExit, 0, 0));
  }
  for (std::size_t c : calls_f0) out[c].imm = static_cast<std::int32_t>(f0) - static_cast<std::int32_t>(c) - 1;
  for (std::size_t c : calls_f1) out[c].imm = static_cast<std::int32_t>(f1) - static_cast<std::int32_t>(c) - 1;
  return out;
}

// ---- the world an accepted program runs against -------------------------------------------------------

/// Map memory and helpers with the kernel's effects, for one run (RunContext::host points here).
struct StructuredWorld {
  std::array<std::array<std::uint8_t, 8>, 4> hash{};        // map 0: keys 0..3 exist
  std::array<std::array<std::uint8_t, 64>, 16> array{};     // map 1
  std::array<std::uint8_t, 16> read_only{};                 // map 3 (BPF_F_RDONLY_PROG)
  std::array<std::uint8_t, 64> ringbuf_record{};            // map 2: one reservation at a time
  bool reserved = false;
  std::size_t ringbuf_region = 0;  // its index in the run's regions: allowed only while reserved
  std::uint64_t wild = 0x4141414141414141ull;               // what pop/peek/probe_read write

  void add_regions(vm::RunContext& ctx) {
    for (auto& v : hash) ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(v.data()), v.size(), true, "hash value"});
    for (auto& v : array) ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(v.data()), v.size(), true, "array value"});
    ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(read_only.data()), read_only.size(), false, "read-only value"});
    ringbuf_region = ctx.regions.size();
    ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(ringbuf_record.data()), 0, true, "ringbuf"});
  }
  /// The record is program memory from its reservation to its submit or discard.
  void set_reserved(vm::RunContext* ctx, bool now) {
    reserved = now;
    ctx->regions[ringbuf_region].size_bytes = now ? ringbuf_record.size() : 0;
  }
};

namespace structured {

constexpr std::uint64_t kMapHandleBase = 0x10000;  // lddw map handles: base + index

inline StructuredWorld& world(vm::RunContext* ctx) { return *static_cast<StructuredWorld*>(ctx->host); }

// A helper's write into program memory, checked as the engines check stores.
inline bool write_bytes(vm::RunContext* ctx, std::uint64_t addr, std::size_t n, std::uint64_t pattern, const char* who) {
  if (!ctx->allowed(static_cast<std::uintptr_t>(addr), n, true)) {
    ctx->helper_fault = std::string(who) + " writes " + std::to_string(n) + " bytes at 0x" + std::to_string(addr) +
                        ", outside memory the program may write";
    return false;
  }
  for (std::size_t i = 0; i < n; ++i)
    std::memcpy(reinterpret_cast<void*>(addr + i), reinterpret_cast<const std::uint8_t*>(&pattern) + (i % 8), 1);
  return true;
}

inline std::uint64_t lookup(std::uint64_t map, std::uint64_t key_ptr, std::uint64_t, std::uint64_t, std::uint64_t,
                            vm::RunContext* ctx) {
  if (!ctx->allowed(static_cast<std::uintptr_t>(key_ptr), 4, false)) {
    ctx->helper_fault = "bpf_map_lookup_elem reads its key outside program memory";
    return 0;
  }
  std::uint32_t key;
  std::memcpy(&key, reinterpret_cast<const void*>(key_ptr), 4);
  auto& w = world(ctx);
  switch (map - kMapHandleBase) {
    case kHash: return key < w.hash.size() ? reinterpret_cast<std::uintptr_t>(w.hash[key].data()) : 0;
    case kArray: return key < w.array.size() ? reinterpret_cast<std::uintptr_t>(w.array[key].data()) : 0;
    case kReadOnly: return key == 0 ? reinterpret_cast<std::uintptr_t>(w.read_only.data()) : 0;
    default: return 0;
  }
}

inline std::uint64_t pop_peek(std::uint64_t, std::uint64_t value, std::uint64_t, std::uint64_t, std::uint64_t,
                              vm::RunContext* ctx) {
  write_bytes(ctx, value, 8, world(ctx).wild, "bpf_map_pop_elem/peek_elem");
  return 0;
}

inline std::uint64_t probe_read(std::uint64_t dst, std::uint64_t size, std::uint64_t, std::uint64_t, std::uint64_t,
                                vm::RunContext* ctx) {
  write_bytes(ctx, dst, static_cast<std::size_t>(size), world(ctx).wild, "bpf_probe_read");
  return 0;
}

inline std::uint64_t reserve(std::uint64_t, std::uint64_t size, std::uint64_t, std::uint64_t, std::uint64_t,
                             vm::RunContext* ctx) {
  auto& w = world(ctx);
  if (w.reserved || size > w.ringbuf_record.size()) return 0;
  w.set_reserved(ctx, true);
  return reinterpret_cast<std::uintptr_t>(w.ringbuf_record.data());
}

inline std::uint64_t release(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                             vm::RunContext* ctx) {
  world(ctx).set_reserved(ctx, false);
  return 0;
}

// Ring buffer dynptrs: {record or 0, size} in the program's 16 bytes, as bpfvm's helpers lay them out.
inline std::uint64_t reserve_dynptr(std::uint64_t map, std::uint64_t size, std::uint64_t flags, std::uint64_t dp,
                                    std::uint64_t, vm::RunContext* ctx) {
  const std::uint64_t record = flags != 0 ? 0 : reserve(map, size, 0, 0, 0, ctx);
  const std::uint64_t words[2] = {record, record != 0 ? size : 0};
  if (!ctx->allowed(static_cast<std::uintptr_t>(dp), 16, true)) {
    ctx->helper_fault = "bpf_ringbuf_reserve_dynptr writes its dynptr outside memory the program may write";
    return 0;
  }
  std::memcpy(reinterpret_cast<void*>(dp), words, 16);
  return record != 0 ? 0 : static_cast<std::uint64_t>(-22);  // -EINVAL
}

inline bool read_dynptr(vm::RunContext* ctx, std::uint64_t dp, std::uint64_t (&words)[2], const char* who) {
  if (!ctx->allowed(static_cast<std::uintptr_t>(dp), 16, false)) {
    ctx->helper_fault = std::string(who) + " reads its dynptr outside program memory";
    return false;
  }
  std::memcpy(words, reinterpret_cast<const void*>(dp), 16);
  return true;
}

inline std::uint64_t release_dynptr(std::uint64_t dp, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                    vm::RunContext* ctx) {
  std::uint64_t words[2];
  if (!read_dynptr(ctx, dp, words, "bpf_ringbuf_submit/discard_dynptr")) return 0;
  if (words[0] != 0) world(ctx).set_reserved(ctx, false);
  std::memset(reinterpret_cast<void*>(dp), 0, 16);
  return 0;
}

inline std::uint64_t dynptr_data(std::uint64_t dp, std::uint64_t off, std::uint64_t len, std::uint64_t, std::uint64_t,
                                 vm::RunContext* ctx) {
  std::uint64_t words[2];
  if (!read_dynptr(ctx, dp, words, "bpf_dynptr_data") || words[0] == 0) return 0;
  return off <= words[1] && len <= words[1] - off ? words[0] + off : 0;
}

inline std::uint64_t fails(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, vm::RunContext*) {
  return static_cast<std::uint64_t>(-2);  // -ENOENT
}

}  // namespace structured

/// The suite's helper signatures (kernel_like_helpers) with the functions above behind them.
inline vm::HelperRegistry structured_helpers() {
  vm::HelperRegistry r = kernel_like_helpers();
  auto set = [&](std::uint32_t id, vm::HelperFn fn) {
    if (const vm::HelperEntry* e = r.find(id)) {
      vm::HelperEntry copy = *e;
      copy.fn = fn;
      r.add(std::move(copy));
    }
  };
  set(1, structured::lookup);
  set(2, structured::fails);
  set(3, structured::fails);
  set(4, structured::probe_read);
  set(88, structured::pop_peek);
  set(89, structured::pop_peek);
  set(131, structured::reserve);
  set(132, structured::release);
  set(133, structured::release);
  set(198, structured::reserve_dynptr);
  set(199, structured::release_dynptr);
  set(200, structured::release_dynptr);
  set(203, structured::dynptr_data);
  return r;
}

/// Verifies one structured program (plain type, suite maps); when accepted, runs it in checked mode on
/// inputs 0x00.., 0xff.. and pseudo-random bytes. nullopt: refused, or every run clean; else the fault.
inline std::optional<std::string> structured_case(std::span<const std::uint8_t> bytes, const vm::HelperRegistry& helpers,
                                                  bool* accepted = nullptr, std::string* refusal = nullptr) {
  if (accepted) *accepted = false;
  if (bytes.size() < 2) return std::nullopt;
  const std::uint32_t mem_size = 8u * (1 + bytes[0] % 8);
  ByteSource src(bytes.subspan(1));
  auto program = vm::decode_program(structured_program(src, 24), "structured");
  if (!program) {
    if (refusal) *refusal = program.error().message();
    return std::nullopt;
  }
  VerifierOptions opts;
  opts.program_type = program_types::plain(mem_size);
  opts.helpers = &helpers;
  opts.maps = suite_maps();
  opts.max_processed_insns = 100'000;
  // A hostile input may make verification slow (state compares, not insns): stop it well before
  // libFuzzer's -timeout (fuzz_verifier_structured) would call it a hang.
  opts.max_time_us = 1'000'000;
  auto verified = verify(*program, opts);
  if (!verified) {
    if (refusal) *refusal = verified.error().message();
    return std::nullopt;
  }
  if (accepted) *accepted = true;
  StructuredWorld world;
  const vm::PseudoResolver resolve = [&world](isa::LddwSrc s, std::int32_t imm, std::int32_t next,
                                              std::uint32_t) -> Result<std::uint64_t> {
    if (s == isa::LddwSrc::MapFd) return structured::kMapHandleBase + static_cast<std::uint32_t>(imm);
    if (s == isa::LddwSrc::MapValue && imm == structured::kReadOnly)
      return reinterpret_cast<std::uintptr_t>(world.read_only.data()) + static_cast<std::uint32_t>(next);
    return make_error(Errc::Unsupported, "structured world: no such map value");
  };
  auto interp = vm::Interpreter::create(verified->program(), helpers, resolve);
  if (!interp) return "interpreter refused a verified program: " + interp.error().message();
  std::uint64_t seed = bytes.size();
  for (int run = 0; run < 3; ++run) {
    world = StructuredWorld{};
    std::vector<std::uint8_t> mem(mem_size);
    for (auto& b : mem) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      b = static_cast<std::uint8_t>(run == 0 ? 0 : run == 1 ? 0xff : seed >> 56);
    }
    vm::RunContext ctx;
    ctx.host = &world;
    ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(mem.data()), mem.size(), true, "mem"});
    world.add_regions(ctx);
    const std::uint64_t args[] = {reinterpret_cast<std::uintptr_t>(mem.data()), mem.size()};
    auto r = interp->run(ctx, args, vm::ExecOptions{1u << 20, true});
    if (!r) return r.error().message();
  }
  return std::nullopt;
}

}  // namespace bpfvm::verifier::test
