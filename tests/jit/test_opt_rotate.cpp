// Rotate idiom recognition (jit/opt/rotate_idiom.cpp): which shift pairs become one Op::Rotate and
// which stay shifts, results equal to the interpreter's for every amount 0..70 (and past 2^32) on
// many values with the pass on and off, and the native listing's rol/ror/rorx (x86-64) or ror/rorv
// (arm64) where the idiom was.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "tests/jit/jit_test_support.hpp"
#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

struct Form {
  const char* name;
  std::string code;  // reads x = r6, n = r7, y = r8 (x + 1); leaves its result in r4
  bool rotate;       // the pass must make it one Rotate
};

/// `mov r4, x; SHL r4, a; mov r5, x; SHR r5, b; OP r4, r5`, shifts and op with their width suffixes.
std::string pair(const std::string& shl, const std::string& a, const std::string& shr, const std::string& b,
                 const std::string& op, const std::string& x2 = "%r6") {
  return "mov %r4, %r6\n" + shl + " %r4, " + a + "\nmov %r5, " + x2 + "\n" + shr + " %r5, " + b + "\n" + op +
         " %r4, %r5\n";
}

std::vector<Form> forms() {
  std::vector<Form> f = {
      {"rotl64 by 29, or", pair("lsh", "29", "rsh", "35", "or"), true},
      {"rotl64 by 29, xor", pair("lsh", "29", "rsh", "35", "xor"), true},
      {"rotl64 by 1, add", pair("lsh", "1", "rsh", "63", "add"), true},
      {"rotl64 by 63, shifts swapped", "mov %r5, %r6\nrsh %r5, 1\nmov %r4, %r6\nlsh %r4, 63\nor %r4, %r5\n", true},
      {"rotl32 by 4, alu32", pair("lsh32", "4", "rsh32", "28", "or32"), true},
      {"rotl32 by 19, alu32 shifts, 64-bit xor", pair("lsh32", "19", "rsh32", "13", "xor"), true},
      {"rotl64 by n, 64 - n", "mov %r3, 64\nsub %r3, %r7\n" + pair("lsh", "%r7", "rsh", "%r3", "or"), true},
      {"rotl64 by n, -n", "mov %r3, %r7\nneg %r3\n" + pair("lsh", "%r7", "rsh", "%r3", "or"), true},
      {"rotl64 by n, 128 - n (32-bit sub)", "mov32 %r3, 128\nsub32 %r3, %r7\n" + pair("lsh", "%r7", "rsh", "%r3", "or"),
       true},
      {"rotr64 by n", "mov %r3, 64\nsub %r3, %r7\n" + pair("lsh", "%r3", "rsh", "%r7", "or"), true},
      {"rotl64 by zext(n), 64 - n", "mov32 %r2, %r7\nmov %r3, 64\nsub %r3, %r7\n" + pair("lsh", "%r2", "rsh", "%r3", "or"),
       true},
      {"rotl64 by n & 63, 64 - n", "mov %r2, %r7\nand %r2, 63\nmov %r3, 64\nsub %r3, %r7\n" +
                                       pair("lsh", "%r2", "rsh", "%r3", "or"), true},
      {"rotl64 of x by x", "mov %r3, 64\nsub %r3, %r6\n" + pair("lsh", "%r6", "rsh", "%r3", "or"), true},
      {"rotr32 of x by x, alu32", "mov %r3, 0\nsub %r3, %r6\n" + pair("lsh32", "%r3", "rsh32", "%r6", "or32"), true},
      {"rotl32 by n, alu32", "mov32 %r3, 32\nsub32 %r3, %r7\n" + pair("lsh32", "%r7", "rsh32", "%r3", "or32"), true},
      {"rotr32 by n, alu32, 64 - n", "mov %r3, 64\nsub %r3, %r7\n" + pair("lsh32", "%r3", "rsh32", "%r7", "or32"), true},
      // clang's 32-bit rotate without alu32 (jhash): 64-bit shifts of which only the low half is read.
      // (Masks from mov32: optimized_function gives lddw the value 0.)
      {"rotl32 by 4 in 64-bit ops, masked, then mov32",
       "mov %r2, %r6\nmov32 %r3, -268435456\nand %r2, %r3\nrsh %r2, 28\nmov %r4, %r6\nlsh %r4, 4\nor %r4, %r2\n"
       "mov32 %r4, %r4\n", true},
      {"rotl32 by 13 in 64-bit ops of a zero-extended x, xor, then add32",
       "mov32 %r2, %r6\nmov %r4, %r2\nlsh %r4, 13\nmov %r5, %r2\nrsh %r5, 19\nxor %r4, %r5\nadd32 %r4, %r8\n", true},
      {"rotl32 by 30 in 64-bit ops, wider mask, add, then stored as 32 bits and reloaded",
       "mov %r2, %r6\nmov32 %r3, -3\nand %r2, %r3\nrsh %r2, 2\nmov %r4, %r6\nlsh %r4, 30\nadd %r4, %r2\n"
       "stxw [%r1+16], %r4\nldxw %r4, [%r1+16]\n", true},
      // Not rotates: each keeps its shifts.
      {"overlapping: lsh 29, rsh 36, xor", pair("lsh", "29", "rsh", "36", "xor"), false},
      {"gap: lsh 29, rsh 34, or", pair("lsh", "29", "rsh", "34", "or"), false},
      {"by 0 and 64, xor", pair("lsh", "0", "rsh", "64", "xor"), false},
      {"different x", pair("lsh", "29", "rsh", "35", "or", "%r8"), false},
      {"mixed widths: lsh32, rsh", pair("lsh32", "4", "rsh", "60", "or"), false},
      {"mixed widths: lsh, rsh32", pair("lsh", "4", "rsh32", "28", "or"), false},
      {"32-bit or of 64-bit shifts", pair("lsh", "4", "rsh", "60", "or32"), false},
      {"arsh, not rsh", pair("lsh", "29", "arsh", "35", "or"), false},
      {"variable, xor (x ^ x at n = 0)", "mov %r3, 64\nsub %r3, %r7\n" + pair("lsh", "%r7", "rsh", "%r3", "xor"), false},
      {"variable, add (2x at n = 0)", "mov %r3, 64\nsub %r3, %r7\n" + pair("lsh", "%r7", "rsh", "%r3", "add"), false},
      {"variable, 63 - n", "mov %r3, 63\nsub %r3, %r7\n" + pair("lsh", "%r7", "rsh", "%r3", "or"), false},
      {"variable, 32 - n on 64-bit shifts", "mov %r3, 32\nsub %r3, %r7\n" + pair("lsh", "%r7", "rsh", "%r3", "or"), false},
      {"variable, n & 31 on 64-bit shifts", "mov %r2, %r7\nand %r2, 31\nmov %r3, 64\nsub %r3, %r7\n" +
                                                pair("lsh", "%r2", "rsh", "%r3", "or"), false},
      {"rotl32 in 64-bit ops, read whole",
       "mov %r2, %r6\nmov32 %r3, -268435456\nand %r2, %r3\nrsh %r2, 28\nmov %r4, %r6\nlsh %r4, 4\nor %r4, %r2\n", false},
      {"rotl32 in 64-bit ops, mask reaching bit 32",
       "mov %r2, %r6\nmov32 %r3, -134217728\nlsh %r3, 1\nand %r2, %r3\nrsh %r2, 28\nmov %r4, %r6\nlsh %r4, 4\nor %r4, %r2\n"
       "mov32 %r4, %r4\n", false},
      {"rotl32 in 64-bit ops, mask missing bit 28",
       "mov %r2, %r6\nmov32 %r3, -536870912\nand %r2, %r3\nrsh %r2, 28\nmov %r4, %r6\nlsh %r4, 4\nor %r4, %r2\n"
       "mov32 %r4, %r4\n", false},
      {"rotl32 in 64-bit ops, unmasked x", pair("lsh", "4", "rsh", "28", "or") + "mov32 %r4, %r4\n", false},
      {"rotl32 in 64-bit ops, rsh before the truncation",
       "mov32 %r2, %r6\nmov %r4, %r2\nlsh %r4, 4\nmov %r5, %r2\nrsh %r5, 28\nor %r4, %r5\nrsh %r4, 1\nmov32 %r4, %r4\n",
       false},
      {"rotl32 in 64-bit ops, stored as 64 bits",
       "mov32 %r2, %r6\nmov %r4, %r2\nlsh %r4, 4\nmov %r5, %r2\nrsh %r5, 28\nor %r4, %r5\nstxdw [%r1+16], %r4\n"
       "ldxw %r4, [%r1+16]\n", false},
      {"rotl32 in 64-bit ops, then and with a mask keeping bit 35",
       "mov32 %r2, %r6\nmov %r4, %r2\nlsh %r4, 4\nmov %r5, %r2\nrsh %r5, 28\nor %r4, %r5\nmov %r3, 1\nlsh %r3, 35\n"
       "or %r3, 255\nand %r4, %r3\n", false},
      {"variable, 64 - n + 1", "mov %r3, 65\nsub %r3, %r7\n" + pair("lsh", "%r7", "rsh", "%r3", "or"), false},
  };
  return f;
}

