// Expected bytes of single emitter calls: one row per instruction, the native bytes between its
// pc label and the next (fast variant, no blinding). Checked against `objdump -D -b binary`.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/jit/jit_test_support.hpp"
#include "tests/skip.hpp"
#include "vm/assembler.hpp"

using namespace bpfvm;

#if defined(__x86_64__)
#include "jit/x86_64/emitter.hpp"  // host_has_bmi2

namespace {
struct Row {
  const char* asm_text;  // one instruction; an `exit` is appended
  std::vector<std::uint8_t> bytes;
  const char* native;    // what the bytes say
};

std::vector<std::uint8_t> bytes_of_first(const char* text, const jit::JitOptions& options = {}) {
  auto insns = vm::assemble(std::string(text) + "\nexit\n");
  REQUIRE(insns);
  auto program = vm::decode_program(*insns);
  REQUIRE(program);
  const auto helpers = testing::test_helpers();
  auto jp = jit::JitProgram::compile(*program, helpers, {}, options);
  REQUIRE(jp);
  const auto code = jp->code(jit::Variant::Fast);
  const auto last = static_cast<std::uint32_t>(program->size() - 1);
  const auto begin = jp->native_offset(jit::Variant::Fast, 0);
  const auto end = jp->native_offset(jit::Variant::Fast, last);
  return {code.begin() + begin, code.begin() + end};
}
}  // namespace

