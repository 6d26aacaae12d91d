// Kernel errnos per map type and flag: creation checks and element operations (values from bpf(2),
// Documentation/bpf/map_*.rst and kernel/bpf/*.c; tests/maps/kernel_diff.cpp checks them against bpf()).
#include <linux/bpf.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "maps/local_storage_map.hpp"
#include "maps/map.hpp"
#include "maps/map_table.hpp"
#include "maps/perf_event_array_map.hpp"
#include "maps/prog_array_map.hpp"
#include "maps/sock_map.hpp"
#include "tests/maps/map_spec_builder.hpp"

using namespace bpfvm::maps;
using bpfvm::maps::testing::make;
using bpfvm::maps::testing::spec;

namespace {

int create_errno(const MapSpec& s) { return check_map_spec(s).err; }

}  // namespace

TEST_CASE("map type numbers and flag values match linux/bpf.h", "[maps]") {
  STATIC_REQUIRE(static_cast<int>(MapType::Hash) == BPF_MAP_TYPE_HASH);
  STATIC_REQUIRE(static_cast<int>(MapType::LpmTrie) == BPF_MAP_TYPE_LPM_TRIE);
  STATIC_REQUIRE(static_cast<int>(MapType::Queue) == BPF_MAP_TYPE_QUEUE);
  STATIC_REQUIRE(static_cast<int>(MapType::Ringbuf) == BPF_MAP_TYPE_RINGBUF);
  STATIC_REQUIRE(static_cast<int>(MapType::BloomFilter) == BPF_MAP_TYPE_BLOOM_FILTER);
  STATIC_REQUIRE(static_cast<int>(MapType::UserRingbuf) == BPF_MAP_TYPE_USER_RINGBUF);
  STATIC_REQUIRE(kBpfFNoPrealloc == BPF_F_NO_PREALLOC);
  STATIC_REQUIRE(kBpfFRdonlyProg == BPF_F_RDONLY_PROG);
  STATIC_REQUIRE(kBpfFInnerMap == BPF_F_INNER_MAP);
  STATIC_REQUIRE(kBpfFLock == BPF_F_LOCK);
  STATIC_REQUIRE(kBpfRbForceWakeup == BPF_RB_FORCE_WAKEUP);
  STATIC_REQUIRE(kBpfRbProdPos == BPF_RB_PROD_POS);
  CHECK(map_type_name(MapType::LruPercpuHash) == "BPF_MAP_TYPE_LRU_PERCPU_HASH");
  CHECK(map_type_name(static_cast<MapType>(99)) == "BPF_MAP_TYPE_99");
}