constexpr const char* kHead = "ldxdw %r6, [%r1]\nldxdw %r7, [%r1+8]\nmov %r8, %r6\nadd %r8, 1\nmov %r0, 0\n";

std::vector<std::uint8_t> input_of(std::uint64_t x, std::uint64_t n) {
  std::vector<std::uint8_t> input(24);
  std::memcpy(input.data(), &x, 8);
  std::memcpy(input.data() + 8, &n, 8);
  return input;
}

/// Every form, each step multiplying r0 first, so that a wrong form shows whatever the others compute.
vm::Program all_forms_program() {
  std::string text = kHead;
  for (const auto& f : forms()) text += "mul %r0, 31\n" + f.code + "add %r0, %r4\n";
  return assemble_program(text + "exit\n", "rotate_forms");
}

}  // namespace

TEST_CASE("rotate idiom: which shift pairs become one rotate", "[jit][opt][rotate]") {
  const auto helpers = test_helpers();
  for (const auto& f : forms()) {
    INFO(f.name);
    const auto program = assemble_program(std::string(kHead) + f.code + "mov %r0, %r4\nexit\n", "rotate_form");
    jit::opt::PassSet on, off;
    off.rotate = false;
    const auto with = jit::opt::to_text(optimized_function(program, helpers, on));
    const auto without = jit::opt::to_text(optimized_function(program, helpers, off));
    INFO(with);
    CHECK(count_of(without, "= rotate") == 0);
    if (f.rotate) {
      CHECK(count_of(with, "= rotate") == 1);
      // The shifts and the `W - n` are gone (isa::Kind Sub = 1, Lsh = 7, Rsh = 8).
      CHECK(count_of(with, "alu k7/") + count_of(with, "alu k8/") + count_of(with, "alu k1/") == 0);
    } else {
      CHECK(with == without);
    }
  }
}