TEST_CASE("x86-64 emitter: expected bytes per instruction", "[jit][encoding]") {
  const Row rows[] = {
      {"mov %r0, %r1", {0x48, 0x89, 0xf8}, "mov rax, rdi"},
      {"mov32 %r0, 1", {0xb8, 0x01, 0x00, 0x00, 0x00}, "mov eax, 1"},
      {"mov %r0, -1", {0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff}, "mov rax, -1"},
      {"add %r1, 5", {0x48, 0x83, 0xc7, 0x05}, "add rdi, 5"},
      {"add32 %r0, %r2", {0x01, 0xf0}, "add eax, esi"},
      {"sub %r6, %r7", {0x4c, 0x29, 0xeb}, "sub rbx, r13"},
      {"mul %r8, %r9", {0x4d, 0x0f, 0xaf, 0xf7}, "imul r14, r15"},
      {"neg %r6", {0x48, 0xf7, 0xdb}, "neg rbx"},
      {"lsh %r7, 3", {0x49, 0xc1, 0xe5, 0x03}, "shl r13, 3"},
      {"arsh32 %r0, 1", {0xd1, 0xf8}, "sar eax, 1"},
      {"be32 %r3", {0x0f, 0xca}, "bswap edx"},
      {"le16 %r1", {0x0f, 0xb7, 0xff}, "movzx edi, di"},
      {"ldxdw %r0, [%r1+8]", {0x48, 0x8b, 0x47, 0x08}, "mov rax, [rdi+8]"},
      {"ldxb %r2, [%r10-1]", {0x0f, 0xb6, 0x75, 0xff}, "movzx esi, byte [rbp-1]"},
      {"stxw [%r10-4], %r6", {0x89, 0x5d, 0xfc}, "mov [rbp-4], ebx"},
      {"stb [%r1+0], 7", {0xc6, 0x07, 0x07}, "mov byte [rdi], 7"},
      {"lock add [%r1+0], %r2", {0xf0, 0x48, 0x01, 0x37}, "lock add [rdi], rsi"},
      {"lock xchg [%r1+0], %r2", {0x48, 0x87, 0x37}, "xchg [rdi], rsi"},
      {"lock fetch add32 [%r1+4], %r0", {0xf0, 0x0f, 0xc1, 0x47, 0x04}, "lock xadd [rdi+4], eax"},
      {"lock cmpxchg [%r10-8], %r6", {0xf0, 0x48, 0x0f, 0xb1, 0x5d, 0xf8}, "lock cmpxchg [rbp-8], rbx"},
      {"mov %r0, 0", {0x31, 0xc0}, "xor eax, eax"},
      {"mov %r6, 1", {0xbb, 0x01, 0x00, 0x00, 0x00}, "mov ebx, 1 (zero-extends)"},
      {"div %r0, 7", {0x41, 0xbb, 0x07, 0x00, 0x00, 0x00, 0x49, 0x89, 0xd1, 0x31, 0xd2, 0x49, 0xf7, 0xf3, 0x4c, 0x89, 0xca},
       "mov r11d, 7; mov r9, rdx; xor edx, edx; div r11; mov rdx, r9"},
      {"mod32 %r0, %r1", {0x41, 0x89, 0xfb, 0x45, 0x85, 0xdb, 0x74, 0x0f, 0x49, 0x89, 0xd1, 0x31, 0xd2, 0x41, 0xf7, 0xf3,
                          0x89, 0xd0, 0x4c, 0x89, 0xca, 0xeb, 0x02, 0x89, 0xc0},
       "mov r11d, edi; test r11d, r11d; jz +15; mov r9, rdx; xor edx, edx; div r11d; mov eax, edx; mov rdx, r9; "
       "jmp +2; mov eax, eax"},
      {"mov32 %r7, 0", {0x45, 0x31, 0xed}, "xor r13d, r13d"},
      {"jeq %r1, %r2, +0", {0x48, 0x39, 0xf7, 0x74, 0x00}, "cmp rdi, rsi; je next (rel8)"},
      {"jset32 %r0, 1, +0", {0xa9, 0x01, 0x00, 0x00, 0x00, 0x75, 0x00}, "test eax, 1; jnz next (rel8)"},
      {"jeq %r1, 0, +0", {0x48, 0x85, 0xff, 0x74, 0x00}, "test rdi, rdi; je next"},
      {"jsgt32 %r6, 0, +0", {0x85, 0xdb, 0x7f, 0x00}, "test ebx, ebx; jg next"},
      {"jlt %r0, 0, +0", {0x48, 0x85, 0xc0, 0x72, 0x00}, "test rax, rax; jb next (never taken, as cmp)"},
      {"jset %r0, 0, +0", {0x48, 0xa9, 0x00, 0x00, 0x00, 0x00, 0x75, 0x00}, "test rax, 0; jnz next"},
      {"ja +0", {0xeb, 0x00}, "jmp next (rel8)"},
      {"exit", {0xc3}, "ret"},
  };
  for (const auto& row : rows) {
    INFO(row.asm_text << "  =>  " << row.native);
    CHECK(bytes_of_first(row.asm_text) == row.bytes);
  }
}
TEST_CASE("x86-64 emitter: register shifts with and without BMI2", "[jit][encoding]") {
  // Baseline: the count goes through cl, r4 (rcx) parked in r11 around it.
  jit::JitOptions baseline;
  baseline.baseline_isa_only = true;
  const Row baseline_rows[] = {
      {"lsh %r0, %r1", {0x49, 0x89, 0xcb, 0x89, 0xf9, 0x48, 0xd3, 0xe0, 0x4c, 0x89, 0xd9},
       "mov r11, rcx; mov ecx, edi; shl rax, cl; mov rcx, r11"},
      {"rsh32 %r6, %r4", {0xd3, 0xeb, 0x89, 0xdb}, "shr ebx, cl; mov ebx, ebx"},
  };
  for (const auto& row : baseline_rows) {
    INFO(row.asm_text << "  =>  " << row.native);
    CHECK(bytes_of_first(row.asm_text, baseline) == row.bytes);
  }
}

TEST_CASE("x86-64 emitter: register shifts use BMI2 where the CPU has it", "[jit][encoding]") {
  if (!jit::x86_64::host_has_bmi2()) bpfvm::testing::skip_test("this CPU has no BMI2 (shlx/shrx/sarx)");
  const Row bmi2_rows[] = {
      {"lsh %r0, %r1", {0xc4, 0xe2, 0xc1, 0xf7, 0xc0}, "shlx rax, rax, rdi"},
      {"rsh32 %r6, %r4", {0xc4, 0xe2, 0x73, 0xf7, 0xdb}, "shrx ebx, ebx, ecx"},
      {"arsh %r4, %r7", {0xc4, 0xe2, 0x92, 0xf7, 0xc9}, "sarx rcx, rcx, r13"},
  };
  for (const auto& row : bmi2_rows) {
    INFO(row.asm_text << "  =>  " << row.native);
    CHECK(bytes_of_first(row.asm_text) == row.bytes);
  }
}
#endif  // __x86_64__; the arm64 table is tests/jit_arm64/test_arm64_encodings.cpp
