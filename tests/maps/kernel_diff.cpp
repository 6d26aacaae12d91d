// Differential test: the same bpf() operation sequences on kernel maps and on bpfvm maps must give the
// same errnos and contents. Exits 77 (ctest skip) when bpf(2) is unavailable.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "maps/map.hpp"
#include "tests/maps/map_spec_builder.hpp"

using namespace bpfvm::maps;
using bpfvm::maps::testing::spec;
using Bytes = std::vector<std::uint8_t>;

namespace {

int failures = 0;
int comparisons = 0;

void expect(bool ok, const std::string& what) {
  ++comparisons;
  if (!ok) {
    ++failures;
    if (failures < 30) std::fprintf(stderr, "MISMATCH: %s\n", what.c_str());
  }
}

long sys_bpf(int cmd, bpf_attr& attr) { return ::syscall(__NR_bpf, cmd, &attr, sizeof attr); }
int neg_errno(long rc) { return rc < 0 ? -errno : 0; }

unsigned possible_cpus() {
  std::ifstream f("/sys/devices/system/cpu/possible");
  std::string s;
  std::getline(f, s);  // "0-N" or "0"
  auto dash = s.find('-');
  return dash == std::string::npos ? 1u : static_cast<unsigned>(std::stoul(s.substr(dash + 1)) + 1);
}

// A kernel map fd with RAII close.
struct KernelMap {
  int fd = -1;
  ~KernelMap() {
    if (fd >= 0) ::close(fd);
  }
};

// BTF for a storage map: [1] int (the fd key), [2] struct v of `value_size` bytes; -errno if refused.
int load_key_value_btf(std::uint32_t value_size) {
  struct Blob {
    btf_header hdr;
    btf_type int_type;
    std::uint32_t int_encoding;
    btf_type value_type;
    char strings[8];
  } b{};
  b.hdr.magic = BTF_MAGIC;
  b.hdr.version = BTF_VERSION;
  b.hdr.hdr_len = sizeof b.hdr;
  b.hdr.type_len = sizeof b.int_type + sizeof b.int_encoding + sizeof b.value_type;
  b.hdr.str_off = b.hdr.type_len;
  b.hdr.str_len = sizeof b.strings;
  b.int_type.name_off = 1;
  b.int_type.info = BTF_KIND_INT << 24;
  b.int_type.size = 4;
  b.int_encoding = (BTF_INT_SIGNED << 24) | 32;
  b.value_type.name_off = 5;
  b.value_type.info = BTF_KIND_STRUCT << 24;
  b.value_type.size = value_size;
  std::memcpy(b.strings, "\0int\0v\0\0", sizeof b.strings);
  bpf_attr a{};
  a.btf = reinterpret_cast<std::uint64_t>(&b);
  a.btf_size = sizeof b;
  const long fd = sys_bpf(BPF_BTF_LOAD, a);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

int kernel_create(const MapSpec& s, KernelMap& out) {
  bpf_attr a{};
  KernelMap btf;  // the map holds its own reference
  if (s.btf_key_value) {
    btf.fd = load_key_value_btf(s.value_size);
    if (btf.fd < 0) return btf.fd;
    a.btf_fd = static_cast<std::uint32_t>(btf.fd);
    a.btf_key_type_id = 1;
    a.btf_value_type_id = 2;
  }
  a.map_type = static_cast<std::uint32_t>(s.type);
  a.key_size = s.key_size;
  a.value_size = s.value_size;
  a.max_entries = s.max_entries;
  a.map_flags = s.map_flags;
  a.map_extra = s.map_extra;
  std::strncpy(a.map_name, s.name.c_str(), sizeof a.map_name - 1);
  const long fd = sys_bpf(BPF_MAP_CREATE, a);
  if (fd < 0) return -errno;
  out.fd = static_cast<int>(fd);
  return 0;
}

int k_update(int fd, const void* key, const void* value, std::uint64_t flags) {
  bpf_attr a{};
  a.map_fd = static_cast<std::uint32_t>(fd);
  a.key = reinterpret_cast<std::uint64_t>(key);
  a.value = reinterpret_cast<std::uint64_t>(value);
  a.flags = flags;
  return neg_errno(sys_bpf(BPF_MAP_UPDATE_ELEM, a));
}
int k_lookup(int fd, const void* key, void* value) {
  bpf_attr a{};
  a.map_fd = static_cast<std::uint32_t>(fd);
  a.key = reinterpret_cast<std::uint64_t>(key);
  a.value = reinterpret_cast<std::uint64_t>(value);
  return neg_errno(sys_bpf(BPF_MAP_LOOKUP_ELEM, a));
}
int k_delete(int fd, const void* key) {
  bpf_attr a{};
  a.map_fd = static_cast<std::uint32_t>(fd);
  a.key = reinterpret_cast<std::uint64_t>(key);
  return neg_errno(sys_bpf(BPF_MAP_DELETE_ELEM, a));
}
int k_lookup_and_delete(int fd, const void* key, void* value, std::uint64_t flags) {
  bpf_attr a{};
  a.map_fd = static_cast<std::uint32_t>(fd);
  a.key = reinterpret_cast<std::uint64_t>(key);
  a.value = reinterpret_cast<std::uint64_t>(value);
  a.flags = flags;
  return neg_errno(sys_bpf(BPF_MAP_LOOKUP_AND_DELETE_ELEM, a));
}
int k_next_key(int fd, const void* key, void* next) {
  bpf_attr a{};
  a.map_fd = static_cast<std::uint32_t>(fd);
  a.key = reinterpret_cast<std::uint64_t>(key);
  a.next_key = reinterpret_cast<std::uint64_t>(next);
  return neg_errno(sys_bpf(BPF_MAP_GET_NEXT_KEY, a));
}
int k_freeze(int fd) {
  bpf_attr a{};
  a.map_fd = static_cast<std::uint32_t>(fd);
  return neg_errno(sys_bpf(BPF_MAP_FREEZE, a));
}

std::string hex(const Bytes& b) {
  std::string s;
  char buf[4];
  for (auto x : b) {
    std::snprintf(buf, sizeof buf, "%02x", x);
    s += buf;
  }
  return s;
}

// key -> value for every key get_next_key reports (order-independent comparison).
std::map<Bytes, Bytes> k_contents(int fd, const MapSpec& s, std::uint32_t vsize) {
  std::map<Bytes, Bytes> out;
  Bytes key(s.key_size), next(s.key_size), val(vsize);
  bool first = true;
  for (int guard = 0; guard < 10000 && k_next_key(fd, first ? nullptr : key.data(), next.data()) == 0; ++guard) {
    first = false;
    if (k_lookup(fd, next.data(), val.data()) == 0) out[next] = val;
    key = next;
  }
  return out;
}
std::map<Bytes, Bytes> our_contents(Map& m) {
  std::map<Bytes, Bytes> out;
  const MapSpec& s = m.spec();
  Bytes key(s.key_size), next(s.key_size), val(m.host_value_size());
  bool first = true;
  for (int guard = 0; guard < 10000 && m.get_next_key(first ? nullptr : key.data(), next.data()) == 0; ++guard) {
    first = false;
    if (m.lookup_copy(next.data(), val.data()) == 0) out[next] = val;
    key = next;
  }
  return out;
}

void diff_create() {
  std::vector<MapSpec> specs = {
      spec(MapType::Array, 4, 8, 1), spec(MapType::Array, 8, 8, 1), spec(MapType::Array, 4, 0, 1),
      spec(MapType::Array, 4, 8, 0), spec(MapType::Array, 4, 8, 1, kBpfFNoPrealloc),
      spec(MapType::Array, 4, 8, 1, kBpfFRdonlyProg | kBpfFWronlyProg),
      spec(MapType::Array, 4, 8, 1, kBpfFRdonly | kBpfFWronly), spec(MapType::PercpuArray, 4, 8, 1, kBpfFMmapable),
      spec(MapType::PercpuArray, 4, 40000, 1), spec(MapType::Hash, 4, 8, 1), spec(MapType::Hash, 0, 8, 1),
      spec(MapType::Hash, 4, 0, 1), spec(MapType::Hash, 4, 8, 0), spec(MapType::Hash, 4, 8, 1, kBpfFNoCommonLru),
      spec(MapType::LruHash, 4, 8, 1, kBpfFNoPrealloc), spec(MapType::Hash, 4, 8, 1, kBpfFMmapable),
      spec(MapType::PercpuHash, 4, 40000, 1), spec(MapType::LpmTrie, 8, 8, 1),
      spec(MapType::LpmTrie, 8, 8, 1, kBpfFNoPrealloc), spec(MapType::LpmTrie, 4, 8, 1, kBpfFNoPrealloc),
      spec(MapType::LpmTrie, 261, 8, 1, kBpfFNoPrealloc), spec(MapType::LpmTrie, 260, 8, 1, kBpfFNoPrealloc),
      spec(MapType::LpmTrie, 8, 0, 1, kBpfFNoPrealloc), spec(MapType::Queue, 0, 8, 4), spec(MapType::Queue, 4, 8, 4),
      spec(MapType::Stack, 0, 0, 4), spec(MapType::Stack, 0, 8, 0), spec(MapType::Queue, 0, 8, 4, kBpfFNoPrealloc),
      spec(MapType::Ringbuf, 0, 0, 4096), spec(MapType::Ringbuf, 0, 0, 4096 * 3), spec(MapType::Ringbuf, 0, 0, 2048),
      spec(MapType::Ringbuf, 4, 0, 4096), spec(MapType::Ringbuf, 0, 0, 4096, kBpfFRdonly),
      spec(MapType::UserRingbuf, 0, 0, 4096), spec(MapType::UserRingbuf, 0, 0, 4096 * 4),
      spec(MapType::UserRingbuf, 0, 0, 4096 * 3), spec(MapType::UserRingbuf, 0, 0, 2048),
      spec(MapType::UserRingbuf, 0, 0, 0), spec(MapType::UserRingbuf, 4, 0, 4096),
      spec(MapType::UserRingbuf, 0, 8, 4096), spec(MapType::UserRingbuf, 0, 0, 4096, kBpfFRdonly),
      spec(MapType::UserRingbuf, 0, 0, 4096, kBpfFNumaNode), spec(MapType::UserRingbuf, 0, 0, 4096, kBpfFMmapable),
      spec(MapType::ProgArray, 4, 8, 4), spec(MapType::ProgArray, 4, 4, 4, kBpfFRdonlyProg),
      spec(MapType::PerfEventArray, 4, 4, 4, kBpfFPreserveElems), spec(MapType::Array, 4, 4, 4, kBpfFPreserveElems),
      spec(MapType::BloomFilter, 0, 8, 100), spec(MapType::BloomFilter, 4, 8, 100),
      spec(MapType::BloomFilter, 0, 8, 100, kBpfFNoPrealloc), spec(MapType::Unspec, 4, 4, 4),
      spec(MapType::StackTrace, 4, 8, 4), spec(MapType::StackTrace, 4, 127 * 8, 4),
      spec(MapType::StackTrace, 4, 128 * 8, 4), spec(MapType::StackTrace, 8, 8, 4), spec(MapType::StackTrace, 4, 4, 4),
      spec(MapType::StackTrace, 4, 12, 4), spec(MapType::StackTrace, 4, 8, 0),
      spec(MapType::StackTrace, 4, 8, (1u << 31) + 1), spec(MapType::StackTrace, 4, 32, 4, kBpfFStackBuildId),
      spec(MapType::StackTrace, 4, 40, 4, kBpfFStackBuildId), spec(MapType::StackTrace, 4, 127 * 32, 4, kBpfFStackBuildId),
      spec(MapType::StackTrace, 4, 128 * 32, 4, kBpfFStackBuildId),
  };
  for (std::uint32_t f : {kBpfFNoPrealloc, kBpfFNoCommonLru, kBpfFNumaNode, kBpfFRdonly, kBpfFWronly, kBpfFZeroSeed,
                          kBpfFRdonlyProg, kBpfFMmapable})
    specs.push_back(spec(MapType::StackTrace, 4, 16, 4, f));
  for (MapType t : {MapType::CgroupStorage, MapType::PercpuCgroupStorage}) {
    for (std::uint32_t k : {16u, 8u, 4u, 12u}) specs.push_back(spec(t, k, 8, 0));
    for (std::uint32_t v : {0u, 4097u, 32768u, 32769u}) specs.push_back(spec(t, 16, v, 0));
    specs.push_back(spec(t, 16, 8, 1));
    for (std::uint32_t f : {kBpfFNoPrealloc, kBpfFNumaNode, kBpfFRdonly, kBpfFWronly, kBpfFRdonlyProg, kBpfFMmapable,
                            kBpfFRdonlyProg | kBpfFWronlyProg})
      specs.push_back(spec(t, 16, 8, 0, f));
  }
  for (MapType t : {MapType::Devmap, MapType::DevmapHash, MapType::Cpumap, MapType::Xskmap, MapType::CgroupArray,
                    MapType::Sockmap, MapType::Sockhash, MapType::ReuseportSockarray}) {
    for (std::uint32_t v : {0u, 4u, 8u, 12u}) specs.push_back(spec(t, 4, v, 4));
    specs.push_back(spec(t, 8, 4, 4));
    specs.push_back(spec(t, 4, 4, 0));
    for (std::uint32_t f : {kBpfFNoPrealloc, kBpfFNumaNode, kBpfFRdonly, kBpfFWronly, kBpfFRdonlyProg, kBpfFWronlyProg,
                            kBpfFMmapable, kBpfFInnerMap})
      specs.push_back(spec(t, 4, 4, 4, f));
  }
  for (std::uint32_t k : {0u, 1u, 16u, 512u, 513u}) specs.push_back(spec(MapType::Sockhash, k, 8, 4));
  specs.push_back(spec(MapType::Cpumap, 4, 4, 9000));  // above NR_CPUS
  specs.push_back(spec(MapType::DevmapHash, 4, 4, (1u << 31) + 1));
  MapSpec bloom_extra = spec(MapType::BloomFilter, 0, 8, 100);
  bloom_extra.map_extra = 16;
  specs.push_back(bloom_extra);
  MapSpec hash_extra = spec(MapType::Hash, 4, 4, 4);
  hash_extra.map_extra = 1;
  specs.push_back(hash_extra);
  // Local storage: key 4 (an fd), max_entries 0, BPF_F_NO_PREALLOC required (BPF_F_CLONE allowed), BTF.
  for (MapType t : {MapType::SkStorage, MapType::InodeStorage, MapType::TaskStorage, MapType::CgrpStorage}) {
    for (bool btf : {false, true}) {
      std::vector<MapSpec> storage = {spec(t, 4, 8, 0, kBpfFNoPrealloc), spec(t, 4, 8, 0),
                                      spec(t, 4, 8, 1, kBpfFNoPrealloc), spec(t, 8, 8, 0, kBpfFNoPrealloc),
                                      spec(t, 4, 65407, 0, kBpfFNoPrealloc), spec(t, 4, 65408, 0, kBpfFNoPrealloc),
                                      spec(t, 4, 1, 0, kBpfFNoPrealloc)};
      for (std::uint32_t f : {kBpfFClone, kBpfFNumaNode, kBpfFRdonly, kBpfFWronly, kBpfFRdonlyProg, kBpfFMmapable,
                              kBpfFZeroSeed})
        storage.push_back(spec(t, 4, 8, 0, kBpfFNoPrealloc | f));
      for (auto& st : storage) {
        st.btf_key_value = btf;
        specs.push_back(st);
      }
    }
  }
  MapSpec bad_name = spec(MapType::Hash, 4, 4, 4);
  bad_name.name = "bad-name";
  specs.push_back(bad_name);
  for (const auto& s : specs) {
    KernelMap k;
    const int kerr = kernel_create(s, k);
    const int ours = check_map_spec(s).err;
    expect(kerr == ours, "create " + map_type_name(s.type) + " k=" + std::to_string(s.key_size) +
                             " v=" + std::to_string(s.value_size) + " n=" + std::to_string(s.max_entries) +
                             " flags=" + std::to_string(s.map_flags) + " btf=" + std::to_string(s.btf_key_value) +
                             ": kernel " + std::to_string(kerr) +
                             " ours " + std::to_string(ours) + " (" + check_map_spec(s).reason + ")");
  }
}

// Local storage from the host: every op on fds of every kind (sockets, a directory, a pidfd, closed and
// out-of-range fds) with every flag, on a kernel map and ours: same errnos, same values read back.
void diff_local_storage(MapType t) {
  MapSpec s = spec(t, 4, 12, 0, kBpfFNoPrealloc);
  s.btf_key_value = true;
  KernelMap k;
  if (int err = kernel_create(s, k)) return expect(false, "kernel refused " + map_type_name(t) + ": " + std::to_string(err));
  auto made = create_map(s);
  if (!made) return expect(false, "bpfvm refused " + map_type_name(t) + ": " + made.error().message());
  Map& m = **made;
  KernelMap tcp, udp, dir, pidfd, pair0, pair1, dgram, cgroup1, cgroup2;
  tcp.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  udp.fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  dgram.fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  int sv[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) pair0.fd = sv[0], pair1.fd = sv[1];
  dir.fd = ::open("/tmp", O_RDONLY | O_DIRECTORY);
  pidfd.fd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  cgroup1.fd = ::open("/sys/fs/cgroup/cpu", O_RDONLY | O_DIRECTORY);  // a cgroup v1 hierarchy, if mounted
  cgroup2.fd = ::open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);      // v2 root, or a tmpfs holding v1
  int closed = ::dup(0);
  ::close(closed);
  const std::vector<std::pair<const char*, int>> fds = {
      {"tcp", tcp.fd}, {"udp", udp.fd}, {"unix dgram", dgram.fd}, {"unix pair", pair0.fd}, {"dir", dir.fd},
      {"pidfd", pidfd.fd}, {"cgroup v1", cgroup1.fd}, {"/sys/fs/cgroup", cgroup2.fd}, {"closed", closed}, {"-1", -1}, {"INT_MAX", 0x7fffffff}};
  for (int round = 0; round < 2; ++round) {
    for (const auto& [name, fd] : fds) {
      const std::uint32_t key = static_cast<std::uint32_t>(fd);
      const std::string what = map_type_name(t) + " fd " + name + " round " + std::to_string(round);
      for (std::uint64_t flags : {kBpfExist, kBpfNoexist, kBpfAny, kBpfNoexist, std::uint64_t{3}, std::uint64_t{8},
                                  kBpfFLock, kBpfExist}) {
        std::uint8_t val[12];
        for (int i = 0; i < 12; ++i) val[i] = static_cast<std::uint8_t>(fd * 7 + flags * 3 + i + round);
        const int ke = k_update(k.fd, &key, val, flags), oe = m.host_update(&key, val, flags);
        expect(ke == oe, what + " update flags " + std::to_string(flags) + ": kernel " + std::to_string(ke) +
                             " ours " + std::to_string(oe));
        std::uint8_t kv[12] = {}, ov[12] = {};
        const int kl = k_lookup(k.fd, &key, kv), ol = m.lookup_copy(&key, ov);
        expect(kl == ol && std::memcmp(kv, ov, sizeof kv) == 0,
               what + " lookup: kernel " + std::to_string(kl) + " ours " + std::to_string(ol));
      }
      if (round == 0) continue;  // round 1 also deletes (twice: the second finds nothing)
      for (int i = 0; i < 2; ++i) {
        const int kd = k_delete(k.fd, &key), od = m.host_erase(&key);
        expect(kd == od, what + " delete: kernel " + std::to_string(kd) + " ours " + std::to_string(od));
      }
    }
  }
  const std::uint32_t key = static_cast<std::uint32_t>(tcp.fd);
  std::uint8_t next[4], out[12];
  expect(k_next_key(k.fd, &key, next) == m.get_next_key(&key, next), map_type_name(t) + " get_next_key");
  expect(k_lookup_and_delete(k.fd, &key, out, 0) == m.lookup_and_delete(&key, out, 0),
         map_type_name(t) + " lookup_and_delete");
}

// Random keyed operations on both maps, then a content comparison.
void diff_keyed(const MapSpec& s, int ops, std::uint32_t key_space, bool compare_contents, unsigned seed) {
  KernelMap k;
  if (int err = kernel_create(s, k)) {
    expect(false, "kernel refused " + map_type_name(s.type) + ": " + std::to_string(err));
    return;
  }
  auto made = create_map(s, std::make_shared<RunDomain>(possible_cpus()));
  if (!made) {
    expect(false, "we refused " + map_type_name(s.type) + ": " + made.error().reason);
    return;
  }
  Map& m = **made;
  const std::uint32_t vsize = m.host_value_size();
  std::mt19937 rng(seed);
  const std::string name = map_type_name(s.type);
  auto make_key = [&](Bytes& key) {
    const std::uint32_t x = rng() % key_space;
    std::fill(key.begin(), key.end(), 0);
    if (s.type == MapType::LpmTrie) {
      const std::uint32_t max_len = (s.key_size - 4) * 8;
      std::uint32_t plen = rng() % (max_len + 2);  // occasionally invalid
      std::memcpy(key.data(), &plen, 4);
      key[4] = static_cast<std::uint8_t>(x & 3) << 6;  // few distinct prefixes
      if (key.size() > 5) key[5] = static_cast<std::uint8_t>(x >> 2) << 4;
    } else if (!key.empty()) {
      std::memcpy(key.data(), &x, std::min<std::size_t>(4, key.size()));
    }
  };
  Bytes key(s.key_size), val(vsize), kout(vsize), oout(vsize);
  const bool bloom = s.type == MapType::BloomFilter;
  std::vector<Bytes> pushed;  // bloom filter: values the kernel accepted
  for (int i = 0; i < ops; ++i) {
    make_key(key);
    for (auto& b : val) b = static_cast<std::uint8_t>(rng());
    const unsigned op = rng() % 6;
    std::string what = name + " op#" + std::to_string(i) + " key " + hex(key);
    switch (op) {
      case 0:
      case 1: {
        static constexpr std::uint64_t kFlags[] = {kBpfAny, kBpfNoexist, kBpfExist, 3, kBpfAny, kBpfFLock};
        const std::uint64_t f = kFlags[rng() % 6];
        const int a = k_update(k.fd, key.data(), val.data(), f);
        const int b = m.host_update(key.data(), val.data(), f);
        if (bloom && a == 0) pushed.push_back(val);
        expect(a == b, what + " update flags " + std::to_string(f) + ": kernel " + std::to_string(a) + " ours " +
                           std::to_string(b));
        break;
      }
      case 2: {
        const int a = k_delete(k.fd, key.data());
        const int b = m.host_erase(key.data());
        expect(a == b, what + " delete: kernel " + std::to_string(a) + " ours " + std::to_string(b));
        break;
      }
      case 3:
      case 4: {
        std::fill(kout.begin(), kout.end(), 0);
        std::fill(oout.begin(), oout.end(), 0);
        if (bloom) {
          // A bloom filter lookup takes the value to test. A pushed value is always found; any other
          // may be a false positive, and which ones are depends on each side's hash and the kernel's
          // random seed, so only the allowed answers are checked.
          const bool was_pushed = !pushed.empty() && rng() % 2 == 0;
          kout = oout = was_pushed ? pushed[rng() % pushed.size()] : val;
          const int a = k_lookup(k.fd, key.data(), kout.data());
          const int b = m.lookup_copy(key.data(), oout.data());
          if (was_pushed || std::find(pushed.begin(), pushed.end(), val) != pushed.end())
            expect(a == 0 && b == 0, what + " lookup of a pushed value: kernel " + std::to_string(a) + " ours " +
                                         std::to_string(b));
          else
            expect((a == 0 || a == -ENOENT) && (b == 0 || b == -ENOENT),
                   what + " lookup: kernel " + std::to_string(a) + " ours " + std::to_string(b));
          break;
        }
        const int a = k_lookup(k.fd, key.data(), kout.data());
        const int b = m.lookup_copy(key.data(), oout.data());
        expect(a == b, what + " lookup: kernel " + std::to_string(a) + " ours " + std::to_string(b));
        if (a == 0 && b == 0)
          expect(kout == oout, what + " lookup value: kernel " + hex(kout) + " ours " + hex(oout));
        break;
      }
      case 5: {
        const std::uint64_t f = rng() % 4 == 0 ? 1 : 0;
        const int a = k_lookup_and_delete(k.fd, key.data(), kout.data(), f);
        const int b = m.lookup_and_delete(key.data(), oout.data(), f);
        expect(a == b, what + " lookup_and_delete flags " + std::to_string(f) + ": kernel " + std::to_string(a) +
                           " ours " + std::to_string(b));
        if (a == 0 && b == 0) expect(kout == oout, what + " lookup_and_delete value");
        break;
      }
    }
  }
  if (compare_contents) {
    const auto kc = k_contents(k.fd, s, vsize);
    const auto oc = our_contents(m);
    expect(kc == oc, name + " contents differ: kernel " + std::to_string(kc.size()) + " keys, ours " +
                         std::to_string(oc.size()));
  }
  // Freeze semantics.
  expect(k_freeze(k.fd) == m.freeze(), name + " freeze");
  expect(k_freeze(k.fd) == m.freeze(), name + " second freeze");
  make_key(key);
  expect(k_update(k.fd, key.data(), val.data(), 0) == m.host_update(key.data(), val.data(), 0), name + " frozen update");
}

// Redirect-target and cgroup maps (DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP, CGROUP_ARRAY): values from a
// small set both sides can judge — ifindex 1 (lo) exists everywhere, 0 clears a devmap slot, 0x7fff0000
// names no interface; program fds -1 (none), 0 (none), 0x7fff0001 (not open); xsk/cgroup fds are never
// open numbers (-EBADF on both sides) — with every flag, out-of-range keys, then the next_key order.
void diff_redirect(const MapSpec& s, unsigned seed) {
  KernelMap k;
  if (int err = kernel_create(s, k))
    return expect(false, "kernel refused " + map_type_name(s.type) + ": " + std::to_string(err));
  auto made = create_map(s, std::make_shared<RunDomain>(possible_cpus()));
  if (!made) return expect(false, "we refused " + map_type_name(s.type) + ": " + made.error().reason);
  Map& m = **made;
  std::mt19937 rng(seed);
  const std::string name = map_type_name(s.type) + " v" + std::to_string(s.value_size);
  const std::uint32_t key_space = s.max_entries + 3;
  static constexpr std::uint32_t kWord0[] = {1, 1, 1, 0, 0x7fff0000u, 2, 16384, 16385};
  static constexpr std::uint32_t kWord1[] = {0xffffffffu, 0xffffffffu, 0, 0x7fff0001u};
  for (int i = 0; i < 500; ++i) {
    std::uint32_t key = rng() % key_space;
    std::uint32_t val[2] = {kWord0[rng() % 8], kWord1[rng() % 4]};
    if (s.type == MapType::Xskmap || s.type == MapType::CgroupArray) val[0] = 0x7fff0000u + rng() % 4;
    if (s.type == MapType::Cpumap && val[0] == 1) val[0] = 192;  // a queue size
    const std::string what = name + " op#" + std::to_string(i) + " key " + std::to_string(key);
    switch (rng() % 5) {
      case 0:
      case 1: {
        const std::uint64_t f = rng() % 5;
        const int a = k_update(k.fd, &key, val, f), b = m.host_update(&key, val, f);
        expect(a == b, what + " update {" + std::to_string(val[0]) + "," + std::to_string(static_cast<int>(val[1])) +
                           "} flags " + std::to_string(f) + ": kernel " + std::to_string(a) + " ours " + std::to_string(b));
        break;
      }
      case 2: {
        const int a = k_delete(k.fd, &key), b = m.host_erase(&key);
        expect(a == b, what + " delete: kernel " + std::to_string(a) + " ours " + std::to_string(b));
        break;
      }
      case 3: {
        std::uint32_t ko[2] = {0, 0}, oo[2] = {0, 0};
        const int a = k_lookup(k.fd, &key, ko), b = m.lookup_copy(&key, oo);
        expect(a == b, what + " lookup: kernel " + std::to_string(a) + " ours " + std::to_string(b));
        if (a == 0 && b == 0)
          expect(ko[0] == oo[0] && ko[1] == oo[1], what + " lookup value: kernel " + std::to_string(ko[0]) + "," +
                                                     std::to_string(ko[1]) + " ours " + std::to_string(oo[0]) + "," +
                                                     std::to_string(oo[1]));
        break;
      }
      case 4: {
        std::uint32_t kn = 0, on = 0;
        const bool first = rng() % 4 == 0;
        const int a = k_next_key(k.fd, first ? nullptr : &key, &kn), b = m.get_next_key(first ? nullptr : &key, &on);
        expect(a == b && (a != 0 || kn == on), what + " next_key: kernel " + std::to_string(a) + "->" +
                                                   std::to_string(kn) + " ours " + std::to_string(b) + "->" +
                                                   std::to_string(on));
        break;
      }
    }
  }
  // The whole key walk, in order (DEVMAP_HASH: bucket order, newest first within a bucket).
  std::vector<std::uint32_t> kwalk, owalk;
  std::uint32_t cur = 0, next = 0;
  for (bool first = true; kwalk.size() < 1000 && k_next_key(k.fd, first ? nullptr : &cur, &next) == 0; first = false)
    kwalk.push_back(cur = next);
  for (bool first = true; owalk.size() < 1000 && m.get_next_key(first ? nullptr : &cur, &next) == 0; first = false)
    owalk.push_back(cur = next);
  expect(kwalk == owalk, name + " key walk: kernel " + std::to_string(kwalk.size()) + " keys, ours " +
                             std::to_string(owalk.size()));
}

// An fd the socket map diffs close at their end.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Random host operations on a socket map (SOCKMAP, SOCKHASH, REUSEPORT_SOCKARRAY) of the kernel's and
// ours with the same fds: every flag, keys in and out of range, updates, deletes, lookups (the socket
// cookie with 8-byte values, -ENOSPC with 4), next_key, then the whole key walk. Returns how often the
// kernel's updates gave each result.
std::map<int, int> diff_socket_ops(const MapSpec& s, const KernelMap& k, Map& m, const std::vector<std::uint64_t>& fds,
                                   unsigned seed) {
  std::map<int, int> update_results;
  std::mt19937 rng(seed);
  const bool hash = s.type == MapType::Sockhash;
  const std::string name = map_type_name(s.type) + " k" + std::to_string(s.key_size) + " v" + std::to_string(s.value_size);
  auto make_key = [&](Bytes& key) {
    key.assign(s.key_size, 0);
    const std::uint32_t i = rng() % (s.max_entries + (hash ? 6 : 3));
    std::memcpy(key.data(), &i, std::min<std::size_t>(4, key.size()));
    if (hash && key.size() > 4) key[4] = static_cast<std::uint8_t>(i * 37);
  };
  Bytes key, next_k(s.key_size), next_o(s.key_size);
  for (int i = 0; i < 600; ++i) {
    make_key(key);
    const std::string what = name + " op#" + std::to_string(i) + " key " + hex(key);
    switch (rng() % 6) {
      case 0:
      case 1:
      case 2: {
        const std::uint64_t fd = fds[rng() % fds.size()];
        if (s.value_size == 4 && fd > 0xffffffffu) break;
        const std::uint64_t f = rng() % 6 == 0 ? 3 : rng() % 3;
        const int a = k_update(k.fd, key.data(), &fd, f), b = m.host_update(key.data(), &fd, f);
        ++update_results[a];
        expect(a == b, what + " update fd " + std::to_string(fd) + " flags " + std::to_string(f) + ": kernel " +
                           std::to_string(a) + " ours " + std::to_string(b));
        break;
      }
      case 3: {
        const int a = k_delete(k.fd, key.data()), b = m.host_erase(key.data());
        expect(a == b, what + " delete: kernel " + std::to_string(a) + " ours " + std::to_string(b));
        break;
      }
      case 4: {
        std::uint64_t ko = 0, oo = 0;
        const int a = k_lookup(k.fd, key.data(), &ko), b = m.lookup_copy(key.data(), &oo);
        expect(a == b && ko == oo, what + " lookup: kernel " + std::to_string(a) + " cookie " + std::to_string(ko) +
                                       " ours " + std::to_string(b) + " cookie " + std::to_string(oo));
        break;
      }
      case 5: {
        const bool first = rng() % 4 == 0;
        const int a = k_next_key(k.fd, first ? nullptr : key.data(), next_k.data()),
                  b = m.get_next_key(first ? nullptr : key.data(), next_o.data());
        expect(a == b && (a != 0 || next_k == next_o),
               what + " next_key: kernel " + std::to_string(a) + " ours " + std::to_string(b));
        break;
      }
    }
  }
  std::vector<Bytes> kwalk, owalk;
  Bytes cur(s.key_size);
  for (bool first = true; kwalk.size() < 1000 && k_next_key(k.fd, first ? nullptr : cur.data(), next_k.data()) == 0;
       first = false)
    kwalk.push_back(cur = next_k);
  for (bool first = true; owalk.size() < 1000 && m.get_next_key(first ? nullptr : cur.data(), next_o.data()) == 0;
       first = false)
    owalk.push_back(cur = next_o);
  expect(kwalk == owalk, name + " key walk: kernel " + std::to_string(kwalk.size()) + " keys, ours " +
                             std::to_string(owalk.size()));
  return update_results;
}


// SOCKMAP / SOCKHASH with real sockets of this process, each judged by both sides (bpfvm's default
// resolver inspects the fd): TCP listening, connected (both ends) and only bound; UDP bound and
// unbound; AF_UNIX stream pair, unconnected stream, datagram; a regular file; a closed fd number; an fd
// above S32_MAX (8-byte values). Every flag, keys in and out of range, lookups (the socket cookie with
// 8-byte values, -ENOSPC with 4), deletes, next_key, then the whole key walk.
void diff_sockmap(const MapSpec& s, unsigned seed) {
  KernelMap k;
  if (int err = kernel_create(s, k))
    return expect(false, "kernel refused " + map_type_name(s.type) + ": " + std::to_string(err));
  auto made = create_map(s);
  if (!made) return expect(false, "we refused " + map_type_name(s.type) + ": " + made.error().reason);
  Map& m = **made;
  sockaddr_in lo{};
  lo.sin_family = AF_INET;
  lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof lo;
  Fd listener{::socket(AF_INET, SOCK_STREAM, 0)}, client{::socket(AF_INET, SOCK_STREAM, 0)}, accepted,
      bound_tcp{::socket(AF_INET, SOCK_STREAM, 0)}, udp{::socket(AF_INET, SOCK_DGRAM, 0)},
      unbound_udp{::socket(AF_INET, SOCK_DGRAM, 0)}, unix_stream{::socket(AF_UNIX, SOCK_STREAM, 0)},
      file{::open("/proc/self/stat", O_RDONLY)};
  ::bind(listener.fd, reinterpret_cast<sockaddr*>(&lo), sizeof lo);
  ::listen(listener.fd, 4);
  ::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&lo), &len);
  ::connect(client.fd, reinterpret_cast<sockaddr*>(&lo), sizeof lo);
  accepted.fd = ::accept(listener.fd, nullptr, nullptr);
  lo.sin_port = 0;
  ::bind(bound_tcp.fd, reinterpret_cast<sockaddr*>(&lo), sizeof lo);
  ::bind(udp.fd, reinterpret_cast<sockaddr*>(&lo), sizeof lo);
  int pair[2] = {-1, -1}, dgram[2] = {-1, -1};
  ::socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
  ::socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram);
  Fd p0{pair[0]}, p1{pair[1]}, d0{dgram[0]}, d1{dgram[1]};
  const std::vector<std::uint64_t> fds = {std::uint64_t(listener.fd), std::uint64_t(client.fd), std::uint64_t(accepted.fd),
                               std::uint64_t(bound_tcp.fd), std::uint64_t(udp.fd), std::uint64_t(unbound_udp.fd),
                               std::uint64_t(p0.fd), std::uint64_t(unix_stream.fd), std::uint64_t(d0.fd),
                               std::uint64_t(file.fd), 0x7fff0000u, 0x100000000ull + std::uint64_t(listener.fd)};
  diff_socket_ops(s, k, m, fds, seed);
}

