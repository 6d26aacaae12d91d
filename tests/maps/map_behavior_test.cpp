// Map behaviour beyond errnos: LRU eviction, longest-prefix match, ring buffer ordering, map-in-map,
// per-CPU slots and deferred reclamation.
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <thread>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "maps/array_of_maps_map.hpp"
#include "maps/cgroup_array_map.hpp"
#include "maps/devmap_hash_map.hpp"
#include "maps/map.hpp"
#include "maps/map_table.hpp"
#include "maps/redirect_array_map.hpp"
#include "maps/reuseport_array_map.hpp"
#include "maps/ringbuf_map.hpp"
#include "tests/maps/map_spec_builder.hpp"

using namespace bpfvm::maps;
using bpfvm::maps::testing::make;
using bpfvm::maps::testing::spec;

namespace {
bool has(Map& m, std::uint32_t k) {
  std::uint64_t out[8];
  return m.lookup_copy(&k, out) == 0;
}
}  // namespace

TEST_CASE("LRU hash evicts the least recently used key", "[maps][lru]") {
  for (MapType t : {MapType::LruHash, MapType::LruPercpuHash}) {
    auto m = make(spec(t, 4, 8, 3));
    std::uint64_t v = 1;
    for (std::uint32_t k = 1; k <= 3; ++k) REQUIRE(m->update(&k, &v, kBpfAny) == 0);
    std::uint32_t k1 = 1;
    REQUIRE(m->lookup(&k1));  // program lookup marks key 1 as used
    std::uint32_t k4 = 4;
    CHECK(m->update(&k4, &v, kBpfAny) == 0);  // full: evicts 2, the oldest unreferenced
    CHECK(has(*m, 1));
    CHECK_FALSE(has(*m, 2));
    CHECK(has(*m, 3));
    CHECK(has(*m, 4));
    std::uint32_t k5 = 5;
    CHECK(m->update(&k5, &v, kBpfAny) == 0);  // then 3
    CHECK_FALSE(has(*m, 3));
    std::uint32_t n = 0, key = 0, next;
    for (const void* cur = nullptr; m->get_next_key(cur, &next) == 0; cur = &key) {
      key = next;
      ++n;
    }
    CHECK(n == 3);
    CHECK(m->update(&k5, &v, kBpfNoexist) == -EEXIST);
    std::uint32_t k9 = 9;
    CHECK(m->update(&k9, &v, kBpfExist) == -ENOENT);
    CHECK(m->update(&k9, &v, kBpfFLock) == -EINVAL);
  }
}

TEST_CASE("LRU hash never exceeds max_entries under churn", "[maps][lru]") {
  auto m = make(spec(MapType::LruHash, 4, 4, 16));
  for (std::uint32_t k = 0; k < 1000; ++k) REQUIRE(m->update(&k, &k, kBpfAny) == 0);
  std::uint32_t n = 0, key = 0, next;
  for (const void* cur = nullptr; m->get_next_key(cur, &next) == 0; cur = &key) {
    key = next;
    ++n;
  }
  CHECK(n == 16);
  std::uint32_t last = 999;
  CHECK(has(*m, last));
}

namespace {
struct Ip4Key {
  std::uint32_t prefixlen;
  std::uint8_t a, b, c, d;
};
std::uint32_t lpm_get(Map& m, Ip4Key k) {
  void* v = m.lookup(&k);
  if (!v) return 0;
  std::uint32_t out;
  std::memcpy(&out, v, 4);
  return out;
}
}  // namespace