TEST_CASE("creation checks follow map_alloc_check", "[maps]") {
  CHECK(create_errno(spec(MapType::Array, 4, 8, 1)) == 0);
  CHECK(create_errno(spec(MapType::Array, 8, 8, 1)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Array, 4, 0, 1)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Array, 4, 8, 0)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Array, 4, 8, 1, kBpfFNoPrealloc)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Array, 4, 8, 1, kBpfFRdonlyProg | kBpfFWronlyProg)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Array, 4, 8, 1, kBpfFRdonly | kBpfFWronly)) == -EINVAL);
  CHECK(create_errno(spec(MapType::PercpuArray, 4, 8, 1, kBpfFMmapable)) == -EINVAL);
  CHECK(create_errno(spec(MapType::PercpuArray, 4, 40000, 1)) == -E2BIG);
  CHECK(create_errno(spec(MapType::Hash, 4, 8, 1)) == 0);
  CHECK(create_errno(spec(MapType::Hash, 0, 8, 1)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Hash, 4, 8, 1, kBpfFNoCommonLru)) == -EINVAL);
  CHECK(create_errno(spec(MapType::LruHash, 4, 8, 1, kBpfFNoPrealloc)) == -kENOTSUPP);
  CHECK(create_errno(spec(MapType::Hash, 4, 8, 1, kBpfFMmapable)) == -EINVAL);
  CHECK(create_errno(spec(MapType::LpmTrie, 8, 8, 1)) == -EINVAL);  // needs BPF_F_NO_PREALLOC
  CHECK(create_errno(spec(MapType::LpmTrie, 8, 8, 1, kBpfFNoPrealloc)) == 0);
  CHECK(create_errno(spec(MapType::LpmTrie, 4, 8, 1, kBpfFNoPrealloc)) == -EINVAL);
  CHECK(create_errno(spec(MapType::LpmTrie, 261, 8, 1, kBpfFNoPrealloc)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Queue, 0, 8, 4)) == 0);
  CHECK(create_errno(spec(MapType::Queue, 4, 8, 4)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Stack, 0, 0, 4)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Ringbuf, 0, 0, 4096)) == 0);
  CHECK(create_errno(spec(MapType::Ringbuf, 0, 0, 4096 * 3)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Ringbuf, 0, 0, 2048)) == -EINVAL);
  CHECK(create_errno(spec(MapType::Ringbuf, 4, 0, 4096)) == -EINVAL);
  CHECK(create_errno(spec(MapType::ProgArray, 4, 8, 4)) == -EINVAL);
  CHECK(create_errno(spec(MapType::ProgArray, 4, 4, 4, kBpfFRdonlyProg)) == -EINVAL);
  CHECK(create_errno(spec(MapType::PerfEventArray, 4, 4, 4, kBpfFPreserveElems)) == 0);
  CHECK(create_errno(spec(MapType::Array, 4, 4, 4, kBpfFPreserveElems)) == -EINVAL);
  CHECK(create_errno(spec(MapType::ArrayOfMaps, 4, 4, 4)) == -EBADF);  // no inner template
  auto bloom = spec(MapType::BloomFilter, 0, 8, 100);
  CHECK(create_errno(bloom) == 0);
  bloom.map_extra = 16;
  CHECK(create_errno(bloom) == -EINVAL);
  auto extra = spec(MapType::Hash, 4, 4, 4);
  extra.map_extra = 1;
  CHECK(create_errno(extra) == -EINVAL);
  auto named = spec(MapType::Hash, 4, 4, 4);
  named.name = "bad-name";
  CHECK(create_errno(named) == -EINVAL);
  named.name = "good_name.1";
  CHECK(create_errno(named) == 0);

  auto r = create_map(spec(MapType::Array, 8, 8, 1));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == bpfvm::Errc::InvalidArgument);
  CHECK(r.error().reason == "EINVAL: BPF_MAP_TYPE_ARRAY: array key_size must be 4");
  auto u = create_map(spec(MapType::StructOps, 4, 8, 1));
  REQUIRE_FALSE(u.has_value());
  CHECK(u.error().code == bpfvm::Errc::Unsupported);
}

// stackmap.c as 6.18 answers (maps_kernel_diff compares with a kernel map): the create rules, and an
// empty map's errnos (bpfvm never records a trace: bpf_get_stackid has no call chain in a process).
TEST_CASE("stack trace map", "[maps][stack_trace]") {
  CHECK(create_errno(spec(MapType::StackTrace, 4, 8, 4)) == 0);
  CHECK(create_errno(spec(MapType::StackTrace, 4, 127 * 8, 4)) == 0);
  CHECK(create_errno(spec(MapType::StackTrace, 4, 128 * 8, 4)) == -EINVAL);
  CHECK(create_errno(spec(MapType::StackTrace, 8, 8, 4)) == -EINVAL);
  CHECK(create_errno(spec(MapType::StackTrace, 4, 12, 4)) == -EINVAL);
  CHECK(create_errno(spec(MapType::StackTrace, 4, 8, 0)) == -EINVAL);
  CHECK(create_errno(spec(MapType::StackTrace, 4, 8, 4, kBpfFNoPrealloc)) == -EINVAL);
  CHECK(create_errno(spec(MapType::StackTrace, 4, 32, 4, kBpfFStackBuildId)) == 0);
  CHECK(create_errno(spec(MapType::StackTrace, 4, 40, 4, kBpfFStackBuildId)) == -EINVAL);
  CHECK(create_errno(spec(MapType::StackTrace, 4, 8, (1u << 31) + 1)) == -E2BIG);
  auto m = make(spec(MapType::StackTrace, 4, 16, 5));  // 8 buckets
  std::uint32_t id = 0, next = 99, far = 8;
  std::uint64_t v[2] = {1, 2};
  CHECK(m->lookup_copy(&id, v) == -ENOENT);
  CHECK(m->host_update(&id, v, kBpfAny) == -EINVAL);
  CHECK(m->host_erase(&id) == -ENOENT);
  CHECK(m->host_erase(&far) == -E2BIG);
  CHECK(m->get_next_key(nullptr, &next) == -ENOENT);
  CHECK(m->lookup_and_delete(&id, v) == -ENOENT);
}