// REUSEPORT_SOCKARRAY with real sockets of this process: SO_REUSEPORT TCP listeners (IPv4, IPv6), UDP
// bound with it (two in one group) and unbound; a TCP listener and a bound UDP socket without it; a
// bound TCP socket not listening; a connected client and its accepted end; an AF_UNIX pair; a regular
// file; a closed fd number; an fd above S32_MAX. A socket in a slot is refused elsewhere (-EBUSY).
void diff_reuseport(const MapSpec& s, unsigned seed) {
  KernelMap k;
  if (int err = kernel_create(s, k))
    return expect(false, "kernel refused " + map_type_name(s.type) + ": " + std::to_string(err));
  auto made = create_map(s);
  if (!made) return expect(false, "we refused " + map_type_name(s.type) + ": " + made.error().reason);
  const int one = 1;
  auto reuse = [&](int fd) {
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    return fd;
  };
  sockaddr_in lo{};
  lo.sin_family = AF_INET;
  lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sockaddr_in6 lo6{};
  lo6.sin6_family = AF_INET6;
  lo6.sin6_addr = in6addr_loopback;
  auto bind4 = [&](int fd) { return ::bind(fd, reinterpret_cast<sockaddr*>(&lo), sizeof lo); };
  Fd listener{reuse(::socket(AF_INET, SOCK_STREAM, 0))}, listener6{reuse(::socket(AF_INET6, SOCK_STREAM, 0))},
      plain_listener{::socket(AF_INET, SOCK_STREAM, 0)}, bound_tcp{reuse(::socket(AF_INET, SOCK_STREAM, 0))},
      client{reuse(::socket(AF_INET, SOCK_STREAM, 0))}, accepted, udp_a{reuse(::socket(AF_INET, SOCK_DGRAM, 0))},
      udp_b{reuse(::socket(AF_INET, SOCK_DGRAM, 0))}, plain_udp{::socket(AF_INET, SOCK_DGRAM, 0)},
      unbound_udp{reuse(::socket(AF_INET, SOCK_DGRAM, 0))}, file{::open("/proc/self/stat", O_RDONLY)};
  bind4(listener.fd);
  ::listen(listener.fd, 4);
  ::bind(listener6.fd, reinterpret_cast<sockaddr*>(&lo6), sizeof lo6);
  ::listen(listener6.fd, 4);
  bind4(plain_listener.fd);
  ::listen(plain_listener.fd, 4);
  bind4(bound_tcp.fd);
  sockaddr_in at{};
  socklen_t len = sizeof at;
  ::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&at), &len);
  ::connect(client.fd, reinterpret_cast<sockaddr*>(&at), sizeof at);
  accepted.fd = ::accept(listener.fd, nullptr, nullptr);
  bind4(udp_a.fd);
  len = sizeof at;
  ::getsockname(udp_a.fd, reinterpret_cast<sockaddr*>(&at), &len);
  ::bind(udp_b.fd, reinterpret_cast<sockaddr*>(&at), sizeof at);  // the same port: one reuseport group
  bind4(plain_udp.fd);
  int pair[2] = {-1, -1};
  ::socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
  Fd p0{pair[0]}, p1{pair[1]};
  const std::vector<std::uint64_t> fds = {
      std::uint64_t(listener.fd),  std::uint64_t(listener6.fd), std::uint64_t(plain_listener.fd),
      std::uint64_t(bound_tcp.fd), std::uint64_t(client.fd),    std::uint64_t(accepted.fd),
      std::uint64_t(udp_a.fd),     std::uint64_t(udp_b.fd),     std::uint64_t(plain_udp.fd),
      std::uint64_t(unbound_udp.fd), std::uint64_t(p0.fd),      std::uint64_t(file.fd),
      0x7fff0000u,                 0x100000000ull + std::uint64_t(listener.fd)};
  const auto results = diff_socket_ops(s, k, **made, fds, seed);
  // The sockets cover every rule: stored, a socket already in a slot, not hashed with SO_REUSEPORT, not
  // TCP/UDP (-ENOTSUPP), no such fd.
  for (const int want : {0, -EBUSY, -EINVAL, -kENOTSUPP, -EBADF})
    expect(results.count(want) != 0, map_type_name(s.type) + " seed " + std::to_string(seed) +
                                         ": no kernel update returned " + std::to_string(want));
}

