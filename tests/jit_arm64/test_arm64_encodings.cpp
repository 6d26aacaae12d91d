// Expected machine code of single arm64 emitter calls: one row per instruction, the A64 words
// between its pc label and the next (fast variant, no blinding). Checked against
// `aarch64-linux-gnu-objdump -D -b binary -m aarch64`.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/jit/jit_test_support.hpp"
#include "vm/assembler.hpp"

using namespace bpfvm;

namespace {
struct Row {
  const char* asm_text;  // one instruction; an `exit` is appended
  std::vector<std::uint32_t> words;
  const char* native;    // what the words say (r0 = x7, r1..r5 = x0..x4, r6..r9 = x19..x22, r10 = x25)
};

std::vector<std::uint32_t> words_of_first(const char* text) {
  auto insns = vm::assemble(std::string(text) + "\nexit\n");
  REQUIRE(insns);
  auto program = vm::decode_program(*insns);
  REQUIRE(program);
  const auto helpers = testing::test_helpers();
  auto jp = jit::JitProgram::compile(*program, helpers);
  REQUIRE(jp);
  const auto code = jp->code(jit::Variant::Fast);
  const auto last = static_cast<std::uint32_t>(program->size() - 1);
  const auto begin = jp->native_offset(jit::Variant::Fast, 0);
  const auto end = jp->native_offset(jit::Variant::Fast, last);
  std::vector<std::uint32_t> words;
  for (auto at = begin; at + 4 <= end; at += 4)
    words.push_back(std::uint32_t(code[at]) | std::uint32_t(code[at + 1]) << 8 |
                    std::uint32_t(code[at + 2]) << 16 | std::uint32_t(code[at + 3]) << 24);
  return words;
}

std::string hex(const std::vector<std::uint32_t>& words) {
  std::string s;
  char buf[16];
  for (auto w : words) {
    std::snprintf(buf, sizeof buf, "0x%08x ", w);
    s += buf;
  }
  return s;
}
}  // namespace

TEST_CASE("arm64 emitter: expected words per instruction", "[jit][encoding]") {
  const Row rows[] = {
      // Logical (shifted register) and Move wide (immediate).
      {"mov %r0, %r1", {0xaa0003e7}, "mov x7, x0"},
      {"mov32 %r0, 1", {0x52800027}, "movz w7, #1"},
      {"mov %r0, -1", {0x92800007}, "movn x7, #0"},
      {"and %r0, 0xff00", {0x92781ce7}, "and x7, x7, #0xff00"},
      // Add/subtract (immediate, shifted register), Data-processing (2 and 3 source).
      {"add %r1, 5", {0x91001400}, "add x0, x0, #5"},
      {"add32 %r0, %r2", {0x0b0100e7}, "add w7, w7, w1"},
      {"sub %r6, %r7", {0xcb140273}, "sub x19, x19, x20"},
      {"mul %r8, %r9", {0x9b167eb5}, "mul x21, x21, x22"},
      {"div %r1, %r2", {0x9ac10800}, "udiv x0, x0, x1"},
      {"smod32 %r1, %r2", {0x1ac10c0b, 0x1b018160}, "sdiv w11, w0, w1; msub w0, w11, w1, w0"},
      {"arsh32 %r0, %r1", {0x1ac028e7}, "asr w7, w7, w0"},
      // Bitfield and Data-processing (1 source).
      {"lsh %r7, 3", {0xd37df294}, "lsl x20, x20, #3"},
      {"be16 %r1", {0x5ac00400, 0x53003c00}, "rev16 w0, w0; uxth w0, w0"},
      {"movsx1664 %r0, %r1", {0x93403c07}, "sxth x7, w0"},
      // Load/store register (unsigned immediate, unscaled immediate, register offset).
      {"ldxdw %r0, [%r1+8]", {0xf9400407}, "ldr x7, [x0, #8]"},
      {"ldxsb %r2, [%r10-1]", {0x389ff321}, "ldursb x1, [x25, #-1]"},
      {"stxw [%r10-4], %r6", {0xb81fc333}, "stur w19, [x25, #-4]"},
      {"stb [%r1+0], 7", {0x528000ea, 0x3900000a}, "movz w10, #7; strb w10, [x0]"},
      {"stdw [%r10-512], 0", {0x92803feb, 0xf82b6b3f}, "movn x11, #0x1ff; str xzr, [x25, x11]"},
      // Load/store exclusive loops.
      {"lock xchg [%r1+0], %r2", {0x91000009, 0xc85ffd2a, 0xc80efd21, 0x35ffffce, 0xaa0a03e1},
       "add x9, x0, #0; ldaxr x10, [x9]; stlxr w14, x1, [x9]; cbnz w14, -8; mov x1, x10"},
      // Compare and Conditional branch (immediate).
      {"jeq %r1, %r2, +0", {0xeb01001f, 0x54000020}, "cmp x0, x1; b.eq next"},
      {"jset32 %r0, 1, +0", {0x720000ff, 0x54000021}, "tst w7, #1; b.ne next"},
      {"jsgt %r0, -1, +0", {0xb10004ff, 0x5400002c}, "cmn x7, #1; b.gt next"},
      // Unconditional branch (register).
      {"exit", {0xd65f03c0}, "ret"},
  };
  for (const auto& row : rows) {
    const auto got = words_of_first(row.asm_text);
    INFO(row.asm_text << "  =>  " << row.native << "\n got: " << hex(got));
    CHECK(got == row.words);
  }
}