// local_storage.c's cgroup storage as 6.18 answers with nothing attached (maps_kernel_diff compares); a
// bpf_spin_lock is allowed in the shared kind's value only (map_check_btf).
TEST_CASE("cgroup storage map", "[maps][cgroup_storage]") {
  CHECK(create_errno(spec(MapType::CgroupStorage, 16, 8, 0)) == 0);
  CHECK(create_errno(spec(MapType::CgroupStorage, 8, 8, 0)) == 0);
  CHECK(create_errno(spec(MapType::CgroupStorage, 4, 8, 0)) == -EINVAL);
  CHECK(create_errno(spec(MapType::CgroupStorage, 16, 8, 1)) == -EINVAL);
  CHECK(create_errno(spec(MapType::PercpuCgroupStorage, 16, 32769, 0)) == -E2BIG);
  CHECK(create_errno(spec(MapType::CgroupStorage, 16, 8, 0, kBpfFNoPrealloc)) == -EINVAL);
  auto locked = spec(MapType::CgroupStorage, 16, 8, 0);
  locked.spin_lock_off = 0;
  CHECK(create_errno(locked) == 0);
  locked.type = MapType::PercpuCgroupStorage;
  CHECK(create_errno(locked) == -EOPNOTSUPP);
  auto m = make(spec(MapType::CgroupStorage, 16, 8, 0));
  std::uint64_t key[2] = {1, 2}, v = 7, next[2];
  CHECK(m->lookup_copy(key, &v) == -ENOENT);
  CHECK(m->host_update(key, &v, kBpfAny) == -ENOENT);
  CHECK(m->host_update(key, &v, kBpfNoexist) == -EINVAL);
  CHECK(m->host_erase(key) == -EINVAL);
  CHECK(m->get_next_key(nullptr, next) == -ENOENT);
}

// Without a kernel (maps_kernel_diff compares these with one): sock_map.c's errnos for fds that are
// not sockets, the cookie from a host lookup, and an embedder's resolver.
TEST_CASE("sockmap/sockhash errnos", "[maps][sockmap]") {
  auto m = make(spec(MapType::Sockmap, 4, 8, 2));
  std::uint32_t k = 0, big = 2;
  std::uint64_t fd = 0x7fff0000u, out = 0;
  CHECK(m->host_update(&k, &fd, kBpfAny) == -EBADF);  // no such fd
  fd = 0x100000000ull;
  CHECK(m->host_update(&k, &fd, kBpfAny) == -EINVAL);  // above S32_MAX
  CHECK(m->host_erase(&k) == -EINVAL);                // an empty slot
  CHECK(m->lookup_copy(&k, &out) == -ENOENT);
  static_cast<SockMap&>(*m).set_resolver([](int f, SocketRef& r) {
    if (f != 7) return -ENOTSOCK;
    r.cookie = 4242;
    return 0;
  });
  fd = 7;
  CHECK(m->host_update(&k, &fd, 3) == -EINVAL);
  CHECK(m->host_update(&big, &fd, kBpfAny) == -E2BIG);
  CHECK(m->host_update(&k, &fd, kBpfExist) == -ENOENT);
  CHECK(m->host_update(&k, &fd, kBpfNoexist) == 0);
  CHECK(m->host_update(&k, &fd, kBpfNoexist) == -EEXIST);
  CHECK(m->lookup_copy(&k, &out) == 0);
  CHECK(out == 4242);
  fd = 8;
  CHECK(m->host_update(&k, &fd, kBpfAny) == -ENOTSOCK);
  CHECK(m->host_erase(&k) == 0);
  auto narrow = make(spec(MapType::Sockhash, 4, 4, 2));
  CHECK(narrow->lookup_copy(&k, &out) == -ENOSPC);  // only an 8-byte value takes the cookie
  CHECK(narrow->host_erase(&k) == -ENOENT);
  CHECK(create_map(spec(MapType::Sockhash, 513, 8, 2)).error().reason.rfind("E2BIG", 0) == 0);
}