TEST_CASE("rotate idiom: the interpreter's results for every amount 0..70 and past 2^32", "[jit][opt][rotate]") {
  const auto program = all_forms_program();
  std::mt19937_64 random(20261207);
  std::vector<std::uint64_t> xs = {0, 1, ~0ull, 0x8000000000000000ull, 0x80000000ull, 0x0123456789abcdefull,
                                   0xfedcba9876543210ull, 0x100000000ull, 0xffffffff00000000ull};
  for (int k = 0; k < 5; ++k) xs.push_back(random());
  std::vector<std::uint64_t> amounts;
  for (std::uint64_t n = 0; n <= 70; ++n) amounts.push_back(n);
  for (std::uint64_t n : {127ull, 128ull, 0xffffffffull, 0x100000000ull, 0x100000005ull, ~0ull, 0x8000000000000021ull})
    amounts.push_back(n);
  for (const bool on : {true, false}) {
    jit::JitOptions jo;
    jo.passes.rotate = on;
    for (auto n : amounts)
      for (auto x : xs) {
        INFO("pass " << (on ? "on" : "off") << ", x " << x << ", n " << n);
        check_tier_equals_interpreter(program, input_of(x, n), nullptr, jo);
      }
  }
}

TEST_CASE("rotate idiom: constant rotates by every amount 0..70", "[jit][opt][rotate]") {
  // lsh c | rsh (W - c) for each c (the immediates masked as the interpreter masks them), 64- and
  // 32-bit, with |, ^ and + in turn.
  std::string text = kHead;
  static const char* kOps[] = {"or", "xor", "add"};
  for (int c = 0; c <= 70; ++c) {
    const std::string op = kOps[c % 3];
    text += "mul %r0, 31\n" + pair("lsh", std::to_string(c), "rsh", std::to_string((64 - c) & 63), op) + "add %r0, %r4\n";
    text += "mul %r0, 31\n" + pair("lsh32", std::to_string(c & 31), "rsh32", std::to_string((32 - c) & 31), op + "32") +
            "add %r0, %r4\n";
  }
  const auto program = assemble_program(text + "exit\n", "rotate_constants");
  jit::opt::PassSet no_cse;  // CSE would merge the rotates of c, c + 32 and c + 64
  no_cse.cse = false;
  const auto fn = jit::opt::to_text(optimized_function(program, test_helpers(), no_cse));
  // Amounts 1..63 (64-bit) and the 32-bit ones with c & 31 in 1..31: every one but the zero amounts.
  std::size_t expected = 0;
  for (int c = 0; c <= 70; ++c) expected += (c & 63) != 0 ? 1 : 0, expected += (c & 31) != 0 ? 1 : 0;
  CHECK(count_of(fn, "= rotate") == expected);
  std::mt19937_64 random(7);
  for (const bool on : {true, false}) {
    jit::JitOptions jo;
    jo.passes.rotate = on;
    const std::vector<std::uint64_t> xs = {0, ~0ull, 0x8000000000000001ull, 0x80000001ull, random(), random(), random()};
    for (const std::uint64_t x : xs) {
      INFO("pass " << (on ? "on" : "off") << ", x " << x);
      check_tier_equals_interpreter(program, input_of(x, 0), nullptr, jo);
    }
  }
}

