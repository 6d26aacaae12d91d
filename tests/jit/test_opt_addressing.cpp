// Frame addressing and address folding in the optimizing tier: the eBPF frames of every inlined
// depth live in the native function's frame ([rsp+disp] / [sp,#imm]), stack pointers handed to a
// helper are materialized from it, and `base + constant` / `base + (index << s)` addresses fold
// into the access (jit/opt/address_folding.cpp) — checked against the interpreter, on memory that
// ends at an unmapped page so a folded access that reached one byte too far would fault.
#include <catch2/catch.hpp>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "tests/jit/opt_test_support.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

/// The optimized IR as text (every pass on).
std::string ir_of(const vm::Program& program, const vm::HelperRegistry& helpers) {
  return jit::opt::to_text(optimized_function(program, helpers, {}, {.pointers_stay_in_frame = true}));
}

/// `bytes` of memory that end where an unmapped page begins.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::size_t bytes) : page_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))), bytes_(bytes) {
    void* m = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED);
    map_ = static_cast<std::uint8_t*>(m);
    REQUIRE(mprotect(map_ + page_, page_, PROT_NONE) == 0);
  }
  ~GuardedBuffer() { munmap(map_, 2 * page_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  std::uint8_t* data() const { return map_ + page_ - bytes_; }
  std::size_t size() const { return bytes_; }

 private:
  std::size_t page_, bytes_;
  std::uint8_t* map_ = nullptr;
};

/// r0 of a run with r1 = the buffer, r2 = its size.
template <class Engine>
Result<vm::ExecResult> run_on(const Engine& engine, const GuardedBuffer& buf, const vm::ExecOptions& options) {
  vm::RunContext ctx;
  const auto base = reinterpret_cast<std::uintptr_t>(buf.data());
  ctx.regions.push_back(vm::Region{base, buf.size(), true, "input"});
  const std::uint64_t args[] = {base, buf.size()};
  return engine.run(ctx, args, options);
}

/// Runs on the checked interpreter and on the optimizing tier with every pass, with address
/// folding off, and with zero_stack on and off; all must agree. Returns r0.
std::uint64_t same_everywhere(const vm::Program& program, const vm::HelperRegistry& helpers, const GuardedBuffer& buf,
                              const std::vector<std::uint8_t>& input) {
  std::memcpy(buf.data(), input.data(), input.size());
  auto interp = vm::Interpreter::create(program, helpers);
  REQUIRE(interp);
  vm::ExecOptions checked;
  checked.checked = true;
  const auto want = run_on(*interp, buf, checked);
  REQUIRE(want);
  for (bool fold : {true, false})
    for (bool zero_stack : {true, false}) {
      std::memcpy(buf.data(), input.data(), input.size());
      auto jo = optimizing({.fold_addresses = fold});
      jo.zero_stack = zero_stack;
      jo.facts.pointers_stay_in_frame = true;
      auto jp = jit::JitProgram::compile(program, helpers, {}, jo);
      REQUIRE(jp);
      CHECK(jp->tier(jit::Variant::Fast) == jit::Tier::Optimized);
      INFO("fold " << fold << " zero_stack " << zero_stack);
      const auto got = run_on(*jp, buf, {});
      REQUIRE(got);
      CHECK(got->r0 == want->r0);
    }
  return want->r0;
}

}  // namespace

TEST_CASE("addressing: stack of an inlined frame, and stack pointers given to a helper", "[jit][opt][addressing]") {
  const auto helpers = helpers_with_store();
  // Every frame escapes (a stack pointer is stored, or given to a helper), so nothing is promoted:
  // main's and f's (depth 1) slots are real memory, written by helper 40 through pointers into
  // both frames, and f writes main's frame through its argument. Frames that overlapped or a
  // helper pointer off by a frame would change r0.
  const auto program = assemble_program(
      "ldxdw %r6, [%r1]\n"
      "stxdw [%r10-8], %r6\n"
      "mov %r1, %r10\n"
      "add %r1, -32\n"
      "mov %r2, 3\n"
      "call 40\n"            // main's [r10-32] = 3 through a helper
      "mov %r1, %r10\n"
      "add %r1, -8\n"
      "call local f\n"
      "ldxdw %r0, [%r10-8]\n"
      "ldxdw %r2, [%r10-16]\n"
      "add %r0, %r2\n"
      "ldxdw %r2, [%r10-32]\n"
      "mul %r0, %r2\n"
      "ldxdw %r2, [%r10-512]\n"  // the lowest slot of main's frame, just above f's
      "add %r0, %r2\n"
      "exit\n"
      "f:\n"
      "stdw [%r10-512], 0\n"
      "stxdw [%r10-8], %r1\n"  // a stack pointer stored: f's frame stays in memory
      "mov %r1, %r10\n"
      "add %r1, -24\n"
      "mov %r2, 7\n"
      "call 40\n"              // f's [r10-24] = 7 through a helper
      "ldxdw %r3, [%r10-24]\n"
      "ldxdw %r4, [%r10-8]\n"
      "ldxdw %r5, [%r4+0]\n"
      "mul %r5, %r3\n"
      "stxdw [%r4+0], %r5\n"   // main's [r10-8] = 7v
      "stxdw [%r4-8], %r3\n"   // main's [r10-16] = 7
      "stxdw [%r4-504], %r3\n"  // main's [r10-512] = 7
      "mov %r0, 0\n"
      "exit\n");
  const auto ir = ir_of(program, helpers);
  INFO(ir);
  CHECK(count_of(ir, "= fp 1") == 1);  // f's frame, addressed at depth 1
  CHECK(count_of(ir, "off -24") >= 1);  // f's [r10-24] read straight from its frame
  GuardedBuffer buf(8);
  std::vector<std::uint8_t> input(8, 0);
  input[0] = 5;
  CHECK(same_everywhere(program, helpers, buf, input) == (7 * 5 + 7) * 3 + 7);
}