TEST_CASE("LPM trie finds the longest matching prefix", "[maps][lpm]") {
  auto m = make(spec(MapType::LpmTrie, 8, 4, 16, kBpfFNoPrealloc));
  auto put = [&](std::uint32_t len, std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint32_t v) {
    Ip4Key k{len, a, b, c, 0};
    REQUIRE(m->update(&k, &v, kBpfAny) == 0);
  };
  put(8, 10, 0, 0, 8);
  put(16, 10, 1, 0, 16);
  put(24, 10, 1, 2, 24);
  put(24, 10, 1, 3, 243);
  put(0, 0, 0, 0, 100);  // default route
  CHECK(lpm_get(*m, {32, 10, 1, 2, 9}) == 24);
  CHECK(lpm_get(*m, {32, 10, 1, 3, 9}) == 243);
  CHECK(lpm_get(*m, {32, 10, 1, 9, 9}) == 16);
  CHECK(lpm_get(*m, {32, 10, 200, 9, 9}) == 8);
  CHECK(lpm_get(*m, {32, 11, 0, 0, 1}) == 100);
  CHECK(lpm_get(*m, {20, 10, 1, 2, 9}) == 16);  // the lookup key's own prefixlen bounds the match

  // postorder: more specific prefixes before the ones covering them
  std::vector<std::uint32_t> order;
  Ip4Key cur{}, next{};
  for (const void* p = nullptr; m->get_next_key(p, &next) == 0; p = &cur) {
    order.push_back(next.prefixlen);
    cur = next;
  }
  CHECK(order == std::vector<std::uint32_t>{24, 24, 16, 8, 0});

  Ip4Key k16{16, 10, 1, 0, 0};
  CHECK(m->erase(&k16) == 0);  // has two children: becomes intermediate
  CHECK(lpm_get(*m, {32, 10, 1, 9, 9}) == 8);
  CHECK(lpm_get(*m, {32, 10, 1, 2, 9}) == 24);
  Ip4Key k24{24, 10, 1, 2, 0};
  CHECK(m->erase(&k24) == 0);
  CHECK(lpm_get(*m, {32, 10, 1, 2, 9}) == 8);
  CHECK(lpm_get(*m, {32, 10, 1, 3, 9}) == 243);
  std::uint32_t out;
  CHECK(m->lookup_copy(&k24, &out) == 0);  // host lookups use longest match too
  CHECK(out == 8);
}

TEST_CASE("ring buffer delivers in reservation order and stops at busy records", "[maps][ringbuf]") {
  auto m = make(spec(MapType::Ringbuf, 0, 0, 4096));
  auto* rb = dynamic_cast<RingbufMap*>(m.get());
  REQUIRE(rb);
  CHECK(rb->reserve(8, 1) == nullptr);      // flags must be 0
  CHECK(rb->reserve(4096, 0) == nullptr);   // larger than the ring
  auto* a = static_cast<std::uint32_t*>(rb->reserve(4, 0));
  auto* b = static_cast<std::uint32_t*>(rb->reserve(4, 0));
  auto* c = static_cast<std::uint32_t*>(rb->reserve(4, 0));
  REQUIRE((a && b && c));
  CHECK(RingbufMap::from_sample(b) == rb);
  CHECK(rb->query(kBpfRbProdPos) == 48);
  CHECK(rb->query(kBpfRbAvailData) == 48);
  CHECK(rb->query(kBpfRbRingSize) == 4096);
  CHECK(m->owns(reinterpret_cast<std::uintptr_t>(a), 4, true));
  *a = 1;
  *b = 2;
  *c = 3;
  std::vector<std::uint32_t> seen;
  auto collect = [&](std::span<const std::byte> r) {
    std::uint32_t x;
    std::memcpy(&x, r.data(), 4);
    seen.push_back(x);
    return 0;
  };
  rb->submit(b, 0);
  rb->discard(c, 0);
  CHECK(rb->consume(collect) == 0);  // a is still busy
  rb->submit(a, kBpfRbNoWakeup);
  CHECK(rb->consume(collect) == 2);  // a then b; c discarded
  CHECK(seen == std::vector<std::uint32_t>{1, 2});
  CHECK(rb->query(kBpfRbConsPos) == 48);
  CHECK(rb->query(kBpfRbAvailData) == 0);
  CHECK(rb->query(99) == 0);

  const std::uint64_t before = rb->wakeups();
  std::uint32_t x = 7;
  CHECK(rb->output(&x, 4, kBpfRbNoWakeup) == 0);
  CHECK(rb->wakeups() == before);
  CHECK(rb->output(&x, 4, kBpfRbForceWakeup) == 0);
  CHECK(rb->wakeups() == before + 1);
  CHECK(rb->output(&x, 4, 4) == -EINVAL);
  CHECK(rb->consume(collect) == 2);
  CHECK(rb->output(&x, 4, 0) == 0);  // consumer caught up: this commit wakes it
  CHECK(rb->wakeups() == before + 2);

  // Fill: records of round_up(1000 + 8, 8) = 1008 bytes; at most size - 1 bytes may be in flight.
  std::vector<std::byte> big(1000);
  int accepted = 0;
  while (rb->output(big.data(), big.size(), 0) == 0) ++accepted;
  CHECK(accepted == 4);
  CHECK(rb->output(big.data(), big.size(), 0) == -EAGAIN);
  seen.clear();
  CHECK(rb->consume([](std::span<const std::byte>) { return 0; }) == 5);  // + the earlier output
  // Records now wrap past the end of the data area; the double mapping keeps each contiguous.
  for (int i = 0; i < 20; ++i) {
    auto* r = static_cast<std::byte*>(rb->reserve(1000, 0));
    REQUIRE(r);
    std::memset(r, i, 1000);
    rb->submit(r, 0);
    std::size_t got = rb->consume([&](std::span<const std::byte> rec) {
      CHECK(rec.size() == 1000);
      CHECK(rec[999] == std::byte(i));
      return 0;
    });
    CHECK(got == 1);
  }
}

