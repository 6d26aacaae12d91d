// bpf_map_lookup_elem on a hash map whose handle is a constant at the call (an lddw of the map in
// r1): both JIT tiers call the map's own entry (HashMap::direct_lookup, specialised by key size)
// instead of the helper dispatch. The value pointer must be the helper's for every key size and hash
// map type; a map reached at run time (map-in-map, swapped between runs) keeps the helper call.
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

struct HashFixture : MapFixture {
  /// Runs `text` with r1 = a buffer holding `input` on the interpreter, the baseline JIT and the
  /// optimizing tier (fast and counted builds); requires the interpreter's r0 from each.
  void require_same(const std::string& text, const std::vector<std::uint8_t>& input) {
    const auto program = assemble_program(text);
    auto interp = vm::Interpreter::create(program, registry, resolver());
    REQUIRE(interp);
    std::vector<std::uint8_t> buffer(input.size());
    const auto want = run_engine(*interp, buffer, input, {}, false);
    INFO(text << "interp " << want.describe());
    REQUIRE(want.ok);
    for (bool optimize : {false, true}) {
      jit::JitOptions jo;
      jo.optimize = optimize;
      auto jp = jit::JitProgram::compile(program, registry, resolver(), jo);
      REQUIRE(jp);
      if (optimize) REQUIRE(jp->tier(jit::Variant::Fast) == jit::Tier::Optimized);
      for (std::uint64_t budget : {std::uint64_t{0}, std::uint64_t{1000}}) {
        vm::ExecOptions options;
        options.budget_insns = budget;
        const auto got = run_engine(*jp, buffer, input, options, false);
        INFO("optimize " << optimize << " budget " << budget << ": " << got.describe());
        CHECK(got == want);
      }
    }
  }

};

/// r0 = *(u64 *)lookup(map, r1) (the key is the input buffer itself), or 0 when there is none, plus
/// the key's first byte and r3..r5.
std::string lookup_program(std::uint32_t map) {
  // r2..r5 are read after the call: the interpreter keeps r1..r5 across helper calls, and so must
  // the direct call.
  return "mov %r2, %r1\nmov %r3, 7\nmov %r4, 900\nmov %r5, 11000\nlddw_map_fd %r1, " + std::to_string(map) +
         "\ncall " + std::to_string(kLookup) + "\njeq %r0, 0, +1\nldxdw %r0, [%r0]\nldxb %r2, [%r2]\n"
         "add %r0, %r2\nadd %r0, %r3\nadd %r0, %r4\nadd %r0, %r5\nexit\n";
}

std::vector<std::uint8_t> key_bytes(std::uint32_t size, std::uint32_t k) {
  std::vector<std::uint8_t> key(size);
  for (std::uint32_t i = 0; i < size; ++i) key[i] = static_cast<std::uint8_t>((k * 5 + i * 11) & 0x7f);
  return key;
}

}  // namespace

TEST_CASE("hash lookups with a constant map call the map's entry and return the helper's value",
          "[jit][opt][direct_lookup]") {
  using maps::MapType;
  for (MapType t : {MapType::Hash, MapType::LruHash, MapType::PercpuHash, MapType::LruPercpuHash}) {
    for (std::uint32_t ks : {3u, 4u, 6u, 8u, 12u, 16u, 20u}) {
      INFO(maps::map_type_name(t) << " key_size " << ks);
      HashFixture f;
      const auto map = f.add(maps::MapSpec{.type = t, .key_size = ks, .value_size = 8, .max_entries = 16});
      maps::Map& m = *f.table.get(map);
      std::vector<std::uint64_t> value(m.host_value_size() / 8);
      for (std::uint32_t k = 0; k < 8; ++k) {
        std::fill(value.begin(), value.end(), 500 + k);
        REQUIRE(m.host_update(key_bytes(ks, k).data(), value.data(), 0) == 0);
      }
      const std::string text = lookup_program(map);
      CHECK(count_of(f.ir_of(assemble_program(text)), "call v") == 1);
      CHECK(count_of(f.ir_of(assemble_program(text)), " direct") == 1);
      for (std::uint32_t k : {0u, 3u, 7u, 8u, 9u}) f.require_same(text, key_bytes(ks, k));  // 8, 9: absent
      // A key that differs from a stored one in its last byte only: absent.
      auto near = key_bytes(ks, 2);
      near.back() ^= 0x80;
      f.require_same(text, near);
    }
  }
}

