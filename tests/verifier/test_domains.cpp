// Domain soundness properties: for sampled a in A and b in B, op(a, b) lies in A.op(B), for every
// ALU operation and width (vm/alu_semantics.hpp is the reference), for the lattice operations, and
// for branch refinement (a value satisfying the comparison survives it).
#include <catch2/catch.hpp>

#include <random>

#include "verifier/domains/scalar_domain.hpp"
#include "verifier/transfer.hpp"
#include "vm/alu_semantics.hpp"

using namespace bpfvm;
using namespace bpfvm::verifier;
using isa::Kind;
using u64 = std::uint64_t;
using s64 = std::int64_t;

namespace {

struct Sampler {
  std::mt19937_64 rng{0x5eed};

  u64 any() {
    switch (rng() % 6) {
      case 0: return rng() % 16;
      case 1: return static_cast<u64>(-static_cast<s64>(rng() % 16));
      case 2: return rng() & 0xffffffffu;
      case 3: return (u64{1} << (rng() % 64)) + (rng() % 3) - 1;
      default: return rng();
    }
  }
  // A random abstract element built the ways the verifier builds them.
  ScalarDomain element() {
    const u64 a = any(), b = any();
    switch (rng() % 7) {
      case 0: return ScalarDomain::constant(a);
      case 1: return ScalarDomain::unsigned_range(std::min(a, b), std::max(a, b));
      case 2: return ScalarDomain::signed_range(std::min<s64>(s64(a), s64(b)), std::max<s64>(s64(a), s64(b)));
      case 3: return ScalarDomain::from_bits(Tnum::make(a, b));
      case 4: return ScalarDomain::top();
      case 5: return ScalarDomain::unsigned_range(0, rng() % 300);
      default: return ScalarDomain::constant(a).join(ScalarDomain::constant(b));
    }
  }
  // A concrete member of d (or nothing after a few tries).
  std::optional<u64> member(const ScalarDomain& d) {
    if (d.is_bottom()) return std::nullopt;
    for (int i = 0; i < 64; ++i) {
      u64 v;
      switch (rng() % 6) {
        case 0: v = d.umin(); break;
        case 1: v = d.umax(); break;
        case 2: v = static_cast<u64>(d.smin()); break;
        case 3: v = static_cast<u64>(d.smax()); break;
        case 4: v = d.bits().value() | (rng() & d.bits().mask()); break;
        default: v = d.umax() > d.umin() ? d.umin() + rng() % (d.umax() - d.umin() + 1 == 0 ? ~u64{0} : d.umax() - d.umin() + 1) : d.umin();
      }
      if (d.contains(v)) return v;
    }
    return std::nullopt;
  }
};

u64 concrete(Kind k, int width, u64 a, u64 b) { return vm::alu::binary(k, width == 64, a, b).value_or(0); }

bool condition(Kind k, int width, u64 a, u64 b) { return vm::alu::condition(k, width == 64, a, b).value_or(false); }

constexpr Kind kAluKinds[] = {Kind::Add, Kind::Sub, Kind::Mul, Kind::Div, Kind::SDiv, Kind::Mod, Kind::SMod,
                              Kind::Or, Kind::And, Kind::Xor, Kind::Lsh, Kind::Rsh, Kind::Arsh, Kind::Mov};
constexpr Kind kJumpKinds[] = {Kind::Jeq, Kind::Jne, Kind::Jgt, Kind::Jge, Kind::Jlt, Kind::Jle,
                               Kind::Jset, Kind::Jsgt, Kind::Jsge, Kind::Jslt, Kind::Jsle};

}  // namespace

TEST_CASE("Tnum: constant and range elements contain their members") {
  CHECK(Tnum::constant(5).contains(5));
  CHECK_FALSE(Tnum::constant(5).contains(4));
  const Tnum r = Tnum::range(16, 31);
  for (u64 v = 16; v <= 31; ++v) CHECK(r.contains(v));
  CHECK(Tnum::unknown().contains(~u64{0}));
}

TEST_CASE("ScalarDomain: constructors are not bottom and contain what they describe") {
  CHECK_FALSE(ScalarDomain::top().is_bottom());
  CHECK(ScalarDomain::top().contains(0));
  CHECK(ScalarDomain::top().contains(~u64{0}));
  CHECK(ScalarDomain::signed_range(-16, -9).contains(static_cast<u64>(-12)));
  CHECK(ScalarDomain::unsigned_range(0, 7).umax() == 7);
  CHECK(ScalarDomain::bottom().is_bottom());
}

TEST_CASE("ScalarDomain: top and constants skip the reduction, so they must equal their reduced forms") {
  CHECK(ScalarDomain::top() == ScalarDomain::from_bits(Tnum::unknown()));
  for (const u64 v : {u64{0}, u64{1}, u64{0x7fffffff}, u64{0x80000000}, u64{0xffffffff}, u64{0x100000000},
                      u64{0x8000000000000000}, ~u64{0}, static_cast<u64>(-12)})
    CHECK(ScalarDomain::constant(v) == ScalarDomain::from_bits(Tnum::constant(v)));
}