TEST_CASE("MapTable names, ids and map-in-map", "[maps][table]") {
  MapTable table(2);
  auto inner_spec = std::make_shared<MapSpec>(spec(MapType::Array, 4, 4, 4));
  inner_spec->name = "inner";
  auto i0 = table.create(*inner_spec);
  REQUIRE(i0.has_value());
  MapSpec other = *inner_spec;
  other.max_entries = 8;
  other.name = "other";
  auto i1 = table.create(other);
  REQUIRE(i1.has_value());
  MapSpec outer = spec(MapType::ArrayOfMaps, 4, 4, 2);
  outer.inner = inner_spec;
  outer.name = "outer";
  auto o = table.create(outer);
  REQUIRE(o.has_value());
  MapSpec houter = spec(MapType::HashOfMaps, 4, 4, 2);
  houter.inner = inner_spec;
  auto ho = table.create(houter);
  REQUIRE(ho.has_value());

  CHECK(table.find("outer") == table.get(*o));
  CHECK(table.find("nope") == nullptr);
  CHECK(table.by_id(1) == table.get(0));
  CHECK(table.owners().size() == 4);

  Map* om = table.get(*o);
  std::uint32_t k = 0, fd = *i0, out = 0;
  CHECK(om->host_update(&k, &fd, kBpfAny) == 0);
  CHECK(om->lookup(&k) == table.get(*i0));
  CHECK(om->lookup_copy(&k, &out) == 0);
  CHECK(out == table.get(*i0)->id());
  std::uint32_t mismatched = *i1;
  CHECK(om->host_update(&k, &mismatched, kBpfAny) == -EINVAL);  // max_entries differ
  std::uint32_t missing = 42;
  CHECK(om->host_update(&k, &missing, kBpfAny) == -EBADF);
  CHECK(om->host_update(&k, &fd, kBpfNoexist) == -EINVAL);

  Map* hm = table.get(*ho);
  std::uint32_t hk = 77;
  CHECK(hm->host_update(&hk, &fd, kBpfExist) == -ENOENT);
  CHECK(hm->host_update(&hk, &fd, kBpfAny) == 0);
  CHECK(hm->lookup(&hk) == table.get(*i0));
  CHECK(hm->host_update(&hk, &fd, kBpfNoexist) == -EEXIST);
  CHECK(hm->host_erase(&hk) == 0);
  CHECK(hm->lookup(&hk) == nullptr);
}

TEST_CASE("per-CPU values follow the RunGuard slot", "[maps][percpu]") {
  auto d = std::make_shared<RunDomain>(4);
  auto m = create_map(spec(MapType::PercpuArray, 4, 8, 1), d);
  REQUIRE(m.has_value());
  std::uint32_t k = 0;
  std::set<void*> ptrs;
  {
    RunGuard g(*d);
    std::uint64_t v = 1000 + g.cpu();
    REQUIRE((*m)->update(&k, &v, kBpfAny) == 0);
    ptrs.insert((*m)->lookup(&k));
    RunGuard nested(*d);
    CHECK(nested.cpu() == g.cpu());
    std::uint64_t all[4];
    REQUIRE((*m)->lookup_copy(&k, all) == 0);
    CHECK(all[g.cpu()] == 1000 + g.cpu());
  }
  CHECK(d->this_cpu() == 0);
  CHECK_FALSE(d->in_run());
}