// Queue/stack: push with every flag, pop, peek.
void diff_queue(MapType t, unsigned seed) {
  MapSpec s = spec(t, 0, 4, 5);
  KernelMap k;
  if (kernel_create(s, k)) return expect(false, "kernel refused queue");
  auto made = create_map(s);
  Map& m = **made;
  std::mt19937 rng(seed);
  for (int i = 0; i < 400; ++i) {
    std::uint32_t v = rng(), ko = 0, oo = 0;
    const unsigned op = rng() % 4;
    const std::string what = map_type_name(t) + " op#" + std::to_string(i);
    if (op == 0) {
      const std::uint64_t f = rng() % 4;
      const int a = k_update(k.fd, nullptr, &v, f), b = m.host_update(nullptr, &v, f);
      expect(a == b, what + " push flags " + std::to_string(f) + ": kernel " + std::to_string(a) + " ours " + std::to_string(b));
    } else if (op == 1) {
      const int a = k_lookup(k.fd, nullptr, &ko), b = m.lookup_copy(nullptr, &oo);
      expect(a == b && ko == oo, what + " peek");
    } else if (op == 2) {
      const int a = k_lookup_and_delete(k.fd, nullptr, &ko, 0), b = m.lookup_and_delete(nullptr, &oo, 0);
      expect(a == b && ko == oo, what + " pop: kernel " + std::to_string(a) + " ours " + std::to_string(b));
    } else {
      std::uint32_t next;
      const int a = k_delete(k.fd, nullptr), b = m.host_erase(nullptr);
      expect(a == b, what + " delete");
      expect(k_next_key(k.fd, nullptr, &next) == m.get_next_key(nullptr, &next), what + " next_key");
    }
  }
}