TEST_CASE("array errnos", "[maps][array]") {
  auto m = make(spec(MapType::Array, 4, 8, 4));
  std::uint32_t k = 1;
  std::uint64_t v = 42, out = 0;
  CHECK(m->update(&k, &v, kBpfAny) == 0);
  CHECK(m->update(&k, &v, kBpfExist) == 0);
  CHECK(m->update(&k, &v, kBpfNoexist) == -EEXIST);
  CHECK(m->update(&k, &v, 3) == -EINVAL);
  CHECK(m->update(&k, &v, kBpfFLock) == -EINVAL);  // no bpf_spin_lock in the value
  std::uint32_t big = 4;
  CHECK(m->update(&big, &v, kBpfAny) == -E2BIG);
  CHECK(m->update(&big, &v, 3) == -EINVAL);  // flags are checked first
  CHECK(m->lookup(&big) == nullptr);
  CHECK(m->lookup_copy(&big, &out) == -ENOENT);
  CHECK(m->lookup_copy(&k, &out) == 0);
  CHECK(out == 42);
  CHECK(m->lookup_copy(&k, &out, 8) == -EINVAL);
  CHECK(m->erase(&k) == -EINVAL);
  CHECK(m->lookup_and_delete(&k, &out) == -kENOTSUPP);
  std::uint32_t next = 99;
  CHECK(m->get_next_key(nullptr, &next) == 0);
  CHECK(next == 0);
  CHECK(m->get_next_key(&big, &next) == 0);
  CHECK(next == 0);
  CHECK(m->get_next_key(&k, &next) == 0);
  CHECK(next == 2);
  std::uint32_t last = 3;
  CHECK(m->get_next_key(&last, &next) == -ENOENT);
  std::uint64_t dummy;
  CHECK(m->push(&dummy, 0) == -EINVAL);
  CHECK(m->pop(&dummy) == -EINVAL);
}

TEST_CASE("freeze and access flags", "[maps]") {
  auto m = make(spec(MapType::Hash, 4, 8, 4));
  std::uint32_t k = 1;
  std::uint64_t v = 7, out;
  CHECK(m->host_update(&k, &v, kBpfAny) == 0);
  CHECK(m->freeze() == 0);
  CHECK(m->freeze() == -EPERM);  // the frozen map lost write permission (checked with bpf())
  CHECK(m->host_update(&k, &v, kBpfAny) == -EPERM);
  CHECK(m->host_erase(&k) == -EPERM);
  CHECK(m->lookup_copy(&k, &out) == 0);
  CHECK(m->update(&k, &v, kBpfAny) == 0);  // programs may still write a frozen map

  auto ro = make(spec(MapType::Array, 4, 8, 4, kBpfFRdonly));
  CHECK(ro->host_update(&k, &v, kBpfAny) == -EPERM);
  CHECK(ro->freeze() == -EPERM);
  auto wo = make(spec(MapType::Array, 4, 8, 4, kBpfFWronly));
  CHECK(wo->lookup_copy(&k, &out) == -EPERM);
  CHECK(wo->get_next_key(nullptr, &k) == -EPERM);

  auto rdprog = make(spec(MapType::Array, 4, 8, 4, kBpfFRdonlyProg));
  const auto p = reinterpret_cast<std::uintptr_t>(rdprog->lookup(&k));
  CHECK(rdprog->owns(p, 8, false));
  CHECK_FALSE(rdprog->owns(p, 8, true));
  CHECK_FALSE(rdprog->owns(p + 4, 8, false));  // crosses into the next element's padding
}

TEST_CASE("hash errnos", "[maps][hash]") {
  for (std::uint32_t flags : {0u, kBpfFNoPrealloc}) {
    auto m = make(spec(MapType::Hash, 4, 8, 2, flags));
    std::uint32_t k1 = 1, k2 = 2, k3 = 3;
    std::uint64_t v = 5, out = 0;
    CHECK(m->update(&k1, &v, kBpfExist) == -ENOENT);
    CHECK(m->update(&k1, &v, kBpfNoexist) == 0);
    CHECK(m->update(&k1, &v, kBpfNoexist) == -EEXIST);
    CHECK(m->update(&k1, &v, kBpfExist) == 0);
    CHECK(m->update(&k1, &v, 4 | 8) == -EINVAL);
    CHECK(m->update(&k1, &v, kBpfFLock) == -EINVAL);
    CHECK(m->update(&k2, &v, kBpfAny) == 0);
    CHECK(m->update(&k3, &v, kBpfAny) == -E2BIG);
    CHECK(m->update(&k3, &v, kBpfExist) == -ENOENT);  // flags before capacity
    CHECK(m->update(&k1, &v, kBpfAny) == 0);          // replacing works when full
    CHECK(m->erase(&k3) == -ENOENT);
    CHECK(m->lookup_and_delete(&k1, &out) == 0);
    CHECK(out == 5);
    CHECK(m->lookup_and_delete(&k1, &out) == -ENOENT);
    CHECK(m->lookup_and_delete(&k2, &out, 1) == -EINVAL);
    CHECK(m->erase(&k2) == 0);
    CHECK(m->get_next_key(nullptr, &k3) == -ENOENT);
    CHECK(m->update(&k3, &v, kBpfAny) == 0);
  }
}

