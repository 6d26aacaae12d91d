// Self-tests of the kernel oracle: known programs, verifier rejections with their log text, map errnos.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>

#include "tests/kernel/insn_builder.hpp"
#include "tests/kernel/kernel_oracle.hpp"

namespace bpfvm::testing {
namespace {

using isa::Operand;

std::span<const std::uint8_t> bytes_of(const std::uint32_t& v) {
  return {reinterpret_cast<const std::uint8_t*>(&v), sizeof(v)};
}

TEST_CASE("a known program loads and returns its value through BPF_PROG_TEST_RUN") {
  const vm::Insn prog[] = {insn("mov", Operand::Imm, 0, 0, 0, 42), insn("exit", Operand::None)};
  const std::uint8_t packet[64] = {};
  for (auto type : {BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_XDP}) {
    std::string log;
    auto fd = load_program(type, prog, &log);
    INFO("prog type " << type << ": " << (fd ? "" : fd.error().reason));
    REQUIRE(fd);
    CHECK(log.empty());
    auto run = test_run(*fd, packet, 10);
    REQUIRE(run);
    CHECK(run->retval == 42);
    CHECK(run->duration_ns > 0);
  }
}

TEST_CASE("XDP test run hands back the packet the program saw") {
  const vm::Insn prog[] = {insn("mov", Operand::Imm, 0, 0, 0, XDP_PASS), insn("exit", Operand::None)};
  auto fd = load_program(BPF_PROG_TYPE_XDP, prog);
  REQUIRE(fd);
  std::vector<std::uint8_t> packet(32);
  for (std::size_t i = 0; i < packet.size(); ++i) packet[i] = static_cast<std::uint8_t>(i * 7);
  auto run = test_run(*fd, packet);
  REQUIRE(run);
  CHECK(run->retval == XDP_PASS);
  CHECK(run->data_out == packet);
}

TEST_CASE("run_r0_64 returns all 64 bits of r0") {
  std::vector<vm::Insn> body;
  push_lddw(body, op_id("lddw", Operand::Imm), 0, 0xfedcba9876543210ull);
  body.push_back(insn("exit", Operand::None));
  auto r0 = run_r0_64(body);
  INFO((r0 ? "" : r0.error().reason));
  REQUIRE(r0);
  CHECK(*r0 == 0xfedcba9876543210ull);
}

TEST_CASE("run_r0_64 passes r1 = memory and r2 = its size, and returns the memory afterwards") {
  const std::vector<std::uint8_t> mem = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const vm::Insn body[] = {
      insn("ldxdw", Operand::Reg, 0, 1, 0),         // r0 = *(u64 *)(r1 + 0)
      insn("add", Operand::Reg, 0, 2),              // r0 += r2 (= 11)
      insn("stb", Operand::Imm, 1, 0, 10, 0x7f),    // mem[10] = 0x7f
      insn("exit", Operand::None),
  };
  std::vector<std::uint8_t> after;
  auto r0 = run_r0_64(body, mem, nullptr, &after);
  INFO((r0 ? "" : r0.error().reason));
  REQUIRE(r0);
  CHECK(*r0 == 0x0807060504030201ull + 11);
  auto expected = mem;
  expected[10] = 0x7f;
  CHECK(after == expected);
}

TEST_CASE("run_r0_64: the body's callee-saved registers and stack are its own") {
  const vm::Insn body[] = {
      insn("mov", Operand::Imm, 6, 0, 0, -1),
      insn("stxdw", Operand::Reg, 10, 6, -8),
      insn("ldxw", Operand::Reg, 0, 10, -8),
      insn("exit", Operand::None),
  };
  auto r0 = run_r0_64(body);
  REQUIRE(r0);
  CHECK(*r0 == 0xffffffffull);
}

TEST_CASE("the verifier's refusal comes back as an error with the kernel's log") {
  SECTION("uninitialised r0") {
    const vm::Insn prog[] = {insn("exit", Operand::None)};
    std::string log;
    auto fd = load_program(BPF_PROG_TYPE_SOCKET_FILTER, prog, &log);
    REQUIRE_FALSE(fd);
    CHECK(fd.error().code == Errc::Rejected);
    INFO(fd.error().reason << "\nlog:\n" << log);
    CHECK(log.find("R0 !read_ok") != std::string::npos);
    CHECK(fd.error().reason.find("EACCES") != std::string::npos);
    CHECK(fd.error().reason.find("R0 !read_ok") != std::string::npos);
  }
  SECTION("constant shift by the operand width") {
    const vm::Insn body[] = {insn("mov", Operand::Imm, 0, 0, 0, 1), insn("lsh", Operand::Imm, 0, 0, 0, 64),
                             insn("exit", Operand::None)};
    std::string log;
    auto r0 = run_r0_64(body, {}, &log);
    REQUIRE_FALSE(r0);
    INFO(r0.error().reason << "\nlog:\n" << log);
    CHECK(log.find("invalid shift 64") != std::string::npos);
    CHECK(r0.error().reason.find("EINVAL") != std::string::npos);
  }
  SECTION("no log buffer asked for: the reason still quotes the verifier") {
    const vm::Insn prog[] = {insn("exit", Operand::None)};
    auto fd = load_program(BPF_PROG_TYPE_XDP, prog);
    REQUIRE_FALSE(fd);
    CHECK(fd.error().reason.find("R0 !read_ok") != std::string::npos);
  }
}

TEST_CASE("map wrappers return the kernel's errnos") {
  Fd bad;
  CHECK(map_create({BPF_MAP_TYPE_HASH, 4, 8, 0, 0}, bad) == -EINVAL);  // max_entries 0
  CHECK_FALSE(bad.valid());

  Fd hash;
  REQUIRE(map_create({BPF_MAP_TYPE_HASH, 4, 8, 2, 0}, hash) == 0);
  REQUIRE(hash.valid());
  const std::uint32_t k1 = 1, k2 = 2, k3 = 3;
  std::uint64_t v = 0;
  auto value = std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&v), sizeof(v));
  std::uint32_t next = 0;
  auto next_bytes = std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&next), sizeof(next));

  CHECK(map_lookup(hash, bytes_of(k1), value) == -ENOENT);
  CHECK(map_get_next_key(hash, {}, next_bytes) == -ENOENT);
  CHECK(map_delete(hash, bytes_of(k1)) == -ENOENT);
  v = 111;
  CHECK(map_update(hash, bytes_of(k1), value, BPF_EXIST) == -ENOENT);
  CHECK(map_update(hash, bytes_of(k1), value, BPF_NOEXIST) == 0);
  CHECK(map_update(hash, bytes_of(k1), value, BPF_NOEXIST) == -EEXIST);
  v = 222;
  CHECK(map_update(hash, bytes_of(k2), value) == 0);
  CHECK(map_update(hash, bytes_of(k3), value) == -E2BIG);  // full
  v = 0;
  CHECK(map_lookup(hash, bytes_of(k1), value) == 0);
  CHECK(v == 111);
  CHECK(map_get_next_key(hash, {}, next_bytes) == 0);
  const std::uint32_t first = next;
  CHECK((first == k1 || first == k2));
  CHECK(map_get_next_key(hash, bytes_of(first), next_bytes) == 0);
  CHECK(next == (first == k1 ? k2 : k1));
  const std::uint32_t second = next;
  CHECK(map_get_next_key(hash, bytes_of(second), next_bytes) == -ENOENT);
  CHECK(map_delete(hash, bytes_of(k1)) == 0);
  CHECK(map_lookup(hash, bytes_of(k1), value) == -ENOENT);

  Fd array;
  REQUIRE(map_create({BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0}, array) == 0);
  CHECK(map_delete(array, bytes_of(k1)) == -EINVAL);
  CHECK(map_lookup(array, bytes_of(k3), value) == -ENOENT);
  CHECK(map_update(array, bytes_of(k3), value) == -E2BIG);
  CHECK(map_update(array, bytes_of(k1), value, BPF_NOEXIST) == -EEXIST);
}

TEST_CASE("Fd closes what it owns and moves ownership") {
  Fd a;
  REQUIRE(map_create({BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0}, a) == 0);
  const int raw = a.get();
  Fd b = std::move(a);
  CHECK_FALSE(a.valid());
  CHECK(b.get() == raw);
  b.reset();
  CHECK_FALSE(b.valid());
}

}  // namespace
}  // namespace bpfvm::testing