TEST_CASE("a deleted hash element is not reused while a run may hold it", "[maps][reclaim]") {
  auto d = std::make_shared<RunDomain>(2);
  auto m = create_map(spec(MapType::Hash, 4, 8, 1), d);
  REQUIRE(m.has_value());
  Map& h = **m;
  std::uint32_t k = 1;
  std::uint64_t v = 111;
  REQUIRE(h.update(&k, &v, kBpfAny) == 0);
  std::uint64_t* held;
  {
    RunGuard g(*d);
    held = static_cast<std::uint64_t*>(h.lookup(&k));
    REQUIRE(held);
    // Another thread (the host) deletes and refills the map while this run is active.
    std::thread([&] {
      std::uint32_t k2 = 2;
      std::uint64_t v2 = 222;
      CHECK(h.host_erase(&k) == 0);
      CHECK(h.host_update(&k2, &v2, kBpfAny) == 0);  // max_entries 1: still room after the delete
    }).join();
    CHECK(*held == 111);  // our element went to limbo, not to key 2
  }
  std::uint32_t k3 = 3;
  CHECK(h.update(&k3, &v, kBpfAny) == -E2BIG);
}

TEST_CASE("a quiescent state between runs lets memory retired meanwhile pass its grace period", "[maps][reclaim]") {
  RunDomain d(2);
  RunGuard g(d);
  const std::uint64_t tag = d.retire_tag();  // something unlinked while this run is active
  CHECK_FALSE(d.grace_passed(tag));
  g.quiescent_state();  // between two runs of a repeated test run: nothing from the earlier run is held
  CHECK(d.grace_passed(tag));
  CHECK(d.in_run());  // the slot stays claimed
  const unsigned cpu = g.cpu();
  RunGuard nested(d);
  const std::uint64_t later = d.retire_tag();
  nested.quiescent_state();  // a nested guard leaves quiescent states to the outermost one
  CHECK_FALSE(d.grace_passed(later));
  CHECK(nested.cpu() == cpu);
}

TEST_CASE("a retired tag waits for the runs that entered before it, not for later ones", "[maps][reclaim]") {
  RunDomain d(2);
  const std::uint64_t before_any_run = d.retire_tag();
  CHECK(d.grace_passed(before_any_run));  // no run active: free slots hold nothing back
  std::atomic<int> step{0};
  std::thread early([&] {
    RunGuard g(d);  // enters before the retire below
    step = 1;
    while (step.load() != 2) std::this_thread::yield();
  });
  while (step.load() != 1) std::this_thread::yield();
  const std::uint64_t tag = d.retire_tag();
  CHECK_FALSE(d.grace_passed(tag));  // the early run may still hold it
  {
    RunGuard late(d);  // the other slot, entered after the retire: it cannot have seen the memory
    CHECK(late.cpu() < 2);
    CHECK_FALSE(d.grace_passed(tag));
    step = 2;
    early.join();
    CHECK(d.grace_passed(tag));  // only the late run is active
    CHECK_FALSE(d.grace_passed(d.retire_tag()));  // but it holds what is retired now
  }
}

namespace {
// Resident memory of this process (/proc/self/statm, second field, in pages).
std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * 4096ull : 0;
}
}  // namespace

TEST_CASE("large array and preallocated hash maps use memory only for what is written", "[maps][memory]") {
  // 192 MiB of declared values each (issue #20: a 6 KB object declaring a huge map cost its whole
  // size in zeroed pages at open). Only pages a write touches may become resident.
  constexpr std::uint32_t kValueBytes = 1024, kEntries = 192 * 1024;
  for (MapType t : {MapType::Array, MapType::Hash, MapType::LruHash}) {
    const std::uint64_t before = resident_bytes();
    auto m = make(spec(t, 4, kValueBytes, kEntries));
    std::vector<std::uint8_t> value(kValueBytes, 0xab);
    for (std::uint32_t k = 0; k < 1000; ++k) REQUIRE(m->host_update(&k, value.data(), 0) == 0);
    std::vector<std::uint8_t> out(kValueBytes);
    std::uint32_t last = kEntries - 1;
    CHECK(m->lookup_copy(&last, out.data()) == (t == MapType::Array ? 0 : -ENOENT));
    if (t == MapType::Array) CHECK(out == std::vector<std::uint8_t>(kValueBytes, 0));  // still zero
    const std::uint64_t grown = resident_bytes() - before;
    INFO(map_type_name(t) << ": resident grew by " << grown << " bytes");
    CHECK(grown < (std::uint64_t{32} << 20));  // 1,000 values + hash buckets (3 MiB), far below 192 MiB
  }
}