TEST_CASE("rotate idiom: the native listing rotates where the idiom is", "[jit][opt][rotate]") {
  const auto program = assemble_program(
      std::string(kHead) + pair("lsh", "29", "rsh", "35", "or") + "mov %r0, %r4\n" +
          pair("lsh32", "4", "rsh32", "28", "or32") + "add %r0, %r4\n" + "mov %r3, 64\nsub %r3, %r7\n" +
          pair("lsh", "%r7", "rsh", "%r3", "or") + "xor %r0, %r4\n" + "mov %r3, 64\nsub %r3, %r7\n" +
          pair("lsh", "%r3", "rsh", "%r7", "or") + "add %r0, %r4\nexit\n",
      "rotate_listing");
  const auto listing = optimized_listing(program);
  INFO(listing);
#if defined(__x86_64__)
  CHECK(count_of(listing, "\nrorx ") == 2);  // the constant ones (BMI2, which the tier requires)
  CHECK(count_of(listing, "\nrol ") == 1);
  CHECK(count_of(listing, "\nror ") == 1);
  CHECK(count_of(listing, "\nshl") + count_of(listing, "\nshr") == 0);
  // The counts were allocated to rcx (RegisterFile::rotate_count): no move into it, nothing kept in r10.
  CHECK(count_of(listing, "\nmov ecx, ") + count_of(listing, "\nmov rcx, r10") + count_of(listing, "\nmov r10, rcx") == 0);
#elif defined(__aarch64__)
  CHECK(count_of(listing, "\nror ") == 2);
  CHECK(count_of(listing, "\nrorv ") == 2);
  CHECK(count_of(listing, "\nlsl") + count_of(listing, "\nlsr") == 0);
#endif
  for (std::uint64_t n : {0ull, 1ull, 29ull, 63ull, 64ull, 65ull})
    check_tier_equals_interpreter(program, input_of(0x0123456789abcdefull, n));
}