TEST_CASE("hash get_next_key walks every key once", "[maps][hash]") {
  auto m = make(spec(MapType::Hash, 4, 4, 64));
  for (std::uint32_t k = 0; k < 50; ++k) REQUIRE(m->update(&k, &k, kBpfAny) == 0);
  std::vector<bool> seen(50);
  std::uint32_t key = 0, next = 0;
  int n = 0;
  for (const void* cur = nullptr; m->get_next_key(cur, &next) == 0; cur = &key) {
    REQUIRE(next < 50);
    CHECK_FALSE(seen[next]);
    seen[next] = true;
    key = next;
    ++n;
  }
  CHECK(n == 50);
  std::uint32_t missing = 999;
  CHECK(m->get_next_key(&missing, &next) == 0);  // unknown key restarts at the first
}

TEST_CASE("spin lock values and BPF_F_LOCK", "[maps][hash]") {
  auto s = spec(MapType::Hash, 4, 16, 4);
  s.spin_lock_off = 0;
  auto m = make(s);
  std::uint32_t k = 1;
  std::uint32_t v[4] = {0xdead, 1, 2, 3};
  std::uint32_t out[4] = {9, 9, 9, 9};
  CHECK(m->update(&k, v, kBpfExist | kBpfFLock) == -ENOENT);
  CHECK(m->update(&k, v, kBpfAny | kBpfFLock) == 0);  // inserts like BPF_ANY
  CHECK(m->update(&k, v, kBpfNoexist | kBpfFLock) == -EEXIST);
  CHECK(m->lookup_copy(&k, out, kBpfFLock) == 0);
  CHECK(out[0] == 0);  // the lock word reads as zero
  CHECK(out[3] == 3);
  std::uint32_t w[4] = {0, 7, 8, 9};
  CHECK(m->host_update(&k, w, kBpfExist | kBpfFLock) == 0);
  CHECK(m->lookup_copy(&k, out) == 0);
  CHECK(out[1] == 7);
  auto pc = make(spec(MapType::PercpuHash, 4, 16, 4));
  CHECK(pc->update(&k, v, kBpfFLock) == -EINVAL);
}

TEST_CASE("per-CPU hash and array errnos and layouts", "[maps][percpu]") {
  auto h = make(spec(MapType::PercpuHash, 4, 4, 2), 3);
  REQUIRE(h->host_value_size() == 24);  // 3 CPUs x round_up(4, 8)
  std::uint32_t k = 1;
  std::uint32_t one = 11;
  CHECK(h->update(&k, &one, kBpfFLock) == -EINVAL);
  CHECK(h->update(&k, &one, kBpfAny) == 0);  // host thread: CPU 0 gets it, the others zero
  std::uint8_t all[24];
  std::memset(all, 0xff, sizeof all);
  REQUIRE(h->lookup_copy(&k, all) == 0);
  std::uint32_t got[6];
  std::memcpy(got, all, sizeof got);
  CHECK(got[0] == 11);
  CHECK(got[2] == 0);
  CHECK(got[4] == 0);
  std::uint64_t host[3] = {100, 200, 300};
  CHECK(h->host_update(&k, host, kBpfExist) == 0);
  {
    RunDomain& d = h->domain();
    RunGuard g(d);
    std::uint32_t v;
    std::memcpy(&v, h->lookup(&k), 4);
    CHECK(v == host[g.cpu()]);
  }

  auto a = make(spec(MapType::PercpuArray, 4, 4, 2), 2);
  std::uint64_t two[2] = {1, 2};
  CHECK(a->host_update(&k, two, kBpfNoexist) == -EEXIST);
  CHECK(a->host_update(&k, two, kBpfFLock) == -EINVAL);
  std::uint32_t bad = 2;
  CHECK(a->host_update(&bad, two, kBpfAny) == -E2BIG);
  CHECK(a->host_update(&k, two, kBpfAny) == 0);
  std::uint64_t back[2] = {};
  CHECK(a->lookup_copy(&k, back) == 0);
  CHECK(back[0] == 1);
  CHECK(back[1] == 2);
}