// LRU hash filled past max_entries from the host, on one CPU: every update must succeed on both sides
// (an LRU evicts instead of returning -E2BIG), neither side may hold more than max_entries, and the
// key just written must be present on both. `mixed` adds rewrites of recent keys and deletes.
// `same_keys`: which older keys survive must match the kernel too. It does for insert-only sequences;
// with rewrites and deletes it does not (the kernel evicts in batches through per-CPU free lists,
// bpfvm one element at a time by recency with a second chance), so those runs check the invariants
// and print the difference.
void diff_lru_fill(const MapSpec& s, std::uint32_t steps, bool mixed, bool same_keys) {
  KernelMap k;
  if (int err = kernel_create(s, k)) return expect(false, "kernel refused LRU: " + std::to_string(err));
  auto made = create_map(s, std::make_shared<RunDomain>(possible_cpus()));
  if (!made) return expect(false, "we refused LRU: " + made.error().reason);
  Map& m = **made;
  const std::string name = map_type_name(s.type) + " n=" + std::to_string(s.max_entries) +
                           " flags=" + std::to_string(s.map_flags) + (mixed ? " mixed" : " insert-only");
  Bytes val(m.host_value_size()), out(m.host_value_size());
  std::mt19937 rng(s.max_entries);
  std::uint32_t next_new = 0;
  for (std::uint32_t step = 0; step < steps; ++step) {
    const unsigned kind = mixed ? rng() % 10 : 0;
    std::uint32_t i = next_new;
    if (kind >= 7 && next_new > 0) i = next_new - 1 - static_cast<std::uint32_t>(rng() % std::min(next_new, s.max_entries));
    else ++next_new;
    Bytes key(s.key_size, 0);
    std::memcpy(key.data(), &i, 4);
    if (kind == 9) {
      const int a = k_delete(k.fd, key.data()), b = m.host_erase(key.data());
      expect((a == 0 || a == -ENOENT) && (b == 0 || b == -ENOENT) && (!same_keys || a == b),
             name + " delete " + std::to_string(i) + ": kernel " + std::to_string(a) + " ours " + std::to_string(b));
      continue;
    }
    for (auto& b : val) b = static_cast<std::uint8_t>(i * 7 + step);
    const int a = k_update(k.fd, key.data(), val.data(), kBpfAny), b = m.host_update(key.data(), val.data(), kBpfAny);
    expect(a == 0 && b == 0, name + " update " + std::to_string(i) + ": kernel " + std::to_string(a) + " ours " +
                                 std::to_string(b));
    const int ka = k_lookup(k.fd, key.data(), out.data());
    const bool kept_k = ka == 0 && out == val;
    const int ob = m.lookup_copy(key.data(), out.data());
    expect(kept_k && ob == 0 && out == val, name + " key " + std::to_string(i) + " holds its value after the update: kernel " +
                                                std::to_string(ka) + " ours " + std::to_string(ob));
  }
  const auto kc = k_contents(k.fd, s, m.host_value_size());
  const auto oc = our_contents(m);
  expect(kc.size() <= s.max_entries && oc.size() <= s.max_entries,
         name + " holds at most max_entries: kernel " + std::to_string(kc.size()) + " ours " + std::to_string(oc.size()));
  std::size_t only_k = 0, only_o = 0;
  for (const auto& [key, v] : kc) {
    if (!oc.count(key)) ++only_k;
    else expect(oc.at(key) == v, name + " key " + hex(key) + ": the same value on both sides");
  }
  for (const auto& [key, v] : oc) only_o += kc.count(key) ? 0 : 1;
  std::printf("LRU %s, %u steps: kernel keeps %zu keys, bpfvm %zu; %zu only in the kernel, %zu only in bpfvm%s\n",
              name.c_str(), steps, kc.size(), oc.size(), only_k, only_o, same_keys ? " (must be 0, 0)" : " (known difference)");
  if (same_keys) expect(only_k == 0 && only_o == 0, name + ": the same keys survive");
}

}  // namespace