TEST_CASE("redirect maps hold what the host registered, and programs read entries but never write them", "[maps][devmap]") {
  auto dev = make(spec(MapType::Devmap, 4, 8, 4));
  auto& devmap = static_cast<RedirectArrayMap&>(*dev);
  devmap.set_device_check([](std::uint32_t ifindex) { return ifindex == 7; });  // the host's only interface
  std::uint32_t key = 2, val[2] = {7, 0xffffffffu}, out[2] = {0, 0};
  CHECK(dev->host_update(&key, val, kBpfAny) == 0);
  val[0] = 8;
  CHECK(dev->host_update(&key, val, kBpfAny) == -EINVAL);  // no interface 8
  REQUIRE(dev->lookup_copy(&key, out) == 0);
  CHECK((out[0] == 7 && out[1] == 0));  // {ifindex, program id}
  auto* entry = static_cast<std::uint32_t*>(dev->lookup(&key));
  REQUIRE(entry != nullptr);
  CHECK(*entry == 7);
  const auto addr = reinterpret_cast<std::uintptr_t>(entry);
  CHECK(dev->owns(addr, 8, false));
  CHECK_FALSE(dev->owns(addr, 8, true));  // BPF_F_RDONLY_PROG, as the kernel sets on devmaps
  CHECK(dev->spec().map_flags & kBpfFRdonlyProg);

  auto hash = make(spec(MapType::DevmapHash, 4, 4, 2));
  static_cast<DevmapHashMap&>(*hash).set_device_check([](std::uint32_t ifindex) { return ifindex == 7; });
  std::uint32_t seven = 7;
  for (std::uint32_t k : {5u, 13u}) CHECK(hash->host_update(&k, &seven, kBpfAny) == 0);
  std::uint32_t k3 = 3;
  CHECK(hash->host_update(&k3, &seven, kBpfAny) == -E2BIG);
  CHECK(hash->lookup(&k3) == nullptr);
  // Buckets 5 & 1 = 1 and 13 & 1 = 1: one bucket, newest first.
  std::uint32_t next = 0;
  REQUIRE(hash->get_next_key(nullptr, &next) == 0);
  CHECK(next == 13);

  auto xsk = make(spec(MapType::Xskmap, 4, 4, 4));
  std::uint32_t fd = 40, queue = 0;
  CHECK(xsk->host_update(&queue, &fd, kBpfAny) == -EBADF);  // no resolver: the process has no AF_XDP sockets
  static_cast<RedirectArrayMap&>(*xsk).set_xsk_resolver([](std::uint32_t f, std::uint32_t& q) {
    if (f != 40) return -EBADF;
    q = 3;
    return 0;
  });
  CHECK(xsk->host_update(&queue, &fd, kBpfExist) == -ENOENT);
  CHECK(xsk->host_update(&queue, &fd, kBpfAny) == 0);
  auto* sock = static_cast<std::uint32_t*>(xsk->lookup(&queue));  // the struct bpf_xdp_sock view
  REQUIRE(sock != nullptr);
  CHECK(*sock == 3);
  CHECK(xsk->lookup_copy(&queue, out) == -EOPNOTSUPP);

  auto cpu = make(spec(MapType::Cpumap, 4, 4, 8), 2);
  std::uint32_t qsize = 192, c1 = 1, c2 = 2;
  CHECK(cpu->host_update(&c1, &qsize, kBpfAny) == 0);
  CHECK(cpu->host_update(&c2, &qsize, kBpfAny) == -ENODEV);  // the run domain has CPUs 0 and 1
}