TEST_CASE("queue and stack errnos", "[maps][queue]") {
  auto q = make(spec(MapType::Queue, 0, 4, 2));
  std::uint32_t v = 1, out = 0;
  CHECK(q->pop(&out) == -ENOENT);
  CHECK(q->peek(&out) == -ENOENT);
  CHECK(q->push(&v, kBpfNoexist) == -EINVAL);
  CHECK(q->push(&v, 4) == -EINVAL);
  CHECK(q->push(&v, kBpfAny) == 0);
  v = 2;
  CHECK(q->push(&v, kBpfAny) == 0);
  v = 3;
  CHECK(q->push(&v, kBpfAny) == -E2BIG);
  CHECK(q->push(&v, kBpfExist) == 0);  // overwrites the oldest (1)
  CHECK(q->lookup_copy(nullptr, &out) == 0);
  CHECK(out == 2);
  CHECK(q->lookup_and_delete(nullptr, &out, kBpfFLock) == -EINVAL);
  CHECK(q->lookup_and_delete(nullptr, &out) == 0);
  CHECK(out == 2);
  CHECK(q->pop(&out) == 0);
  CHECK(out == 3);
  CHECK(q->host_erase(nullptr) == -EINVAL);
  CHECK(q->get_next_key(nullptr, &out) == -EINVAL);
  CHECK(q->update(nullptr, &v, 0) == -EINVAL);

  auto s = make(spec(MapType::Stack, 0, 4, 3));
  for (std::uint32_t i = 1; i <= 3; ++i) CHECK(s->host_update(nullptr, &i, kBpfAny) == 0);
  CHECK(s->pop(&out) == 0);
  CHECK(out == 3);
  CHECK(s->peek(&out) == 0);
  CHECK(out == 2);
}

TEST_CASE("bloom filter errnos", "[maps][bloom]") {
  auto s = spec(MapType::BloomFilter, 0, 4, 100);
  s.map_extra = 3;
  auto m = make(s);
  std::uint32_t v = 17;
  CHECK(m->peek(&v) == -ENOENT);
  CHECK(m->push(&v, kBpfExist) == -EINVAL);
  CHECK(m->push(&v, kBpfAny) == 0);
  CHECK(m->peek(&v) == 0);
  CHECK(m->lookup_copy(nullptr, &v) == 0);
  CHECK(m->pop(&v) == -EOPNOTSUPP);
  CHECK(m->host_erase(nullptr) == -EOPNOTSUPP);
  CHECK(m->get_next_key(nullptr, &v) == -EOPNOTSUPP);
  CHECK(m->lookup(&v) == nullptr);
  int misses = 0;
  for (std::uint32_t x = 1000; x < 1100; ++x) misses += m->peek(&x) == -ENOENT;
  CHECK(misses > 90);  // false positives are rare at this load
}

TEST_CASE("lpm trie errnos", "[maps][lpm]") {
  auto m = make(spec(MapType::LpmTrie, 8, 4, 2, kBpfFNoPrealloc));
  struct Key {
    std::uint32_t prefixlen;
    std::uint8_t data[4];
  };
  Key k{33, {10, 0, 0, 0}};
  std::uint32_t v = 1;
  CHECK(m->update(&k, &v, kBpfAny) == -EINVAL);  // prefixlen > 32
  CHECK(m->erase(&k) == -EINVAL);
  k.prefixlen = 8;
  CHECK(m->update(&k, &v, 3) == -EINVAL);
  CHECK(m->update(&k, &v, kBpfExist) == -ENOENT);
  CHECK(m->update(&k, &v, kBpfNoexist) == 0);
  CHECK(m->update(&k, &v, kBpfNoexist) == -EEXIST);
  CHECK(m->update(&k, &v, kBpfExist) == 0);
  Key k2{16, {10, 1, 0, 0}};
  CHECK(m->update(&k2, &v, kBpfAny) == 0);
  Key k3{24, {10, 1, 2, 0}};
  CHECK(m->update(&k3, &v, kBpfAny) == -ENOSPC);
  CHECK(m->update(&k2, &v, kBpfAny) == 0);  // replacing in a full trie is fine
  CHECK(m->erase(&k3) == -ENOENT);
  Key k16{16, {10, 0, 0, 0}};
  CHECK(m->erase(&k16) == -ENOENT);
  CHECK(m->erase(&k2) == 0);
  CHECK(m->lookup_and_delete(&k, &v) == -kENOTSUPP);
}