int main() {
  {
    KernelMap probe;
    if (kernel_create(spec(MapType::Array, 4, 4, 1), probe) != 0) {
      const char* required = std::getenv("BPFVM_REQUIRE_KERNEL");
      if (required && *required && std::string_view(required) != "0") {
        std::printf("FAIL: BPFVM_REQUIRE_KERNEL is set but bpf(BPF_MAP_CREATE) is unavailable (%s)\n",
                    std::strerror(errno));
        return 1;
      }
      std::printf("SKIP: bpf(BPF_MAP_CREATE) unavailable (%s)\n", std::strerror(errno));
      return 77;
    }
  }
  diff_create();
  for (MapType t : {MapType::SkStorage, MapType::InodeStorage, MapType::TaskStorage, MapType::CgrpStorage})
    diff_local_storage(t);
  // LRU eviction (one CPU: the kernel's LRU lists and free lists are per CPU).
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(std::max(::sched_getcpu(), 0), &one);
  const bool pinned = ::sched_setaffinity(0, sizeof one, &one) == 0;
  expect(pinned, "pin to one CPU for the LRU comparison");
  for (std::uint32_t n : {8u, 64u, 256u}) {
    diff_lru_fill(spec(MapType::LruHash, 4, 8, n), 3 * n, false, true);
    diff_lru_fill(spec(MapType::LruPercpuHash, 4, 8, n), 3 * n, false, true);
    diff_lru_fill(spec(MapType::LruHash, 4, 8, n), 3 * n, true, false);
    diff_lru_fill(spec(MapType::LruPercpuHash, 4, 8, n), 3 * n, true, false);
    // Known difference: with BPF_F_NO_COMMON_LRU the kernel splits max_entries over per-CPU lists (one
    // CPU keeps n / nr_cpus); bpfvm keeps one common list (maps/hash_map.hpp). Invariants only.
    diff_lru_fill(spec(MapType::LruHash, 4, 8, n, kBpfFNoCommonLru), 3 * n, false, false);
  }
  for (unsigned seed = 1; seed <= 3; ++seed) {
    diff_keyed(spec(MapType::Array, 4, 12, 8), 600, 10, true, seed);
    diff_keyed(spec(MapType::PercpuArray, 4, 12, 8), 600, 10, true, seed);
    diff_keyed(spec(MapType::Hash, 4, 12, 8), 600, 16, true, seed);
    diff_keyed(spec(MapType::Hash, 4, 12, 8, kBpfFNoPrealloc), 600, 16, true, seed);
    diff_keyed(spec(MapType::PercpuHash, 4, 12, 8), 600, 16, true, seed);
    diff_keyed(spec(MapType::LruHash, 4, 8, 64), 600, 32, true, seed);  // never full: no eviction
    diff_keyed(spec(MapType::LpmTrie, 6, 4, 6, kBpfFNoPrealloc), 800, 64, true, seed);
    MapSpec bloom = spec(MapType::BloomFilter, 0, 4, 64);
    bloom.map_extra = 3;
    diff_keyed(bloom, 300, 1, false, seed);
    diff_queue(MapType::Queue, seed);
    diff_queue(MapType::Stack, seed);
    diff_keyed(spec(MapType::StackTrace, 4, 16, 5), 200, 12, true, seed);  // empty: no call chains here
    diff_keyed(spec(MapType::CgroupStorage, 16, 12, 0), 200, 8, true, seed);  // empty: nothing attached
    diff_keyed(spec(MapType::PercpuCgroupStorage, 8, 12, 0), 200, 8, true, seed);
    for (std::uint32_t v : {4u, 8u}) {
      diff_redirect(spec(MapType::Devmap, 4, v, 6), seed);
      diff_redirect(spec(MapType::DevmapHash, 4, v, 6), seed);
      diff_redirect(spec(MapType::Cpumap, 4, v, 4), seed);
    }
    diff_redirect(spec(MapType::Xskmap, 4, 4, 4), seed);
    diff_redirect(spec(MapType::CgroupArray, 4, 4, 4), seed);
    for (std::uint32_t v : {4u, 8u}) {
      diff_sockmap(spec(MapType::Sockmap, 4, v, 6), seed);
      diff_sockmap(spec(MapType::Sockhash, 4, v, 6), seed);
      diff_sockmap(spec(MapType::Sockhash, 12, v, 5), seed);
      diff_reuseport(spec(MapType::ReuseportSockarray, 4, v, 6), seed);
    }
  }
  std::printf("kernel comparisons: maps_kernel_diff: %d map results compared\n", comparisons);
  if (failures) {
    std::printf("%d mismatches\n", failures);
    return 1;
  }
  std::printf("kernel and bpfvm maps agree\n");
  return 0;
}