TEST_CASE("addressing: folded loads at the end of a checked packet range", "[jit][opt][addressing]") {
  const auto helpers = test_helpers();
  // The XDP shape: p = data + 12, check p + 2 <= data_end, load 2 bytes at p — folded into
  // [data + 12]; then [data + (size - 2)] (base + index) and [data + ((size/8 - 1) << 3)] (scaled
  // index), each ending at the buffer's last byte, next to an unmapped page.
  const auto program = assemble_program(
      "mov %r3, %r1\n"
      "add %r3, %r2\n"
      "mov %r4, %r1\n"
      "add %r4, 12\n"
      "mov %r5, %r4\n"
      "add %r5, 2\n"
      "jgt %r5, %r3, out\n"
      "ldxh %r0, [%r4+0]\n"
      "mov %r6, %r2\n"
      "sub %r6, 2\n"
      "mov %r7, %r1\n"
      "add %r7, %r6\n"
      "ldxh %r8, [%r7+0]\n"
      "lsh %r8, 16\n"
      "or %r0, %r8\n"
      "mov %r6, %r2\n"
      "rsh %r6, 3\n"
      "sub %r6, 1\n"
      "lsh %r6, 3\n"
      "mov %r7, %r1\n"
      "add %r7, %r6\n"
      "ldxdw %r8, [%r7+0]\n"
      "stxdw [%r7+0], %r0\n"
      "xor %r0, %r8\n"
      "exit\n"
      "out:\n"
      "mov %r0, 1\n"
      "exit\n");
  const auto ir = ir_of(program, helpers);
  INFO(ir);
  CHECK(count_of(ir, " off 12\n") == 1);           // [data + 12]: the add went into the displacement
  CHECK(count_of(ir, " off -2\n") == 1);        // [data + size - 2]
  CHECK(count_of(ir, " off -8 scale 3") == 2);  // [data + (size >> 3) * 8 - 8]
  for (std::size_t size : {14u, 16u, 64u}) {
    GuardedBuffer buf(size);
    std::vector<std::uint8_t> input(size);
    for (std::size_t k = 0; k < size; ++k) input[k] = static_cast<std::uint8_t>(0x11 * (k + 1));
    INFO("size " << size);
    CHECK(same_everywhere(program, helpers, buf, input) != 1);
  }
  GuardedBuffer short_buf(13);  // one byte short: the check fails, nothing is loaded
  CHECK(same_everywhere(program, helpers, short_buf, std::vector<std::uint8_t>(13, 0)) == 1);
}

TEST_CASE("addressing: x86-64 indexed stack accesses are never [rsp + index]", "[jit][opt][addressing]") {
  // An rc4-style swap at input-chosen slots of a 256-byte table on the stack. Each access is
  // `base = FramePtr, index`; on AMD Zen 5, [rsp + index + disp] ran bench/'s rc4 at 1.08-1.10x the
  // baseline and [r10 + index] (r10 = the frame's address) at 0.98-0.99x.
  const auto program = assemble_program(
      "mov %r6, %r1\n"
      "mov %r1, 0\n"
      "fill:\n"
      "mov %r3, %r10\n"
      "add %r3, -256\n"
      "add %r3, %r1\n"
      "stxb [%r3+0], %r1\n"
      "add %r1, 1\n"
      "jne %r1, 256, fill\n"
      "mov %r1, 0\n"
      "mov %r0, 0\n"
      "swap:\n"
      "mov %r4, %r1\n"
      "and %r4, 7\n"
      "add %r4, %r6\n"
      "ldxb %r4, [%r4+0]\n"   // j = input[i & 7]
      "mov %r5, %r10\n"
      "add %r5, -256\n"
      "add %r5, %r1\n"
      "mov %r7, %r10\n"
      "add %r7, -256\n"
      "add %r7, %r4\n"
      "ldxb %r8, [%r5+0]\n"
      "ldxb %r9, [%r7+0]\n"
      "stxb [%r5+0], %r9\n"
      "stxb [%r7+0], %r8\n"
      "ldxb %r8, [%r5+0]\n"
      "mul %r0, 31\n"
      "add %r0, %r8\n"
      "add %r1, 1\n"
      "jne %r1, 256, swap\n"
      "exit\n");
  GuardedBuffer buf(8);
  const std::vector<std::uint8_t> input{200, 3, 255, 0, 17, 128, 64, 9};
  same_everywhere(program, test_helpers(), buf, input);
#if defined(__x86_64__)
  const auto listing = optimized_listing(program);
  INFO(listing);
  REQUIRE(listing.find("tier: optimized") != std::string::npos);
  CHECK(count_of(listing, "byte ptr [r10+") >= 6);  // every table access, through the frame's address
  // [rsp+0x...] is a fixed slot; [rsp+<register>...] is what must not appear.
  for (const char* reg : {"[rsp+r", "[rsp+e"}) CHECK(count_of(listing, reg) == 0);
#endif
}