TEST_CASE("ringbuf element operations are ENOTSUPP", "[maps][ringbuf]") {
  auto m = make(spec(MapType::Ringbuf, 0, 0, 4096));
  std::uint32_t k = 0, v = 0;
  CHECK(m->lookup_copy(&k, &v) == -kENOTSUPP);
  CHECK(m->host_update(&k, &v, 0) == -kENOTSUPP);
  CHECK(m->host_erase(&k) == -kENOTSUPP);
  CHECK(m->get_next_key(nullptr, &k) == -kENOTSUPP);
}

TEST_CASE("batch operations", "[maps][batch]") {
  auto a = make(spec(MapType::Array, 4, 4, 5));
  std::uint32_t keys[5] = {0, 1, 2, 3, 4}, vals[5] = {10, 11, 12, 13, 14};
  std::uint32_t count = 5;
  CHECK(a->update_batch(keys, vals, count) == 0);
  CHECK(count == 5);
  std::uint32_t del = 5;
  CHECK(a->delete_batch(keys, del) == -kENOTSUPP);
  std::uint32_t ok[5], ov[5], cursor = 0;
  count = 3;
  CHECK(a->lookup_batch(nullptr, &cursor, ok, ov, count) == 0);
  CHECK(count == 3);
  CHECK(cursor == 2);
  CHECK(ov[2] == 12);
  count = 3;
  CHECK(a->lookup_batch(&cursor, &cursor, ok, ov, count) == -ENOENT);
  CHECK(count == 2);
  CHECK(ov[1] == 14);
  count = 1;
  CHECK(a->lookup_batch(nullptr, &cursor, ok, ov, count, 0, true) == -kENOTSUPP);

  auto h = make(spec(MapType::Hash, 4, 4, 8));
  count = 5;
  CHECK(h->update_batch(keys, vals, count, kBpfNoexist) == -EINVAL);  // elem_flags: only BPF_F_LOCK
  count = 5;
  CHECK(h->update_batch(keys, vals, count) == 0);
  CHECK(count == 5);
  std::uint32_t total = 0, bucket = 0;
  bool first = true;
  for (;;) {
    count = 5;
    const int rc = h->lookup_batch(first ? nullptr : &bucket, &bucket, ok, ov, count, 0, true);
    first = false;
    total += count;
    if (rc == -ENOENT) break;
    REQUIRE(rc == 0);
  }
  CHECK(total == 5);
  CHECK(h->get_next_key(nullptr, &cursor) == -ENOENT);  // all deleted
  count = 0;
  CHECK(h->lookup_batch(nullptr, &bucket, ok, ov, count) == 0);
}