TEST_CASE("cgroup array answers bpf_current_task_under_cgroup from host-registered cgroups", "[maps][cgroup]") {
  auto m = make(spec(MapType::CgroupArray, 4, 4, 3));
  auto& cg = static_cast<CgroupArrayMap&>(*m);
  std::uint32_t key = 0, fd = 5;
  CHECK(m->host_update(&key, &fd, kBpfAny) == -EBADF);
  cg.set_resolver([](std::uint32_t f, CgroupRef& out) {
    if (f != 5 && f != 6) return -EBADF;
    out = CgroupRef{f, f == 5};
    return 0;
  });
  CHECK(m->host_update(&key, &fd, kBpfAny) == 0);
  key = 1;
  fd = 6;
  CHECK(m->host_update(&key, &fd, kBpfAny) == 0);
  CHECK(cg.current_task_under(0) == 1);
  CHECK(cg.current_task_under(1) == 0);
  CHECK(cg.current_task_under(2) == -EAGAIN);
  CHECK(cg.current_task_under(3) == -E2BIG);
  std::uint32_t out = 0;
  CHECK(m->lookup_copy(&key, &out) == -kENOTSUPP);
  CHECK(m->host_erase(&key) == 0);
  CHECK(cg.current_task_under(1) == -EAGAIN);
}

TEST_CASE("reuseport sockarray: a socket holds one slot of all reuseport arrays until deleted, replaced or its map is gone",
          "[maps][reuseport]") {
  int sv[2] = {-1, -1};
  REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
  // The socket rules are the kernel's (kernel_diff); here any socket is one, its cookie 1000 + fd.
  auto resolver = [](int fd, std::uint64_t& cookie) {
    cookie = 1000 + static_cast<std::uint64_t>(fd);
    return 0;
  };
  auto a = make(spec(MapType::ReuseportSockarray, 4, 8, 4)), b = make(spec(MapType::ReuseportSockarray, 4, 8, 4));
  static_cast<ReuseportArrayMap&>(*a).set_resolver(resolver);
  static_cast<ReuseportArrayMap&>(*b).set_resolver(resolver);
  std::uint32_t key = 0;
  std::uint64_t fd0 = static_cast<std::uint64_t>(sv[0]), fd1 = static_cast<std::uint64_t>(sv[1]), cookie = 0;
  CHECK(a->host_update(&key, &fd0, kBpfAny) == 0);
  CHECK(a->lookup_copy(&key, &cookie) == 0);
  CHECK(cookie == 1000 + fd0);
  CHECK(a->host_update(&key, &fd0, kBpfAny) == -EBUSY);  // into its own slot too (sk_user_data is set)
  CHECK(b->host_update(&key, &fd0, kBpfAny) == -EBUSY);
  CHECK(a->host_update(&key, &fd1, kBpfNoexist) == -EEXIST);
  key = 2;
  CHECK(a->host_update(&key, &fd1, kBpfExist) == -ENOENT);
  CHECK(a->host_update(&key, &fd1, 3) == -EINVAL);
  const std::uint64_t too_big = 0x80000000u;
  CHECK(a->host_update(&key, &too_big, kBpfAny) == -EINVAL);
  CHECK(a->lookup_copy(&key, &cookie) == -ENOENT);
  key = 4;
  CHECK(a->host_update(&key, &fd1, kBpfAny) == -E2BIG);
  CHECK(a->host_erase(&key) == -E2BIG);
  key = 0;
  CHECK(a->host_update(&key, &fd1, kBpfExist) == 0);  // replaces fd0, which is free again
  CHECK(b->host_update(&key, &fd0, kBpfAny) == 0);
  CHECK(b->host_erase(&key) == 0);
  CHECK(b->host_erase(&key) == -ENOENT);
  CHECK(b->host_update(&key, &fd1, kBpfAny) == -EBUSY);
  a.reset();  // the map's sockets leave it
  CHECK(b->host_update(&key, &fd1, kBpfAny) == 0);
  auto narrow = make(spec(MapType::ReuseportSockarray, 4, 4, 2));
  static_cast<ReuseportArrayMap&>(*narrow).set_resolver(resolver);
  const std::uint32_t closed = 0x7fff0000u;
  CHECK(narrow->host_update(&key, &closed, kBpfAny) == -EBADF);
  CHECK(narrow->host_update(&key, &fd0, kBpfAny) == 0);
  CHECK(narrow->lookup_copy(&key, &cookie) == -ENOSPC);  // only an 8-byte value takes the cookie
  CHECK_FALSE(create_map(spec(MapType::ReuseportSockarray, 4, 12, 2)).has_value());
  ::close(sv[0]);
  ::close(sv[1]);
}