TEST_CASE("rotate idiom: a 32-bit rotate in 64-bit operations carried around a loop", "[jit][opt][rotate]") {
  // h = rotl32(h, 6) + n, five times, in 64-bit operations (clang without alu32); then h's low half
  // is returned (mov32) or h whole, whose upper half the shifts left set: only the first may rotate.
  const std::string loop =
      "ldxdw %r6, [%r1]\nldxdw %r7, [%r1+8]\nmov %r8, 0\nmov32 %r3, -67108864\n"  // mask 0xfc000000
      "top:\nmov %r2, %r6\nand %r2, %r3\nrsh %r2, 26\nlsh %r6, 6\nor %r6, %r2\nadd %r6, %r7\nadd %r8, 1\n"
      "jlt %r8, 5, top\n";
  const auto truncated = assemble_program(loop + "mov32 %r0, %r6\nexit\n", "rotate_loop");
  const auto whole = assemble_program(loop + "mov %r0, %r6\nexit\n", "rotate_loop_whole");
  jit::opt::PassSet off;
  off.rotate = false;
  // The loop as written: 5 trips would be unrolled (1 peeled), a rotate per copy.
  CHECK(count_of(jit::opt::to_text(optimized_function(truncated, test_helpers(), {.unroll_loops = false})), "= rotate") == 1);
  CHECK(count_of(jit::opt::to_text(optimized_function(truncated, test_helpers(), off)), "= rotate") == 0);
  CHECK(count_of(jit::opt::to_text(optimized_function(whole, test_helpers(), {})), "= rotate") == 0);
  std::mt19937_64 random(11);
  for (const bool on : {true, false}) {
    jit::JitOptions jo;
    jo.passes.rotate = on;
    for (int k = 0; k < 20; ++k) {
      const auto x = random(), n = random();
      INFO("pass " << (on ? "on" : "off") << ", x " << x << ", n " << n);
      check_tier_equals_interpreter(truncated, input_of(x, n), nullptr, jo);
      check_tier_equals_interpreter(whole, input_of(x, n), nullptr, jo);
    }
  }
}

TEST_CASE("rotate idiom: variable rotates under register pressure", "[jit][opt][rotate]") {
  // 16 rotates of x + i by n + i, left and right, 64- and 32-bit, each kept in a promoted stack
  // slot until the end: more live values than registers, so counts, sources and results sit in
  // rcx, in other registers and in spill slots (x86-64 moves the count to rcx and keeps what rcx held).
  std::string text = kHead;
  for (int k = 0; k < 16; ++k) {
    const std::string s = k % 4 < 2 ? "" : "32", w = k % 4 < 2 ? "64" : "32", kk = std::to_string(k);
    text += "mov %r2, %r6\nadd %r2, " + kk + "\nmov %r9, %r7\nadd %r9, " + kk + "\nmov %r3, " + w +
            "\nsub %r3, %r9\nmov %r4, %r2\n" + (k % 2 ? "rsh" : "lsh") + s + " %r4, %r9\nmov %r5, %r2\n" +
            (k % 2 ? "lsh" : "rsh") + s + " %r5, %r3\nor" + s + " %r4, %r5\nstxdw [%r10-" + std::to_string(8 * (k + 1)) +
            "], %r4\n";
  }
  for (int k = 0; k < 16; ++k)
    text += "mul %r0, 31\nldxdw %r4, [%r10-" + std::to_string(8 * (k + 1)) + "]\nadd %r0, %r4\n";
  const auto program = assemble_program(text + "exit\n", "rotate_pressure");
  CHECK(count_of(jit::opt::to_text(optimized_function(program, test_helpers(), {})), "= rotate") == 16);
  std::mt19937_64 random(3);
  for (std::uint64_t n = 0; n <= 70; n += 3)
    for (int k = 0; k < 3; ++k) {
      const auto x = random();
      INFO("x " << x << ", n " << n);
      check_tier_equals_interpreter(program, input_of(x, n));
    }
}