TEST_CASE("the baseline JIT calls a hash map's entry through its direct-lookup stub", "[jit][direct_lookup]") {
  HashFixture f;
  const auto hash = f.add(maps::MapSpec{.type = maps::MapType::Hash, .key_size = 8, .value_size = 8, .max_entries = 4});
  const auto trie = f.add(maps::MapSpec{.type = maps::MapType::LpmTrie, .key_size = 8, .value_size = 8,
                                        .max_entries = 4, .map_flags = maps::kBpfFNoPrealloc});
  auto listing = [&](std::uint32_t map, bool checked) {
    const auto program = assemble_program(lookup_program(map));
    auto jp = jit::JitProgram::compile(program, f.registry, f.resolver(), {});
    REQUIRE(jp);
    auto text = jp->listing(checked ? jit::Variant::Checked : jit::Variant::Fast);
    REQUIRE(text);
    return *text;
  };
  CHECK(count_of(listing(hash, false), "stub: direct map lookup") == 1);
  CHECK(count_of(listing(hash, true), "stub: direct map lookup") == 0);  // checked: the helper checks the key
  CHECK(count_of(listing(trie, false), "stub: direct map lookup") == 0);
}

TEST_CASE("a hash map reached through a map of maps keeps the helper call, also when swapped between runs",
          "[jit][opt][direct_lookup]") {
  using maps::MapType;
  for (MapType outer_type : {MapType::ArrayOfMaps, MapType::HashOfMaps}) {
    HashFixture f;
    auto inner_spec = std::make_shared<maps::MapSpec>(
        maps::MapSpec{.type = MapType::Hash, .key_size = 8, .value_size = 8, .max_entries = 8});
    const auto a = f.add(*inner_spec), b = f.add(*inner_spec);
    const std::uint64_t key = 0x1122334455667788;
    const std::uint64_t in_a = 111, in_b = 222;
    REQUIRE(f.table.get(a)->host_update(&key, &in_a, 0) == 0);
    REQUIRE(f.table.get(b)->host_update(&key, &in_b, 0) == 0);
    maps::MapSpec outer_spec{.type = outer_type, .key_size = 4, .value_size = 4, .max_entries = 2};
    outer_spec.inner = inner_spec;
    const auto outer = f.add(outer_spec);
    // r0 = inner = lookup(outer, &0); r0 = *lookup(*inner, input) + 1000 * *lookup(a, input).
    const std::string text = "mov %r6, %r1\nstw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw_map_fd %r1, " +
                             std::to_string(outer) + "\ncall 1\njeq %r0, 0, +13\nmov %r1, %r0\nmov %r2, %r6\ncall 1\n"
                             "jeq %r0, 0, +9\nldxdw %r7, [%r0]\nmov %r2, %r6\nlddw_map_fd %r1, " + std::to_string(a) +
                             "\ncall 1\njeq %r0, 0, +3\nldxdw %r0, [%r0]\nmul %r0, 1000\nadd %r0, %r7\nexit\n";
    const auto ir = f.ir_of(assemble_program(text));
    CHECK(count_of(ir, "call v") == 3);
    CHECK(count_of(ir, " direct") == 1);  // a's: the only constant handle at a hash lookup
    std::vector<std::uint8_t> input(8);
    std::memcpy(input.data(), &key, 8);
    std::uint32_t slot = 0;
    for (std::uint32_t inner : {a, b, a}) {
      std::uint32_t fd = inner;
      REQUIRE(f.table.get(outer)->host_update(&slot, &fd, 0) == 0);
      f.require_same(text, input);
    }
  }
}