TEST_CASE("fd arrays: prog array and perf event array", "[maps][fd]") {
  auto p = make(spec(MapType::ProgArray, 4, 4, 4));
  auto* pa = dynamic_cast<ProgArrayMap*>(p.get());
  REQUIRE(pa);
  std::uint32_t k = 1, fd = 5, out = 0;
  CHECK(p->host_update(&k, &fd, kBpfAny) == -EBADF);  // no resolver
  int prog_token = 0;
  pa->set_resolver([&](std::uint32_t f, ProgramRef& ref) {
    if (f != 5) return -EBADF;
    ref = ProgramRef{&prog_token, 77};
    return 0;
  });
  CHECK(p->host_update(&k, &fd, kBpfNoexist) == -EINVAL);
  std::uint32_t big = 4;
  CHECK(p->host_update(&big, &fd, kBpfAny) == -E2BIG);
  std::uint32_t bad_fd = 6;
  CHECK(p->host_update(&k, &bad_fd, kBpfAny) == -EBADF);
  CHECK(p->host_update(&k, &fd, kBpfAny) == 0);
  CHECK(pa->get_program(1) == &prog_token);
  CHECK(pa->get_program(0) == nullptr);
  CHECK(p->lookup_copy(&k, &out) == 0);
  CHECK(out == 77);
  CHECK(p->lookup(&k) == nullptr);
  CHECK(p->host_erase(&big) == -E2BIG);
  CHECK(p->host_erase(&k) == 0);
  CHECK(p->host_erase(&k) == -ENOENT);

  auto e = make(spec(MapType::PerfEventArray, 4, 4, 2));
  auto* pe = dynamic_cast<PerfEventArrayMap*>(e.get());
  REQUIRE(pe);
  std::vector<std::pair<int, std::size_t>> got;
  pe->set_output([&](int cpu, std::span<const std::uint8_t> d) { got.emplace_back(cpu, d.size()); });
  const std::uint8_t msg[] = {'h', 'e', 'l', 'l', 'o'};
  CHECK(pe->output(1, msg) == -ENOENT);
  CHECK(pe->output(2, msg) == -E2BIG);
  CHECK(pe->output(std::uint64_t{1} << 32, msg) == -EINVAL);
  CHECK(e->host_update(&k, &fd, kBpfAny) == 0);
  CHECK(pe->output(1, msg) == 0);
  CHECK(e->lookup_copy(&k, &out) == -kENOTSUPP);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == std::make_pair(1, std::size_t{5}));
}


TEST_CASE("local storage maps: creation checks and host ops through a resolver", "[maps][storage]") {
  for (MapType t : {MapType::SkStorage, MapType::InodeStorage, MapType::TaskStorage, MapType::CgrpStorage}) {
    MapSpec s = spec(t, 4, 8, 0, kBpfFNoPrealloc);
    CHECK(check_map_spec(s).err == -EINVAL);  // no BTF
    s.btf_key_value = true;
    CHECK(check_map_spec(s).err == 0);
    s.value_size = 65408;
    CHECK(check_map_spec(s).err == -E2BIG);
    s.value_size = 8;
    s.max_entries = 1;
    CHECK(check_map_spec(s).err == -EINVAL);
    s.max_entries = 0;
    s.spin_lock_off = 0;
    CHECK(check_map_spec(s).err == 0);  // map_check_btf admits a bpf_spin_lock in local storage
    s.spin_lock_off = -1;
    auto m = make(s);
    auto& storage = dynamic_cast<LocalStorageMap&>(*m);
    // Objects 3 and 4 exist; fd 5 is no such object (-EBADF); the key is the fd.
    storage.set_resolver([](MapType, int fd, StorageOwner& owner) {
      if (fd != 3 && fd != 4) return -EBADF;
      owner = {0, static_cast<std::uint64_t>(fd) * 100};
      return 0;
    });
    const std::int32_t a = 3, b = 4, bad = 5;
    std::uint64_t v = 7, out = 0;
    CHECK(m->lookup_copy(&a, &out) == -ENOENT);
    CHECK(m->host_update(&a, &v, kBpfExist) == -ENOENT);
    CHECK(m->host_update(&a, &v, kBpfNoexist) == 0);
    CHECK(m->host_update(&a, &v, kBpfNoexist) == -EEXIST);
    CHECK(m->host_update(&a, &v, 3) == -EINVAL);
    CHECK(m->host_update(&bad, &v, 3) == -EBADF);  // the fd is judged before the flags
    v = 9;
    CHECK(m->host_update(&b, &v, kBpfAny) == 0);
    CHECK(m->lookup_copy(&a, &out) == 0);
    CHECK(out == 7);
    CHECK(m->lookup_copy(&b, &out) == 0);
    CHECK(out == 9);
    CHECK(storage.size() == 2);
    CHECK(m->get_next_key(&a, &out) == -kENOTSUPP);
    CHECK(m->lookup_and_delete(&a, &out) == -kENOTSUPP);
    CHECK(m->lookup(&a) == nullptr);  // programs use the storage helpers
    CHECK(m->host_erase(&a) == 0);
    CHECK(m->host_erase(&a) == -ENOENT);
    CHECK(m->host_erase(&bad) == -EBADF);
    CHECK(storage.size() == 1);
  }
}
