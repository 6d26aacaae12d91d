// bpf_map_lookup_elem on plain arrays lowered into the optimizing tier's IR (jit/opt/array_lookup.cpp):
// the pointer the tier computes must be the helper's, for the first, last and out-of-range indexes,
// strides that are and are not powers of two, indexes the passes fold to constants; per-CPU arrays
// and maps of maps keep the helper call.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "helpers/kernel_helpers.hpp"
#include "helpers/runtime.hpp"
#include "jit/jit_program.hpp"
#include "maps/map_table.hpp"
#include "tests/jit/map_fixture.hpp"
#include "tests/jit/opt_test_support.hpp"
#include "vm/interpreter.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

namespace {

constexpr std::uint32_t kLookup = 1;  // BPF_FUNC_map_lookup_elem

/// Arrays of u32 keys in a MapFixture (tests/jit/map_fixture.hpp).
struct ArrayFixture : MapFixture {
  using MapFixture::add;
  std::uint32_t add(maps::MapType type, std::uint32_t value_size, std::uint32_t max_entries) {
    return add(maps::MapSpec{.type = type, .key_size = 4, .value_size = value_size, .max_entries = max_entries});
  }

  /// Runs `text` (r1 = an 8-byte buffer holding `input`) on the interpreter and the optimized tier;
  /// requires the same r0 (the value pointer itself, or what was read through it).
  void require_same(const std::string& text, std::uint64_t input) {
    const auto program = assemble_program(text);
    auto interp = vm::Interpreter::create(program, registry, resolver());
    REQUIRE(interp);
    jit::JitOptions jo;
    jo.optimize = true;
    auto jp = jit::JitProgram::compile(program, registry, resolver(), jo);
    REQUIRE(jp);
    REQUIRE(jp->tier(jit::Variant::Fast) == jit::Tier::Optimized);
    std::vector<std::uint8_t> in(8), buffer(8);
    std::memcpy(in.data(), &input, 8);
    const auto want = run_engine(*interp, buffer, in, {}, false);
    const auto got = run_engine(*jp, buffer, in, {}, false);
    INFO(text << "input " << input << "\ninterp " << want.describe() << "\njit-opt " << got.describe());
    REQUIRE(want.ok);
    CHECK(got == want);
  }

};

/// r0 = lookup(map, &(u32)input[0]), or that pointer's first u64 when `read` (0 stays 0).
std::string lookup_program(std::uint32_t map, bool read) {
  std::string text = "ldxw %r2, [%r1]\nstxw [%r10-4], %r2\nmov %r2, %r10\nadd %r2, -4\nlddw_map_fd %r1, " +
                     std::to_string(map) + "\ncall " + std::to_string(kLookup) + "\n";
  if (read) text += "jeq %r0, 0, +1\nldxdw %r0, [%r0]\n";
  return text + "exit\n";
}

}  // namespace

TEST_CASE("array lookups inlined by the optimizing tier return the helper's pointer", "[jit][opt][array_lookup]") {
  ArrayFixture f;
  struct Shape {
    std::uint32_t value_size, max_entries;
  };
  // Strides 8 and 64 (shifts), 16 for value_size 12 (rounded up to 8), 24 (a multiply), one entry.
  for (const Shape s : {Shape{8, 5}, Shape{12, 7}, Shape{24, 3}, Shape{64, 1}, Shape{4, 1000}}) {
    const auto map = f.add(maps::MapType::Array, s.value_size, s.max_entries);
    // Values tell elements apart when read through the pointer.
    for (std::uint32_t k : {0u, s.max_entries - 1}) {
      std::vector<std::uint8_t> value(s.value_size, 0);
      const std::uint64_t tag = 1000 + k;
      std::memcpy(value.data(), &tag, std::min<std::size_t>(8, value.size()));
      REQUIRE(f.table.get(map)->host_update(&k, value.data(), 0) == 0);
    }
    const std::string text = lookup_program(map, false);
    INFO("value_size " << s.value_size << " max_entries " << s.max_entries);
    CHECK(count_of(f.ir_of(assemble_program(text)), "call") == 0);
    for (std::uint64_t index : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{s.max_entries} - 1,
                                std::uint64_t{s.max_entries}, std::uint64_t{s.max_entries} + 1,
                                std::uint64_t{0x7fffffff}, std::uint64_t{0x80000000}, std::uint64_t{0xffffffff},
                                // Only the key's 4 bytes are the index: upper input bytes must not count.
                                std::uint64_t{0x100000000}, (std::uint64_t{1} << 32) | (s.max_entries - 1)}) {
      f.require_same(text, index);
      f.require_same(lookup_program(map, true), index);
    }
  }
}

TEST_CASE("an inlined array lookup of a constant index folds with the key slot promoted", "[jit][opt][array_lookup]") {
  ArrayFixture f;
  const auto map = f.add(maps::MapType::Array, 8, 4);
  for (std::uint32_t index : {0u, 3u, 4u, 0xffffffffu}) {
    // The key is a constant stored to the stack: promotion turns the key load into that constant.
    const std::string text = "stw [%r10-4], " + std::to_string(static_cast<std::int32_t>(index)) +
                             "\nmov %r2, %r10\nadd %r2, -4\nlddw_map_fd %r1, " + std::to_string(map) + "\ncall " +
                             std::to_string(kLookup) + "\nexit\n";
    INFO(text);
    const auto ir = f.ir_of(assemble_program(text));
    CHECK(count_of(ir, "call") == 0);
    CHECK(count_of(ir, "load") == 0);
    f.require_same(text, 0);
  }
}

TEST_CASE("per-CPU arrays and maps of maps keep the helper call on the optimizing tier", "[jit][opt][array_lookup]") {
  ArrayFixture f;
  const auto percpu = f.add(maps::MapType::PercpuArray, 8, 4);
  CHECK(count_of(f.ir_of(assemble_program(lookup_program(percpu, false))), "call") == 1);
  for (std::uint64_t index : {0, 3, 4}) f.require_same(lookup_program(percpu, false), index);

  auto inner_spec = std::make_shared<maps::MapSpec>(
      maps::MapSpec{.type = maps::MapType::Array, .key_size = 4, .value_size = 8, .max_entries = 4});
  const auto inner = f.table.create(*inner_spec);
  REQUIRE(inner);
  maps::MapSpec outer_spec{.type = maps::MapType::ArrayOfMaps, .key_size = 4, .value_size = 4, .max_entries = 2};
  outer_spec.inner = inner_spec;
  const auto outer = f.table.create(outer_spec);
  REQUIRE(outer);
  std::uint32_t key = 1, fd = *inner;
  REQUIRE(f.table.get(*outer)->host_update(&key, &fd, 0) == 0);
  CHECK(count_of(f.ir_of(assemble_program(lookup_program(*outer, false))), "call") == 1);
  // The inner map the outer lookup returns is a run-time value: its lookup is a call too.
  for (std::uint64_t index : {0, 1, 2}) f.require_same(lookup_program(*outer, false), index);
}