TEST_CASE("ScalarDomain soundness: every ALU operation at both widths") {
  Sampler s;
  int checked = 0;
  for (int round = 0; round < 4000; ++round) {
    const ScalarDomain A = s.element(), B = s.element();
    for (Kind k : kAluKinds) {
      for (int width : {64, 32}) {
        const ScalarDomain R = scalar_alu(k, width, A, B);
        for (int i = 0; i < 4; ++i) {
          const auto a = s.member(A), b = s.member(B);
          if (!a || !b) continue;
          const u64 r = concrete(k, width, *a, *b);
          INFO("op " << int(k) << " width " << width << " a=" << *a << " b=" << *b << " r=" << r);
          INFO("R u=[" << R.umin() << "," << R.umax() << "] s=[" << R.smin() << "," << R.smax() << "] bits=("
                       << R.bits().value() << ";" << R.bits().mask() << ")");
          REQUIRE(R.contains(r));
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 100000);
}

TEST_CASE("ScalarDomain soundness: unary operations, truncation, sign extension, byte swaps") {
  Sampler s;
  for (int round = 0; round < 20000; ++round) {
    const ScalarDomain A = s.element();
    const auto a = s.member(A);
    if (!a) continue;
    INFO("a=" << *a);
    REQUIRE(A.neg().contains(vm::alu::neg64(*a)));
    for (unsigned bits : {8u, 16u, 32u}) {
      REQUIRE(A.truncate(bits).contains(vm::alu::to_le(*a, 64) & ((u64{1} << bits) - 1)));
      REQUIRE(A.sign_extend(bits).contains(bits == 32 ? vm::alu::movsx64(*a, 32)
                                                      : vm::alu::movsx64(*a, static_cast<int>(bits))));
    }
    for (int bits : {16, 32, 64}) REQUIRE(A.byte_swap(static_cast<unsigned>(bits)).contains(vm::alu::bswap(*a, bits)));
  }
}

TEST_CASE("ScalarDomain lattice: join contains both, meet keeps common members, leq agrees") {
  Sampler s;
  for (int round = 0; round < 20000; ++round) {
    const ScalarDomain A = s.element(), B = s.element();
    const ScalarDomain J = A.join(B);
    REQUIRE(A.leq(J));
    REQUIRE(B.leq(J));
    REQUIRE(A.leq(A.widen(B)));
    REQUIRE(B.leq(A.widen(B)));
    const auto a = s.member(A);
    if (a) {
      REQUIRE(J.contains(*a));
      if (B.contains(*a)) REQUIRE(A.meet(B).contains(*a));
    }
  }
}

TEST_CASE("Branch refinement soundness: values satisfying a comparison survive it") {
  Sampler s;
  int checked = 0;
  for (int round = 0; round < 6000; ++round) {
    const ScalarDomain A = s.element(), B = s.element();
    for (Kind k : kJumpKinds) {
      for (int width : {64, 32}) {
        for (int i = 0; i < 3; ++i) {
          const auto a = s.member(A), b = s.member(B);
          if (!a || !b) continue;
          const bool taken = condition(k, width, *a, *b);
          const auto [ra, rb] = refine_branch(k, width, taken, A, B);
          INFO("jump " << int(k) << " width " << width << " a=" << *a << " b=" << *b << " taken=" << taken);
          REQUIRE(ra.contains(*a));
          REQUIRE(rb.contains(*b));
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 50000);
}

TEST_CASE("RegValue::leq compares scalar links up to renaming (the kernel's check_scalar_ids)") {
  auto linked = [](std::uint32_t id) {
    RegValue v = RegValue::unknown();
    v.id = id;
    return v;
  };
  const RegValue unlinked = RegValue::unknown();
  {
    // old: r1, r2 linked (id 4); cur: the same link under id 9.
    IdMap ids;
    CHECK(linked(9).leq(linked(4), ids));
    CHECK(linked(9).leq(linked(4), ids));
  }
  {
    // A link the old state gave one scalar only (a slot the register left) asks nothing of cur.
    IdMap ids;
    CHECK(unlinked.leq(linked(4), ids));
    CHECK(unlinked.leq(linked(5), ids));
  }
  {
    // A link old relied on between two scalars: cur must link them too.
    IdMap ids;
    CHECK(unlinked.leq(linked(4), ids));
    CHECK_FALSE(unlinked.leq(linked(4), ids));
  }
  {
    // Two old links cannot become one current link, nor one old link two current ones.
    IdMap ids;
    CHECK(linked(9).leq(linked(4), ids));
    CHECK_FALSE(linked(9).leq(linked(5), ids));
    IdMap other;
    CHECK(linked(9).leq(linked(4), other));
    CHECK_FALSE(linked(8).leq(linked(4), other));
  }
}