// HashMap::direct_lookup: the entry a JIT calls instead of the helper, specialised for 4-, 8- and
// 16-byte keys. It must find exactly what lookup() finds for every key size (an entry for the wrong
// size hashes or compares the wrong bytes), inside a run (lock-free walk) and outside one.
TEST_CASE("hash maps' direct lookup entry finds what lookup finds, for every key size", "[maps][hash][direct]") {
  for (MapType t : {MapType::Hash, MapType::LruHash, MapType::PercpuHash, MapType::LruPercpuHash}) {
    for (std::uint32_t ks : {1u, 3u, 4u, 5u, 7u, 8u, 12u, 15u, 16u, 17u, 20u, 32u}) {
      INFO(map_type_name(t) << " key_size " << ks);
      auto m = make(spec(t, ks, 8, 64));
      const bpfvm::vm::DirectLookupFn direct = m->direct_lookup();
      REQUIRE(direct != nullptr);
      const auto handle = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m.get()));
      // Key k: bytes (k * 7 + i) & 0x7f, so flipping bit 7 of any byte gives a key that is not stored.
      auto key_of = [&](std::uint32_t k) {
        std::vector<std::uint8_t> key(ks);
        for (std::uint32_t i = 0; i < ks; ++i) key[i] = static_cast<std::uint8_t>((k * 7 + i * 13) & 0x7f);
        return key;
      };
      const std::uint32_t n = ks == 1 ? 20 : 40;
      std::vector<std::uint64_t> host_value(m->host_value_size() / 8);
      for (std::uint32_t k = 0; k < n; ++k) {
        std::fill(host_value.begin(), host_value.end(), 1000 + k);
        REQUIRE(m->host_update(key_of(k).data(), host_value.data(), kBpfAny) == 0);
      }
      for (bool in_run : {false, true}) {
        std::optional<RunGuard> guard;
        if (in_run) guard.emplace(m->domain());
        for (std::uint32_t k = 0; k < n; ++k) {
          auto key = key_of(k);
          void* want = m->lookup(key.data());
          REQUIRE(want != nullptr);
          const std::uint64_t got = direct(handle, reinterpret_cast<std::uintptr_t>(key.data()));
          CHECK(got == reinterpret_cast<std::uintptr_t>(want));
          CHECK(*reinterpret_cast<const std::uint64_t*>(got) == 1000 + k);
          for (std::uint32_t i = 0; i < ks; ++i) {  // one byte different: no element
            key[i] ^= 0x80;
            CHECK(direct(handle, reinterpret_cast<std::uintptr_t>(key.data())) == 0);
            key[i] ^= 0x80;
          }
        }
      }
    }
  }
}

TEST_CASE("an LRU hash's direct lookup marks the element used, as lookup does", "[maps][lru][direct]") {
  for (MapType t : {MapType::LruHash, MapType::LruPercpuHash}) {
    auto m = make(spec(t, 8, 8, 3));
    const auto handle = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m.get()));
    std::uint64_t v = 1;
    for (std::uint64_t k = 1; k <= 3; ++k) REQUIRE(m->update(&k, &v, kBpfAny) == 0);
    std::uint64_t k1 = 1;
    REQUIRE(m->direct_lookup()(handle, reinterpret_cast<std::uintptr_t>(&k1)) != 0);
    std::uint64_t k4 = 4;
    CHECK(m->update(&k4, &v, kBpfAny) == 0);  // full: evicts 2, the oldest unreferenced
    std::uint64_t out[8];
    CHECK(m->lookup_copy(&k1, out) == 0);
    std::uint64_t k2 = 2;
    CHECK(m->lookup_copy(&k2, out) == -ENOENT);
  }
}

TEST_CASE("only hash maps offer a direct lookup entry", "[maps][direct]") {
  CHECK(make(spec(MapType::Array, 4, 8, 4))->direct_lookup() == nullptr);
  CHECK(make(spec(MapType::LpmTrie, 8, 8, 4, kBpfFNoPrealloc))->direct_lookup() == nullptr);
  CHECK(make(spec(MapType::Hash, 4, 8, 4))->direct_lookup() != nullptr);
}
