// Runtime differential test: clang-built programs (tests/runtime/programs) run in the kernel
// (BPF_PROG_TEST_RUN through KernelObject) and in bpfvm (interpreter and JIT) on the same seeded random
// packets; retval, output packet and every map's contents must match, and so must the errnos of
// host-side map operations.
#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"
#include "loader/object.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "tests/kernel/skipped_cases.hpp"
#include "tests/runtime/kernel_object.hpp"
#include "tests/runtime/own_cgroup.hpp"
#include "tests/runtime/packet_gen.hpp"

namespace bpfvm::testing {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

const std::uint64_t kSeed = env_u64("BPFVM_RUNTIME_SEED", 0x72756e74696d65);
const std::uint64_t kPackets = env_u64("BPFVM_RUNTIME_PACKETS", 1500);
constexpr std::uint64_t kCheckpointEvery = 50;  // map contents are compared this often (and at the end)

// Runs on one CPU, so the kernel's per-CPU and LRU state is what a single-CPU run produces.
void pin_to_current_cpu() {
  static const bool kPinned = [] {
    const int cpu = ::sched_getcpu();
    if (cpu < 0) return false;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return ::sched_setaffinity(0, sizeof set, &set) == 0;
  }();
  (void)kPinned;
}

/// Collects mismatches; the first kPrintLimit are printed at once with what reproduces them.
struct Mismatches {
  static constexpr std::size_t kPrintLimit = 25;
  std::vector<std::string> lines;
  void add(const std::string& where, const std::string& what) {
    char seed[64];
    std::snprintf(seed, sizeof seed, "BPFVM_RUNTIME_SEED=0x%llx", static_cast<unsigned long long>(kSeed));
    lines.push_back(std::string(seed) + " " + where + ": " + what);
    if (lines.size() <= kPrintLimit) std::printf("MISMATCH %s\n", lines.back().c_str());
    if (lines.size() == kPrintLimit + 1) std::printf("MISMATCH ... (further mismatches counted, not printed)\n");
  }
};

// One engine and variant: the interpreter unchecked or checked; the JIT's fast, counted (budget) or
// checked variant. The checked and counted runs take every fifth of the packets (bounded run time).
struct EngineVariant {
  const char* name;
  Engine engine;
  bool checked;
  std::uint64_t budget_insns;
  std::uint64_t packet_divisor;
};
constexpr EngineVariant kVariants[] = {
    {"interpreter", Engine::Interpreter, false, 0, 1},
    {"jit", Engine::Jit, false, 0, 1},
    {"interpreter checked", Engine::Interpreter, true, 0, 5},
    {"jit checked", Engine::Jit, true, 0, 5},
    {"jit counted", Engine::Jit, false, 1'000'000, 5},
};
// The optimizing tier, for the cases that also run on it.
constexpr EngineVariant kOptimized{"jit optimized", Engine::JitOptimized, false, 0, 1};

std::string hex(std::span<const std::uint8_t> b) {
  std::string out;
  char buf[4];
  for (auto x : b) {
    std::snprintf(buf, sizeof buf, "%02x", x);
    out += buf;
  }
  return out;
}

// ---- map contents ---------------------------------------------------------------------------------

bool is_percpu(std::uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

bool is_array(std::uint32_t type) {
  return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

std::size_t round8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

// Per-CPU values are compared as the sum over CPUs of each 64-bit lane: the kernel runs on whichever
// CPU the syscall lands on, bpfvm on whichever slot its RunGuard picks.
Bytes fold_percpu(const Bytes& raw, std::size_t value_size, std::size_t cpus) {
  const std::size_t stride = round8(value_size);
  Bytes out(stride, 0);
  for (std::size_t lane = 0; lane + 8 <= stride; lane += 8) {
    std::uint64_t sum = 0;
    for (std::size_t c = 0; c < cpus; ++c) {
      std::uint64_t v;
      std::memcpy(&v, raw.data() + c * stride + lane, 8);
      sum += v;
    }
    std::memcpy(out.data() + lane, &sum, 8);
  }
  return out;
}

struct Side {
  std::function<int(const Bytes& key, Bytes& value)> lookup;
  std::function<int(const Bytes& key, Bytes& next)> next_key;  // empty key: first
};

std::set<Bytes> all_keys(const Side& side, std::size_t key_size, std::size_t limit) {
  std::set<Bytes> keys;
  Bytes key, next(key_size);
  while (keys.size() <= limit && side.next_key(key, next) == 0) {
    if (!keys.insert(next).second) break;  // a cycle would be a bug; stop rather than spin
    key = next;
  }
  return keys;
}

void compare_maps(const KernelObject& kobj, const Object& obj, const std::string& where, Mismatches& mm) {
  const unsigned kcpus = possible_cpus();
  for (const auto& spec : kobj.map_specs()) {
    const Fd* kfd = kobj.map(spec.name);
    auto bmap = obj.map(spec.name);
    if (!kfd || !bmap) {
      mm.add(where, "map " + spec.name + " missing on one side");
      continue;
    }
    // The ring buffer has no lookup: what the program wrote is compared through its globals (and the
    // record counts it keeps there), not record by record.
    if (spec.type == BPF_MAP_TYPE_RINGBUF) continue;
    // A program's globals in SEC(".data.uncompared") hold numbers each side picks on its own (the last
    // socket cookie): the program compares them with later answers and keeps only that outcome.
    if (spec.name.ends_with(".uncompared")) continue;
    // A prog_array holds program ids in the kernel and program handles in bpfvm: the values differ by
    // design, so only which slots are filled is compared.
    if (spec.type == BPF_MAP_TYPE_PROG_ARRAY) {
      for (std::uint32_t i = 0; i < spec.max_entries; ++i) {
        const Bytes key(reinterpret_cast<const std::uint8_t*>(&i), reinterpret_cast<const std::uint8_t*>(&i) + 4);
        Bytes kv(std::max<std::size_t>(spec.value_size, 8)), bv(std::max<std::size_t>(bmap->host_value_size(), 8));
        const int krc = map_lookup(*kfd, key, kv), brc = bmap->lookup(key, bv);
        if ((krc == 0) != (brc == 0))
          mm.add(where, "prog_array " + spec.name + " slot " + std::to_string(i) + ": lookup kernel " +
                            std::to_string(krc) + " bpfvm " + std::to_string(brc));
      }
      continue;
    }
    const bool percpu = is_percpu(spec.type);
    const std::size_t kvalue = percpu ? round8(spec.value_size) * kcpus : spec.value_size;
    const std::size_t bvalue = bmap->host_value_size();
    const std::size_t bcpus = percpu ? bvalue / round8(spec.value_size) : 1;
    Side k{[&](const Bytes& key, Bytes& v) { v.assign(kvalue, 0); return map_lookup(*kfd, key, v); },
           [&](const Bytes& key, Bytes& n) { return map_get_next_key(*kfd, key, n); }};
    Side b{[&](const Bytes& key, Bytes& v) { v.assign(bvalue, 0); return bmap->lookup(key, v); },
           [&](const Bytes& key, Bytes& n) { return bmap->next_key(key, n); }};

    std::set<Bytes> keys;
    if (is_array(spec.type)) {
      for (std::uint32_t i = 0; i < spec.max_entries; ++i)
        keys.insert(Bytes(reinterpret_cast<const std::uint8_t*>(&i), reinterpret_cast<const std::uint8_t*>(&i) + 4));
    } else {
      keys = all_keys(k, spec.key_size, spec.max_entries + 1);
      const auto bkeys = all_keys(b, spec.key_size, spec.max_entries + 1);
      for (const auto& key : keys)
        if (!bkeys.count(key)) mm.add(where, "map " + spec.name + ": key " + hex(key) + " only in the kernel");
      for (const auto& key : bkeys)
        if (!keys.count(key)) mm.add(where, "map " + spec.name + ": key " + hex(key) + " only in bpfvm");
    }
    for (const auto& key : keys) {
      Bytes kv, bv;
      const int krc = k.lookup(key, kv), brc = b.lookup(key, bv);
      if (krc != brc) {
        mm.add(where, "map " + spec.name + " key " + hex(key) + ": lookup kernel " + std::to_string(krc) +
                          " bpfvm " + std::to_string(brc));
        continue;
      }
      if (krc != 0) continue;
      if (percpu) {
        kv = fold_percpu(kv, spec.value_size, kcpus);
        bv = fold_percpu(bv, spec.value_size, bcpus);
      }
      kv.resize(spec.value_size);
      bv.resize(spec.value_size);
      if (kv != bv) {
        std::size_t off = 0;
        while (kv[off] == bv[off]) ++off;
        mm.add(where, "map " + spec.name + " key " + hex(key) + " value differs at byte " + std::to_string(off) +
                          ": kernel " + hex_window(kv, off & ~std::size_t{7}, 16) + " | bpfvm " +
                          hex_window(bv, off & ~std::size_t{7}, 16));
      }
    }
  }
}

// ---- one program, one engine ----------------------------------------------------------------------

struct DiffCase {
  std::string object;   // tests/runtime/programs/<object>.bpf.c
  std::string program;  // function name
  std::function<void(const KernelObject&, Object&, Mismatches&)> setup;  // identical host writes to both
  std::function<void(const KernelObject&, Object&, Mismatches&)> after;  // host reads after the last packet
  std::function<Bytes(std::uint64_t packet)> ctx_in;  // the packet run's ctx_in, both sides (unset: none)
};

struct CaseStats {
  std::uint64_t packets = 0;
  std::uint64_t both_ran = 0;     // retval, packet (and maps at checkpoints) compared
  std::uint64_t both_failed = 0;  // the same errno on both sides
};

// The errno a failed kernel test run names: errno_text's "... (EINVAL)".
std::string kernel_errno_name(const std::string& reason) {
  const auto open = reason.rfind("(E"), close = reason.rfind(')');
  return open == std::string::npos || close == std::string::npos || close < open
             ? "?" : reason.substr(open + 1, close - open - 1);
}
// The errno bpfvm's test run names: helpers/test_run's reasons start "EINVAL: ...".
std::string bpfvm_errno_name(const Error& e) {
  const auto colon = e.reason.find(':');
  const std::string head = e.reason.substr(0, colon);
  return colon != std::string::npos && head.size() > 1 && head[0] == 'E' ? head : std::string("?");
}

CaseStats run_case(const DiffCase& c, const EngineVariant& variant, Mismatches& mm) {
  pin_to_current_cpu();
  CaseStats stats;
  const std::string tag = c.object + "/" + c.program + " [" + variant.name + "]";
  const Bytes elf = read_file_bytes(runtime_object_path(c.object));
  REQUIRE_FALSE(elf.empty());
  loader::LoadOptions lo;
  lo.object_name = c.object;
  // The kernel side needs a kfunc call's imm to be the kernel's BTF id (libbpf resolves it so).
  static const Bytes vmlinux = read_file_bytes("/sys/kernel/btf/vmlinux");
  lo.target_btf = vmlinux;
  std::string klog;
  auto kobj = KernelObject::load_elf(elf, lo, &klog);
  if (!kobj) FAIL(tag << ": loader or kernel refused: " << kobj.error().message() << "\n" << klog);
  const Fd* kprog = kobj->program(c.program);
  REQUIRE(kprog != nullptr);

  Vm vm(VmOptions{.nr_cpus = possible_cpus()});
  auto obj = vm.open_elf(elf, {}, c.object);
  if (!obj) FAIL(tag << ": bpfvm open_elf: " << obj.error().reason);
  ProgramOptions po{.engine = variant.engine};
  po.checked = variant.checked;
  po.budget_insns = variant.budget_insns;
  auto prog = obj->load(c.program, po);
  if (!prog && prog.error().code == Errc::Rejected) {
    std::printf("NOTE %s: bpfvm's verifier rejects a program the kernel accepts (%s); running it unverified\n",
                tag.c_str(), prog.error().reason.c_str());
    mm.add(tag, "bpfvm verifier rejected: " + prog.error().reason);
    po.verify = false;
    prog = obj->load(c.program, po);
  }
  if (!prog) FAIL(tag << ": bpfvm load: " << prog.error().reason);
  if (c.setup) c.setup(*kobj, *obj, mm);

  const std::uint64_t packets = kPackets / variant.packet_divisor;
  for (std::uint64_t i = 0; i < packets; ++i) {
    const Packet pkt = random_packet(kSeed, i);
    // Every tenth packet is a repeated test run: the runs share one packet and context, so a program
    // that rewrites or resizes the packet sees its previous run's output on both sides.
    const std::uint32_t repeat = i % 10 == 9 ? 2 + static_cast<std::uint32_t>(i / 10 % 3) : 1;
    const std::string where = tag + " packet " + std::to_string(i) + " (" + pkt.kind + ", repeat " +
                              std::to_string(repeat) + ")";
    const Bytes ctx = c.ctx_in ? c.ctx_in(i) : Bytes{};
    auto k = test_run_bounded(*kprog, pkt.bytes, repeat, ctx);
    auto b = prog->run(RunInput{pkt.bytes, ctx, repeat, nullptr});
    ++stats.packets;
    if (!k || !b) {
      // Both failing agree only when they fail for the same reason: the same errno.
      if (!k && !b && kernel_errno_name(k.error().reason) == bpfvm_errno_name(b.error())) {
        ++stats.both_failed;
        continue;
      }
      mm.add(where, std::string("kernel ") + (k ? "ran" : k.error().reason) + ", bpfvm " +
                        (b ? "ran" : b.error().reason));
      continue;
    }
    ++stats.both_ran;
    if (k->retval != b->retval)
      mm.add(where, "retval kernel " + std::to_string(k->retval) + " bpfvm " + std::to_string(b->retval));
    // The kernel's data_out buffer holds data_in's size + kTestRunSlackBytes: a longer packet is its
    // ENOSPC with the bytes that fit and the full size. bpfvm's whole packet is held to that bound.
    const std::size_t bound = pkt.bytes.size() + kTestRunSlackBytes;
    const bool b_truncated = b->data_out.size() > bound;
    if (k->data_truncated != b_truncated || (b_truncated && k->data_size_full != b->data_out.size()))
      mm.add(where, "packet outgrows the " + std::to_string(bound) + "-byte buffer: kernel " +
                        (k->data_truncated ? "ENOSPC, " + std::to_string(k->data_size_full) + " bytes" : "no") +
                        ", bpfvm " + std::to_string(b->data_out.size()) + " bytes");
    const Bytes b_data(b->data_out.begin(), b->data_out.begin() + static_cast<std::ptrdiff_t>(std::min(b->data_out.size(), bound)));
    if (!std::equal(k->data_out.begin(), k->data_out.end(), b_data.begin(), b_data.end())) {
      std::size_t off = 0;
      while (off < k->data_out.size() && off < b_data.size() && k->data_out[off] == b_data[off]) ++off;
      mm.add(where, "packet out differs at byte " + std::to_string(off) + " (sizes kernel " +
                        std::to_string(k->data_out.size()) + " bpfvm " + std::to_string(b_data.size()) +
                        "): kernel " + hex_window(k->data_out, off) + " | bpfvm " + hex_window(b_data, off));
    }
    if ((i + 1) % kCheckpointEvery == 0 || i + 1 == packets)
      compare_maps(*kobj, *obj, tag + " after packet " + std::to_string(i), mm);
  }
  if (c.after) c.after(*kobj, *obj, mm);
  return stats;
}

void run_both_engines(const DiffCase& c) {
  Mismatches mm;
  std::uint64_t compared = 0, ran = 0, failed = 0;
  for (const auto& variant : kVariants) {
    const auto stats = run_case(c, variant, mm);
    compared += stats.packets;
    ran += stats.both_ran;
    failed += stats.both_failed;
  }
  std::printf("%s/%s: %llu packet runs compared (seed 0x%llx): %llu ran on both sides, %llu failed on both "
              "with the same errno; %zu mismatches\n", c.object.c_str(), c.program.c_str(),
              static_cast<unsigned long long>(compared), static_cast<unsigned long long>(kSeed),
              static_cast<unsigned long long>(ran), static_cast<unsigned long long>(failed), mm.lines.size());
  CHECK(mm.lines.empty());
  // The comparison is about runs: most packets must run (a test run refused on both sides compares
  // only an errno).
  CHECK(ran * 10 >= compared * 9);
}

// The same comparison on the optimizing tier alone, reported and checked on its own.
void run_optimized(const DiffCase& c) {
  Mismatches mm;
  const auto stats = run_case(c, kOptimized, mm);
  std::printf("%s [jit optimized]: %llu packet runs compared, %zu mismatches\n", c.program.c_str(),
              static_cast<unsigned long long>(stats.packets), mm.lines.size());
  CHECK(mm.lines.empty());
  CHECK(stats.both_ran * 10 >= stats.packets * 9);
}

// ---- host-side setup shared by both sides -----------------------------------------------------------

template <class T>
Bytes bytes_of(const T& v) {
  return Bytes(reinterpret_cast<const std::uint8_t*>(&v), reinterpret_cast<const std::uint8_t*>(&v) + sizeof v);
}

Bytes lpm_key(std::uint32_t prefixlen, std::uint32_t addr_host_order) {
  Bytes key = bytes_of(prefixlen);
  for (int shift = 24; shift >= 0; shift -= 8) key.push_back(static_cast<std::uint8_t>(addr_host_order >> shift));
  return key;
}

// Routes for maps_mix's LPM trie; the program looks up /32 destinations from packet_gen's pool.
void add_routes(const KernelObject& k, Object& o, Mismatches& mm) {
  const struct {
    std::uint32_t prefixlen, addr, value;
  } routes[] = {{8, 0x0a000000, 2},  {24, 0x0a000000, 5}, {16, 0x0a010000, 7}, {24, 0x0a010200, 8},
                {24, 0xc0a80100, 3}, {32, 0xc0a80104, 9}, {30, 0x0a000004, 12}};
  auto bmap = o.map("routes");
  REQUIRE(bmap.has_value());
  for (const auto& r : routes) {
    const Bytes key = lpm_key(r.prefixlen, r.addr), value = bytes_of(r.value);
    const int krc = map_update(*k.map("routes"), key, value), brc = bmap->update(key, value);
    if (krc != 0 || brc != 0)
      mm.add("routes setup", "update /" + std::to_string(r.prefixlen) + ": kernel " + std::to_string(krc) +
                                 " bpfvm " + std::to_string(brc));
  }
}

// Entries for xdp_redirect_map: devices are lo (ifindex 1, in every network namespace); the cpumap
// gets CPU 0; the xskmap stays empty (an AF_XDP socket needs a bound umem on the kernel side).
void add_redirect_targets(const KernelObject& k, Object& o, Mismatches& mm) {
  struct Entry {
    const char* map;
    std::uint32_t key, word0, word1;
    std::size_t value_size;
  };
  const Entry entries[] = {{"tx_port", 1, 1, 0xffffffffu, 8}, {"tx_port", 3, 1, 0, 8}, {"tx_port", 7, 1, 0xffffffffu, 8},
                           {"tx_hash", 2, 1, 0, 4},            {"tx_hash", 9, 1, 0, 4}, {"cpu_map", 0, 192, 0, 8}};
  for (const auto& e : entries) {
    const std::uint32_t words[2] = {e.word0, e.word1};
    const Bytes key = bytes_of(e.key);
    const Bytes value(reinterpret_cast<const std::uint8_t*>(words), reinterpret_cast<const std::uint8_t*>(words) + e.value_size);
    auto bmap = o.map(e.map);
    REQUIRE(bmap.has_value());
    const int krc = map_update(*k.map(e.map), key, value), brc = bmap->update(key, value);
    if (krc != 0 || brc != 0)
      mm.add("redirect setup", std::string(e.map) + " key " + std::to_string(e.key) + ": kernel " +
                                   std::to_string(krc) + " bpfvm " + std::to_string(brc));
  }
}

TEST_CASE("xdp_redirect_map: devmap, devmap_hash, cpumap, xskmap redirects and devmap lookups", "[runtime][xdp]") {
  run_both_engines({"xdp_redirect_map", "redirect", add_redirect_targets});
}

// samples/bpf xdp_redirect_map_multi's xdp_devmap_prog: bpfvm ran it, the kernel's test run refuses it.
TEST_CASE("xdp_redirect_map: a devmap program has no test run (EINVAL on both sides)", "[runtime][xdp]") {
  Mismatches mm;
  const auto stats = run_case({"xdp_redirect_map", "egress", {}}, kVariants[0], mm);
  CHECK(mm.lines.empty());
  CHECK(stats.packets > 0);
  CHECK(stats.both_failed == stats.packets);
}

// Where the packet went, as RunOutput shows it (no kernel needed): the devmap entry's device, the
// map and key, broadcast; an xskmap socket the host registered with Map::set_xsk.
TEST_CASE("xdp_redirect_map: RunOutput names the redirect target", "[runtime][xdp]") {
  const Bytes elf = read_file_bytes(runtime_object_path("xdp_redirect_map"));
  REQUIRE_FALSE(elf.empty());
  Vm vm;
  auto obj = vm.open_elf(elf, {}, "xdp_redirect_map");
  REQUIRE(obj.has_value());
  const std::uint32_t dev_entry[2] = {1, 0xffffffffu};  // lo
  REQUIRE(obj->map("tx_port")->update(bytes_of(std::uint32_t{1}), bytes_of(dev_entry)) == 0);
  REQUIRE(obj->map("xsks")->set_xsk(3, 5) == 0);
  CHECK(obj->map("tx_port")->set_xsk(3, 5) == -EINVAL);
  auto prog = obj->load("redirect", {});
  REQUIRE(prog.has_value());
  auto run = [&](std::size_t len) {
    auto out = prog->run(RunInput{Bytes(len, 0), {}, 1, nullptr});
    REQUIRE(out.has_value());
    return *out;
  };
  const RunOutput dev = run(44);  // tx_port, key 1, action bits 1
  CHECK(dev.retval == 4);         // XDP_REDIRECT
  CHECK(dev.redirect_ifindex == std::optional<std::uint32_t>(1));
  REQUIRE(dev.redirect_map.has_value());
  CHECK((dev.redirect_map->map == "tx_port" && dev.redirect_map->map_type == 14 && dev.redirect_map->key == 1 &&
         !dev.redirect_map->broadcast));
  const RunOutput xsk = run(15);  // xsks, key 3
  CHECK(xsk.retval == 4);
  CHECK_FALSE(xsk.redirect_ifindex.has_value());
  REQUIRE(xsk.redirect_map.has_value());
  CHECK((xsk.redirect_map->map == "xsks" && xsk.redirect_map->key == 3));
  const RunOutput all = run(160);  // tx_port, key 0 (empty), BPF_F_BROADCAST
  CHECK(all.retval == 4);
  REQUIRE(all.redirect_map.has_value());
  CHECK(all.redirect_map->broadcast);
  const RunOutput miss = run(57);  // tx_hash (empty), key 4, action bits 1: the action, nothing recorded
  CHECK(miss.retval == 1);         // XDP_DROP
  CHECK_FALSE(miss.redirect_map.has_value());
}

TEST_CASE("xdp_rewrite: parse, swap, TTL with checksum, adjust_head/tail", "[runtime][xdp]") {
  run_both_engines({"xdp_rewrite", "xdp_rewrite", {}});
}

TEST_CASE("csum_diff: bpf_csum_diff from-only, to-only and both, any size, seeded", "[runtime][xdp]") {
  run_both_engines({"csum_diff", "csum_diff", {}});
}

TEST_CASE("sock_filter: LD_ABS, skb_load_bytes, hash map", "[runtime][socket]") {
  run_both_engines({"sock_filter", "sock_filter", {}});
}

TEST_CASE("cgroup_skb: direct packet reads, socket fields, ctx writes, skb_load_bytes, verdict", "[runtime][cgroup_skb]") {
  run_both_engines({"cgroup_skb", "cgroup_skb", {}});
}

TEST_CASE("cgroup_storage: bpf_get_local_storage on shared and per-CPU cgroup storage, fresh each run",
          "[runtime][cgroup_skb]") {
  run_both_engines({"cgroup_storage", "cgroup_storage", {}});
}

TEST_CASE("sk_fields: __sk_buff.sk, bpf_sk_fullsock, bpf_tcp_sock, bpf_get_listener_sock, bpf_sk_lookup_*", "[runtime][tc][socket]") {
  run_both_engines({"sk_fields", "sk_fields", {}});
}

TEST_CASE("sockmap_ops: a tc program's own sockmap/sockhash update, lookup and delete", "[runtime][tc][socket]") {
  run_both_engines({"sockmap_ops", "sockmap_ops", {}});
}

// Real loopback TCP sockets, each put in both sides' SOCKMAP and SOCKHASH under the same key: 0 an
// IPv4 listener, 1 a client connected to it (SO_PRIORITY 3), 2 the accepted end (SO_MARK 0x77), 3 an
// IPv6 client, 4 its listener on [::1], 5 the accepted end, 6 an IPv4 client bound before connecting;
// 7 stays empty. The fds stay open until the case ends.
struct LoopbackSockets {
  std::vector<Fd> fds;
  static socklen_t loopback(int family, sockaddr_storage& a) {
    a = {};
    if (family == AF_INET) {
      auto& in = reinterpret_cast<sockaddr_in&>(a);
      in.sin_family = AF_INET;
      in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      return sizeof in;
    }
    auto& in6 = reinterpret_cast<sockaddr_in6&>(a);
    in6.sin6_family = AF_INET6;
    in6.sin6_addr = in6addr_loopback;
    return sizeof in6;
  }
  // A listener on the family's loopback address, a client connected to it (bound first when asked) and
  // the accepted end, in that order.
  void connect_pair(int family, bool bind_client) {
    Fd l(::socket(family, SOCK_STREAM, 0));
    REQUIRE(l.get() >= 0);
    sockaddr_storage a{};
    socklen_t len = loopback(family, a);
    REQUIRE(::bind(l.get(), reinterpret_cast<sockaddr*>(&a), len) == 0);
    REQUIRE(::listen(l.get(), 4) == 0);
    REQUIRE(::getsockname(l.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
    Fd c(::socket(family, SOCK_STREAM, 0));
    REQUIRE(c.get() >= 0);
    if (bind_client) {
      sockaddr_storage local{};
      const socklen_t local_len = loopback(family, local);
      REQUIRE(::bind(c.get(), reinterpret_cast<sockaddr*>(&local), local_len) == 0);
    }
    REQUIRE(::connect(c.get(), reinterpret_cast<sockaddr*>(&a), len) == 0);
    Fd server(::accept(l.get(), nullptr, nullptr));
    REQUIRE(server.get() >= 0);
    fds.push_back(std::move(l));
    fds.push_back(std::move(c));
    fds.push_back(std::move(server));
  }
  void operator()(const KernelObject& k, Object& o, Mismatches& mm) {
    const std::size_t first = fds.size();
    connect_pair(AF_INET, false);   // first + 0, 1, 2
    connect_pair(AF_INET6, false);  // first + 3, 4, 5
    connect_pair(AF_INET, true);    // first + 6, 7, 8
    const int priority = 3, mark = 0x77;
    REQUIRE(::setsockopt(fds[first + 1].get(), SOL_SOCKET, SO_PRIORITY, &priority, sizeof priority) == 0);
    REQUIRE(::setsockopt(fds[first + 2].get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) == 0);
    const std::size_t slots[7] = {first, first + 1, first + 2, first + 4, first + 3, first + 5, first + 7};
    for (const char* map : {"lookup_socks", "lookup_hash"}) {
      auto bmap = o.map(map);
      REQUIRE(bmap.has_value());
      for (std::uint32_t key = 0; key < 7; ++key) {
        const Bytes value = bytes_of(static_cast<std::uint64_t>(fds[slots[key]].get()));
        const int krc = map_update(*k.map(map), bytes_of(key), value), brc = bmap->update(bytes_of(key), value);
        if (krc != 0 || brc != 0)
          mm.add(std::string(map) + " setup", "slot " + std::to_string(key) + ": kernel " + std::to_string(krc) +
                                                   " bpfvm " + std::to_string(brc));
      }
    }
  }
};

TEST_CASE("sockmap_lookup: a tc program reads the host's sockets from a sockmap/sockhash and releases them",
          "[runtime][tc][socket]") {
  auto sockets = std::make_shared<LoopbackSockets>();
  run_both_engines({"sockmap_lookup", "sockmap_lookup",
                    [sockets](const KernelObject& k, Object& o, Mismatches& mm) { (*sockets)(k, o, mm); }});
}

// Socket-local storage on the sockets of LoopbackSockets (slot 1's value written by the host first, as
// {1000 runs, created by 7}): after the packets, the host reads every socket's value by its fd on both
// sides; then it closes slot 1's socket and opens another, which takes its fd number and has no value.
// Every engine, the optimizing JIT too.
TEST_CASE("sk_storage: bpf_sk_storage_get/delete on sockmap sockets and the skb's, read by the host by fd",
          "[runtime][tc][socket][storage]") {
  auto sockets = std::make_shared<LoopbackSockets>();
  auto first = std::make_shared<std::size_t>(0);
  struct sk_value {
    std::uint64_t runs, len_sum;
    std::uint32_t last_len, created_by;
  };
  auto by_fd = [](const KernelObject& k, Object& o, Mismatches& mm, int fd, const std::string& what) {
    const Bytes key = bytes_of(fd);
    Bytes kv(sizeof(sk_value)), bv(sizeof(sk_value));
    const int krc = map_lookup(*k.map("sk_stor"), key, kv), brc = o.map("sk_stor")->lookup(key, bv);
    if (krc != brc || (krc == 0 && kv != bv))
      mm.add("sk_stor " + what, "kernel " + std::to_string(krc) + " " + (krc == 0 ? hex(kv) : "") + ", bpfvm " +
                                    std::to_string(brc) + " " + (brc == 0 ? hex(bv) : ""));
    return krc;
  };
  DiffCase c{"sk_storage", "sk_storage",
             [sockets, first](const KernelObject& k, Object& o, Mismatches& mm) {
               *first = sockets->fds.size();
               (*sockets)(k, o, mm);
               const sk_value host{1000, 0, 0, 7};
               const Bytes key = bytes_of(sockets->fds[*first + 1].get()), value = bytes_of(host);
               const int krc = map_update(*k.map("sk_stor"), key, value, BPF_NOEXIST);
               const int brc = o.map("sk_stor")->update(key, value, BPF_NOEXIST);
               if (krc != 0 || brc != 0)
                 mm.add("sk_stor host update", "kernel " + std::to_string(krc) + " bpfvm " + std::to_string(brc));
             },
             [sockets, first, by_fd](const KernelObject& k, Object& o, Mismatches& mm) {
               int found = 0;
               for (std::size_t i = *first; i < sockets->fds.size(); ++i)
                 found += by_fd(k, o, mm, sockets->fds[i].get(), "socket " + std::to_string(i - *first)) == 0;
               if (found == 0) mm.add("sk_stor", "no socket has a value: the program created none");
               const int old_fd = sockets->fds[*first + 1].get();
               sockets->fds[*first + 1] = Fd(::socket(AF_INET, SOCK_STREAM, 0));
               const int new_fd = sockets->fds[*first + 1].get();
               const int rc = by_fd(k, o, mm, new_fd, "a new socket on a closed one's fd");
               if (new_fd == old_fd && rc != -ENOENT)
                 mm.add("sk_stor", "the closed socket's value is visible through its fd's new socket: " + std::to_string(rc));
             }};
  Mismatches mm;
  for (const auto& variant : kVariants) run_case(c, variant, mm);
  run_case(c, kOptimized, mm);
  CHECK(mm.lines.empty());
}

TEST_CASE("lwt_push: lwt_xmit bpf_skb_change_head/_tail, the header stored and read back, redirect", "[runtime][lwt]") {
  run_both_engines({"lwt_push", "lwt_push", {}});
}

TEST_CASE("lwt_xmit: direct packet writes, skb_store_bytes/load_bytes at L3, ctx writes", "[runtime][lwt]") {
  run_both_engines({"lwt_xmit", "lwt_rewrite", {}});
}

TEST_CASE("ld_abs: legacy LD_ABS/LD_IND packet loads", "[runtime][socket]") {
  run_both_engines({"ld_abs", "ld_abs", {}});
}

TEST_CASE("ld_abs_subprog: a failed LD_ABS in a subprogram returns 0 to the caller", "[runtime][socket]") {
  run_both_engines({"ld_abs", "ld_abs_subprog", {}});
}

TEST_CASE("tc_rewrite: skb_store_bytes, l3/l4 csum_replace, redirect", "[runtime][tc]") {
  run_both_engines({"tc_rewrite", "tc_rewrite", {}});
}

TEST_CASE("perf_sample: bpf_perf_event_output with BPF_F_CTXLEN_MASK from XDP and tc", "[runtime][perf]") {
  run_both_engines({"perf_sample", "xdp_sample", {}});
  run_both_engines({"perf_sample", "tc_sample", {}});
}

// under_cgroup's slots, the same on both sides: 0 = this process's cgroup (the kernel's fd; bpfvm:
// holds the running task), 1 = a child cgroup made for the test (it holds no task of ours).
struct CgroupSlots {
  std::string own;  // this process's cgroup (own_cgroup2_dir())
  std::string child;
  ~CgroupSlots() {
    if (!child.empty()) ::rmdir(child.c_str());
  }
  void operator()(const KernelObject& k, Object& o, Mismatches& mm) {
    child = own + "/bpfvm_under_cgroup_" + std::to_string(::getpid());
    REQUIRE((::mkdir(child.c_str(), 0755) == 0 || errno == EEXIST));
    auto bmap = o.map("cgroups");
    REQUIRE(bmap.has_value());
    std::uint32_t slot = 0;
    for (const auto& [dir, holds_us] : {std::pair{own, true}, std::pair{child, false}}) {
      Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY));
      REQUIRE(fd.get() >= 0);
      const int krc = map_update(*k.map("cgroups"), bytes_of(slot), bytes_of(static_cast<std::uint32_t>(fd.get())));
      const int brc = bmap->set_cgroup(slot, 100 + slot, holds_us);
      if (krc != 0 || brc != 0)
        mm.add("cgroup setup", "slot " + std::to_string(slot) + ": kernel " + std::to_string(krc) + " bpfvm " + std::to_string(brc));
      ++slot;
    }
  }
};

TEST_CASE("under_cgroup: bpf_skb_under_cgroup on the test's own cgroup, a child, an empty slot", "[runtime][tc]") {
  auto slots = std::make_shared<CgroupSlots>();
  slots->own = own_cgroup2_dir();
  if (slots->own.empty()) return skip_case("under_cgroup: no cgroup v2 mount here to take the test's cgroup from");
  run_both_engines({"under_cgroup", "under_cgroup",
                    [slots](const KernelObject& k, Object& o, Mismatches& mm) { (*slots)(k, o, mm); }});
}

// Whether this process runs in init_net (what bpf_get_netns_cookie(NULL) names): its namespace inode
// is init_net's fixed PROC_NET_INIT_INO.
bool same_netns_as_init() {
  struct stat self {};
  return ::stat("/proc/self/ns/net", &self) == 0 && self.st_ino == 0xEFFFFFF9U;
}

// bpf_fib_lookup: bpfvm models a host that does not forward (only the loopback, no routes). A kernel
// on a forwarding host goes on to route ifindex 1's lookups, so the comparison needs forwarding off.
bool host_forwards() {
  for (const char* path : {"/proc/sys/net/ipv4/conf/lo/forwarding", "/proc/sys/net/ipv6/conf/all/forwarding"}) {
    std::ifstream f(path);
    int on = 0;
    if (f >> on && on != 0) return true;
  }
  return false;
}

TEST_CASE("fib_lookup: error order and the loopback's FWD_DISABLED answer from tc and XDP", "[runtime][tc][xdp]") {
  if (host_forwards()) {
    WARN("not compared: this host forwards (net.ipv4.conf.lo.forwarding or net.ipv6.conf.all.forwarding is 1)");
    return;
  }
  run_both_engines({"fib_lookup", "fib_tc", {}});
  run_both_engines({"fib_lookup", "fib_xdp", {}});
}

TEST_CASE("adjust_room: bpf_skb_adjust_room from tc, MAC/NET modes, encap/decap flags and refusals",
          "[runtime][tc][adjust_room]") {
  const DiffCase c{"adjust_room", "adjust_room", {}};
  run_both_engines(c);
  run_optimized(c);
}

// ctx_in's gso_size makes the kernel's test-run skb a GSO one whose gso_type is 0 (neither TCP nor
// UDP_L4): bpf_skb_adjust_room refuses it with -ENOTSUPP whether it grows or shrinks, and no longer
// checks growth against BPF_SKB_MAX_LEN.
TEST_CASE("adjust_room: a GSO skb (ctx_in's gso_size) from tc", "[runtime][tc][adjust_room]") {
  DiffCase c{"adjust_room", "adjust_room", {}};
  c.ctx_in = [](std::uint64_t packet) {
    __sk_buff md{};
    md.gso_size = static_cast<std::uint32_t>(packet % 3 == 0 ? 0 : 1 + packet * 37 % 9000);
    md.gso_segs = static_cast<std::uint32_t>(packet % 5);
    md.mark = static_cast<std::uint32_t>(packet);
    return bytes_of(md);
  };
  run_both_engines(c);
  run_optimized(c);
}

TEST_CASE("change_tail: bpf_skb_change_tail from tc, grow/trim, length limits, flags, encapsulated skb",
          "[runtime][tc][change_tail]") {
  const DiffCase c{"change_tail", "change_tail", {}};
  run_both_engines(c);
  run_optimized(c);
}

// With ctx_in's gso_size the skb is GSO: a successful bpf_skb_change_tail resets its GSO state
// (gso_size and gso_segs 0), which the program reads back and bpf_skb_adjust_room then answers to.
TEST_CASE("change_tail: a GSO skb (ctx_in's gso_size) from tc", "[runtime][tc][change_tail]") {
  DiffCase c{"change_tail", "change_tail", {}};
  c.ctx_in = [](std::uint64_t packet) {
    __sk_buff md{};
    md.gso_size = static_cast<std::uint32_t>(packet % 3 == 0 ? 0 : 1 + packet * 53 % 9000);
    md.gso_segs = static_cast<std::uint32_t>(packet % 4);
    return bytes_of(md);
  };
  run_both_engines(c);
  run_optimized(c);
}

TEST_CASE("change_head: bpf_skb_change_head from tc, limits, flags, the network offset it leaves",
          "[runtime][tc][change_head]") {
  const DiffCase c{"change_head", "change_head", {}};
  run_both_engines(c);
  run_optimized(c);
}

// The skb metadata helpers (hash, checksum level, packet type, timestamp, ECN, peer/neighbour
// redirects, bpf_check_mtu on the loopback) and LD_ABS's network offset after bpf_skb_change_head.
TEST_CASE("skb_meta: hash, csum_level, change_type, set_tstamp, ecn_set_ce, redirect_neigh/peer, check_mtu, change_proto",
          "[runtime][tc][skb_meta]") {
  const DiffCase c{"skb_meta", "skb_meta", {}};
  run_both_engines(c);
  run_optimized(c);
  run_both_engines({"skb_meta", "xdp_mtu", {}});
  run_both_engines({"skb_meta", "cgroup_ecn", {}});
}

// A GSO skb (ctx_in's gso_size): bpf_check_mtu passes it whatever its length, and refuses
// BPF_MTU_CHK_SEGS (-EINVAL: the test-run skb has no transport header).
TEST_CASE("skb_meta: a GSO skb (ctx_in's gso_size) from tc", "[runtime][tc][skb_meta]") {
  DiffCase c{"skb_meta", "skb_meta", {}};
  c.ctx_in = [](std::uint64_t packet) {
    __sk_buff md{};
    md.gso_size = static_cast<std::uint32_t>(packet % 3 == 0 ? 0 : 1 + packet * 41 % 9000);
    md.tstamp = packet * 1000003;
    return bytes_of(md);
  };
  run_both_engines(c);
}

// bpf_check_mtu on the host's devices (ifindex 2..9 of this network namespace, those that exist and
// -ENODEV for the others), and on the context's own device: XDP's the loopback, tc's the device ctx_in's
// ifindex names, taken in turn from the devices this namespace has.
TEST_CASE("skb_meta: bpf_check_mtu on the host's devices from tc and XDP", "[runtime][tc][skb_meta]") {
  std::vector<std::uint32_t> devices;
  if (struct if_nameindex* names = ::if_nameindex()) {
    for (const struct if_nameindex* n = names; n->if_index != 0; ++n) devices.push_back(n->if_index);
    if_freenameindex(names);
  }
  REQUIRE(!devices.empty());
  DiffCase c{"skb_meta", "tc_mtu_dev", {}};
  c.ctx_in = [devices](std::uint64_t packet) {
    __sk_buff md{};
    md.ifindex = devices[packet % devices.size()];
    return bytes_of(md);
  };
  run_both_engines(c);
  run_optimized(c);
  run_both_engines({"skb_meta", "xdp_mtu_dev", {}});
}

// bpf_skb_ecn_set_ce on every packet, VLAN-tagged ones too (the protocol read through the tags,
// the header marked at the network header), from tc and from cgroup_skb.
TEST_CASE("skb_meta: bpf_skb_ecn_set_ce on VLAN frames from tc and cgroup_skb", "[runtime][tc][skb_meta]") {
  const DiffCase c{"skb_meta", "tc_ecn_vlan", {}};
  run_both_engines(c);
  run_optimized(c);
  run_both_engines({"skb_meta", "cgroup_ecn_vlan", {}});
}

TEST_CASE("vlan: bpf_skb_vlan_push/pop from tc, the outside tag and tags in the packet", "[runtime][tc][vlan]") {
  const DiffCase c{"vlan", "vlan", {}};
  run_both_engines(c);
  run_optimized(c);
}

TEST_CASE("tunnel: bpf_skb_set/get_tunnel_key and _opt from tc", "[runtime][tc][tunnel]") {
  const DiffCase c{"tunnel", "tunnel", {}};
  run_both_engines(c);
  run_optimized(c);
}

// Packets that end longer than the kernel's data_out buffer (data_in + kTestRunSlackBytes), up to
// BPF_SKB_MAX_LEN (16,064 bytes): the kernel's ENOSPC (retval, full size, the bytes that fit) against
// bpfvm's packet held to the same bound.
TEST_CASE("grow_out: tc packets grown past the test's data_out buffer", "[runtime][tc][change_tail]") {
  run_both_engines({"skb_meta", "grow_out", {}});
}

// The socket helpers answer from the test process itself (its network namespace and cgroup), as the
// kernel's test-run socket belongs to the calling task.
TEST_CASE("skb_socket: socket cookie/uid, netns cookie, skb cgroup ids and classid", "[runtime][tc][skb_socket]") {
  if (!same_netns_as_init()) {
    WARN("not compared: bpf_get_netns_cookie(NULL) names init_net, which this process is not in");
    return;
  }
  for (const char* program : {"skb_socket_filter", "skb_socket_tc", "skb_socket_cgroup"}) {
    const DiffCase c{"skb_socket", program, {}};
    run_both_engines(c);
  }
  run_optimized({"skb_socket", "skb_socket_tc", {}});
}

TEST_CASE("maps_mix: hash, lru_hash, array, percpu, lpm_trie, globals", "[runtime][maps]") {
  run_both_engines({"maps_mix", "maps_mix", add_routes});
}

TEST_CASE("ringbuf: reserve/submit/discard, output, query", "[runtime][ringbuf]") {
  run_both_engines({"ringbuf", "ringbuf_prod", {}});
}

TEST_CASE("dynptr: bpf_dynptr_from_mem over a map value, dynptr read/write/data in and past range", "[runtime][dynptr]") {
  run_both_engines({"dynptr", "dynptr_mem", {}});
}

TEST_CASE("dynptr kfuncs: size, is_null, is_rdonly, adjust, slice, clone on local dynptrs", "[runtime][dynptr][kfunc]") {
  const DiffCase c{"dynptr_kfuncs", "dynptr_kfuncs", {}};
  run_both_engines(c);
  // The optimizing tier calls kfuncs through its helper path too.
  run_optimized(c);
}

TEST_CASE("iter_num: open-coded numeric iterators (bpf_iter_num_new/next/destroy) with ranges from the packet",
          "[runtime][iter][kfunc]") {
  const DiffCase c{"iter_num", "iter_num", {}};
  run_both_engines(c);
  run_optimized(c);
}

TEST_CASE("dynptr_packet: bpf_dynptr_from_skb (tc, socket filter) and bpf_dynptr_from_xdp read, write, slice, clone",
          "[runtime][dynptr][kfunc]") {
  run_both_engines({"dynptr_packet", "dynptr_skb_tc", {}});
  run_both_engines({"dynptr_packet", "dynptr_skb_socket", {}});
  run_both_engines({"dynptr_packet", "dynptr_xdp", {}});
}

TEST_CASE("tail_calls: prog_array chain and fall-through", "[runtime][tailcall]") {
  run_both_engines({"tail_calls", "entry", {}});
}

// One object, its entry program loaded on both engines: the prog_array's slots name each target for
// both engines, so runs of either stay in their own engine and agree (no kernel needed).
TEST_CASE("tail_calls: both engines share one object's prog_array", "[runtime][tailcall]") {
  const Bytes elf = read_file_bytes(runtime_object_path("tail_calls"));
  REQUIRE_FALSE(elf.empty());
  Vm vm;
  auto obj = vm.open_elf(elf, {}, "tail_calls");
  REQUIRE(obj.has_value());
  auto interp = obj->load("entry", ProgramOptions{.engine = Engine::Interpreter});
  REQUIRE(interp.has_value());
  auto jit = obj->load("entry", ProgramOptions{.engine = Engine::Jit});
  REQUIRE(jit.has_value());
  auto interp_again = obj->load("stage1", ProgramOptions{.engine = Engine::Interpreter});  // refills the slots
  REQUIRE(interp_again.has_value());
  for (std::uint64_t i = 0; i < 200; ++i) {
    const Packet pkt = random_packet(kSeed, i);
    auto a = interp->run(RunInput{pkt.bytes, {}, 1, nullptr});
    auto b = jit->run(RunInput{pkt.bytes, {}, 1, nullptr});
    REQUIRE(a.has_value());
    if (!b) FAIL("packet " << i << ": " << b.error().message());
    CHECK(a->retval == b->retval);
    CHECK(a->data_out == b->data_out);
  }
}

// Issue #14 item 8: ctx spilled through r2, filled through r10 (the rewrite follows the verifier's types).
TEST_CASE("verifier_escapes: ctx spilled through another stack pointer", "[runtime][ctx]") {
  run_both_engines({"verifier_escapes", "ctx_spill", {}});
}

// Issue #14 item 9: main -> subprogram -> tail call to main, 33 times: the kernel's count on every
// packet, then exactly 34 runs of main per packet in both engines.
TEST_CASE("verifier_escapes: tail-call chain through a subprogram", "[runtime][tailcall]") {
  run_both_engines({"verifier_escapes", "tail_chain", {}});
  const Bytes elf = read_file_bytes(runtime_object_path("verifier_escapes"));
  REQUIRE_FALSE(elf.empty());
  for (Engine e : {Engine::Interpreter, Engine::Jit}) {
    Vm vm;
    auto obj = vm.open_elf(elf, {}, "verifier_escapes");
    REQUIRE(obj.has_value());
    auto prog = obj->load("tail_chain", ProgramOptions{.engine = e});
    REQUIRE(prog.has_value());
    const Bytes pkt(64, 0);
    auto r = prog->run(RunInput{pkt, {}, 1, nullptr});
    if (!r) FAIL(r.error().message());
    CHECK(r->retval == XDP_PASS);
    auto bss = obj->map(".bss");
    REQUIRE(bss.has_value());
    Bytes key(4, 0), value(8, 0);
    REQUIRE(bss->lookup(key, value) == 0);
    std::uint64_t runs = 0;
    std::memcpy(&runs, value.data(), 8);
    CHECK(runs == 34);
  }
}

// Issue #15 "map_ptr mixed base": one update, lookup and tail call site each reached with the map the
// packet picks (an array or a hash map; one of two prog arrays); maps carry over between packets.
TEST_CASE("map_ptr_merge: helper calls reached with a different map on each path", "[runtime][maps][tailcall]") {
  run_both_engines({"map_ptr_merge", "merged", {}});
  run_optimized({"map_ptr_merge", "merged", {}});
}

TEST_CASE("loop: bpf_loop callback over the packet", "[runtime][loop]") {
  run_both_engines({"loop", "loop_sum", {}});
}

TEST_CASE("spin_lock: counters updated under bpf_spin_lock in hash and array values", "[runtime][spinlock]") {
  run_both_engines({"spin_lock", "spin_lock_count", {}});
}

// ---- host-side map operations ---------------------------------------------------------------------

// The same bpf() map command on both sides: return codes must match; a successful lookup must return
// the same bytes (per-CPU: the same per-CPU slots, since bpfvm has as many slots as possible CPUs).
// get_next_key results are compared only by return code: hash iteration order is not ABI.
class HostOps {
 public:
  HostOps(const KernelObject& k, Object& o, Mismatches& mm) : k_(k), o_(o), mm_(mm) {}

  Bytes value_for(std::string_view map, std::uint8_t fill) {
    const auto* spec = k_.map_spec(map);
    const std::size_t n = is_percpu(spec->type) ? round8(spec->value_size) * possible_cpus() : spec->value_size;
    Bytes v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(fill + i);
    return v;
  }

  void update(std::string_view map, const Bytes& key, const Bytes& value, std::uint64_t flags, int expect) {
    const int krc = map_update(*k_.map(map), key, value, flags);
    const int brc = o_.map(map)->update(key, value, flags);
    check("update", map, key, krc, brc, expect);
  }
  void lookup(std::string_view map, const Bytes& key, int expect) {
    const auto* spec = k_.map_spec(map);
    auto bmap = o_.map(map);
    const std::size_t kn = is_percpu(spec->type) ? round8(spec->value_size) * possible_cpus() : spec->value_size;
    Bytes kv(std::max<std::size_t>(kn, 8)), bv(std::max<std::size_t>(bmap->host_value_size(), 8));
    const int krc = map_lookup(*k_.map(map), key, kv);
    const int brc = bmap->lookup(key, bv);
    check("lookup", map, key, krc, brc, expect);
    kv.resize(kn);
    bv.resize(bmap->host_value_size());
    if (krc == 0 && brc == 0 && kv != bv)
      mm_.add("host lookup " + std::string(map) + " " + hex(key), "value kernel " + hex(kv) + " bpfvm " + hex(bv));
  }
  void erase(std::string_view map, const Bytes& key, int expect) {
    check("delete", map, key, map_delete(*k_.map(map), key), o_.map(map)->erase(key), expect);
  }
  void next_key(std::string_view map, const Bytes& key, int expect) {
    Bytes kn(k_.map_spec(map)->key_size), bn(kn.size());
    check("get_next_key", map, key, map_get_next_key(*k_.map(map), key, kn), o_.map(map)->next_key(key, bn), expect);
  }

 private:
  void check(const char* op, std::string_view map, const Bytes& key, int krc, int brc, int expect) {
    ++ops;
    const std::string where = std::string("host ") + op + " " + std::string(map) + " key " + hex(key);
    if (krc != brc) mm_.add(where, "kernel " + std::to_string(krc) + " bpfvm " + std::to_string(brc));
    else if (krc != expect) mm_.add(where, "both " + std::to_string(krc) + ", the test expects " + std::to_string(expect));
  }

  const KernelObject& k_;
  Object& o_;
  Mismatches& mm_;

 public:
  int ops = 0;
};

TEST_CASE("host-side map operations return the kernel's errnos", "[runtime][maps][errno]") {
  pin_to_current_cpu();
  Mismatches mm;
  for (const char* stem : {"maps_mix", "ringbuf"}) {
    const Bytes elf = read_file_bytes(runtime_object_path(stem));
    loader::LoadOptions lo;
    lo.object_name = stem;
    auto kobj = KernelObject::load_elf(elf, lo);
    if (!kobj) FAIL(kobj.error().message());
    Vm vm(VmOptions{.nr_cpus = possible_cpus()});
    auto obj = vm.open_elf(elf, {}, stem);
    REQUIRE(obj.has_value());
    HostOps h(*kobj, *obj, mm);
    const std::uint64_t kBadFlags = 8;

    if (std::string_view(stem) == "ringbuf") {
      h.lookup("events", {}, -524);  // no key (the map's key_size is 0): -ENOTSUPP from the map
      h.next_key("events", {}, -524);
      std::printf("host ops (ringbuf): %d compared\n", h.ops);
      continue;
    }
    // Hash (64 entries, 12-byte key).
    auto flow = [](std::uint32_t n) {
      Bytes k(12, 0);
      std::memcpy(k.data(), &n, 4);
      k[8] = 17;
      return k;
    };
    h.lookup("flows", flow(1), -ENOENT);
    h.erase("flows", flow(1), -ENOENT);
    h.next_key("flows", {}, -ENOENT);
    h.update("flows", flow(1), h.value_for("flows", 1), BPF_EXIST, -ENOENT);
    h.update("flows", flow(1), h.value_for("flows", 1), BPF_NOEXIST, 0);
    h.update("flows", flow(1), h.value_for("flows", 2), BPF_NOEXIST, -EEXIST);
    h.update("flows", flow(1), h.value_for("flows", 3), BPF_EXIST, 0);
    h.update("flows", flow(1), h.value_for("flows", 3), kBadFlags, -EINVAL);
    h.update("flows", flow(1), h.value_for("flows", 3), BPF_F_LOCK, -EINVAL);
    h.lookup("flows", flow(1), 0);
    h.next_key("flows", flow(99), 0);  // a missing key restarts at the first
    h.next_key("flows", flow(1), -ENOENT);
    for (std::uint32_t n = 2; n <= 64; ++n) h.update("flows", flow(n), h.value_for("flows", 4), BPF_ANY, 0);
    h.update("flows", flow(65), h.value_for("flows", 5), BPF_ANY, -E2BIG);
    h.update("flows", flow(64), h.value_for("flows", 5), BPF_ANY, 0);  // replacing works when full
    h.erase("flows", flow(64), 0);
    h.update("flows", flow(65), h.value_for("flows", 5), BPF_NOEXIST, 0);
    h.lookup("flows", flow(64), -ENOENT);

    // Array (256 entries).
    auto u32 = [](std::uint32_t n) { return bytes_of(n); };
    h.lookup("by_proto", u32(255), 0);
    h.lookup("by_proto", u32(256), -ENOENT);
    h.update("by_proto", u32(256), h.value_for("by_proto", 1), BPF_ANY, -E2BIG);
    h.update("by_proto", u32(3), h.value_for("by_proto", 1), BPF_NOEXIST, -EEXIST);
    h.update("by_proto", u32(3), h.value_for("by_proto", 1), BPF_EXIST, 0);
    h.update("by_proto", u32(3), h.value_for("by_proto", 1), kBadFlags, -EINVAL);
    h.lookup("by_proto", u32(3), 0);
    h.erase("by_proto", u32(3), -EINVAL);
    h.next_key("by_proto", u32(255), -ENOENT);
    h.next_key("by_proto", u32(1000), 0);
    h.next_key("by_proto", {}, 0);

    // LRU hash, per-CPU array, per-CPU hash.
    h.update("lru_src", u32(7), h.value_for("lru_src", 1), BPF_NOEXIST, 0);
    h.update("lru_src", u32(7), h.value_for("lru_src", 1), BPF_NOEXIST, -EEXIST);
    h.update("lru_src", u32(8), h.value_for("lru_src", 1), BPF_EXIST, -ENOENT);
    h.lookup("lru_src", u32(7), 0);
    h.erase("lru_src", u32(7), 0);
    h.erase("lru_src", u32(7), -ENOENT);
    h.update("pcpu_len", u32(1), h.value_for("pcpu_len", 9), BPF_ANY, 0);
    h.lookup("pcpu_len", u32(1), 0);
    h.update("pcpu_len", u32(4), h.value_for("pcpu_len", 9), BPF_ANY, -E2BIG);
    h.update("pcpu_len", u32(1), h.value_for("pcpu_len", 9), BPF_NOEXIST, -EEXIST);
    h.erase("pcpu_len", u32(1), -EINVAL);
    const Bytes et = {0x08, 0x00};
    h.update("pcpu_ethertype", et, h.value_for("pcpu_ethertype", 3), BPF_NOEXIST, 0);
    h.lookup("pcpu_ethertype", et, 0);
    h.update("pcpu_ethertype", et, h.value_for("pcpu_ethertype", 4), BPF_NOEXIST, -EEXIST);
    h.erase("pcpu_ethertype", et, 0);

    // LPM trie: prefix lengths, longest match, delete of a missing prefix, iteration.
    h.update("routes", lpm_key(33, 0x0a000000), h.value_for("routes", 1), BPF_ANY, -EINVAL);
    h.update("routes", lpm_key(8, 0x0a000000), h.value_for("routes", 1), BPF_ANY, 0);
    h.update("routes", lpm_key(24, 0x0a000100), h.value_for("routes", 2), BPF_NOEXIST, 0);
    h.update("routes", lpm_key(24, 0x0a000100), h.value_for("routes", 2), BPF_NOEXIST, -EEXIST);
    h.update("routes", lpm_key(16, 0x0a000000), h.value_for("routes", 2), BPF_EXIST, -ENOENT);
    h.lookup("routes", lpm_key(32, 0x0a000105), 0);
    h.lookup("routes", lpm_key(32, 0x0b000105), -ENOENT);
    h.lookup("routes", lpm_key(33, 0x0a000105), -ENOENT);
    h.erase("routes", lpm_key(16, 0x0a000000), -ENOENT);
    h.next_key("routes", {}, 0);
    h.next_key("routes", lpm_key(24, 0x0a000100), 0);
    h.next_key("routes", lpm_key(8, 0x0a000000), -ENOENT);
    h.erase("routes", lpm_key(8, 0x0a000000), 0);

    // Global data: .rodata is frozen (host writes refused), .bss is not.
    h.update(".rodata", u32(0), h.value_for(".rodata", 0), BPF_ANY, -EPERM);
    h.lookup(".rodata", u32(0), 0);
    h.update(".bss", u32(0), h.value_for(".bss", 0), BPF_ANY, 0);
    h.update(".bss", u32(1), h.value_for(".bss", 0), BPF_ANY, -E2BIG);
    std::printf("host ops (maps_mix): %d compared\n", h.ops);
  }
  CHECK(mm.lines.empty());
}

// A key passed for a map whose key_size is 0 (ring buffer) is refused by the syscall layer with -EINVAL
// before the map sees it (kernel/bpf/syscall.c __bpf_copy_key); so does bpfvm's Map API (key_ok).
TEST_CASE("host-side ring buffer operations with a key", "[runtime][maps][errno]") {
  Mismatches mm;
  const Bytes elf = read_file_bytes(runtime_object_path("ringbuf"));
  auto kobj = KernelObject::load_elf(elf);
  if (!kobj) FAIL(kobj.error().message());
  Vm vm(VmOptions{.nr_cpus = possible_cpus()});
  auto obj = vm.open_elf(elf, {}, "ringbuf");
  REQUIRE(obj.has_value());
  HostOps h(*kobj, *obj, mm);
  const Bytes key4(4, 0);
  h.lookup("events", key4, -EINVAL);
  h.next_key("events", key4, -EINVAL);
  h.erase("events", key4, -EINVAL);
  CHECK(mm.lines.empty());
}

// sk_msg through bpfvm's run (the kernel has no BPF_PROG_TEST_RUN for sk_msg): bpf_msg_redirect_map/hash
// on sockets of this process put in a SOCKMAP/SOCKHASH by the default resolver. A connected TCP socket
// takes either direction, a listening one none (sock_map_redirect_allowed), a connected AF_UNIX datagram
// socket ingress only; a flag other than BPF_F_INGRESS or an empty slot drops. No kernel needed.
TEST_CASE("sk_msg_redirect: msg_redirect_map/hash against sockets in a sockmap/sockhash", "[runtime][sk_msg]") {
  const Bytes elf = read_file_bytes(runtime_object_path("sk_msg_redirect"));
  REQUIRE_FALSE(elf.empty());
  Vm vm;
  auto obj = vm.open_elf(elf, {}, "sk_msg_redirect");
  REQUIRE(obj.has_value());
  sockaddr_in lo{};
  lo.sin_family = AF_INET;
  lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof lo;
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0), client = ::socket(AF_INET, SOCK_STREAM, 0);
  int dgram[2] = {-1, -1};
  REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram) == 0);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&lo), sizeof lo) == 0);
  REQUIRE(::listen(listener, 1) == 0);
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&lo), &len) == 0);
  REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&lo), sizeof lo) == 0);
  const int accepted = ::accept(listener, nullptr, nullptr);
  auto sock_map = obj->map("sock_map");
  auto sock_hash = obj->map("sock_hash");
  REQUIRE((sock_map && sock_hash));
  CHECK(sock_map->update(bytes_of(std::uint32_t{0}), bytes_of(std::uint64_t(client))) == 0);
  CHECK(sock_map->update(bytes_of(std::uint32_t{1}), bytes_of(std::uint64_t(listener))) == 0);
  CHECK(sock_map->update(bytes_of(std::uint32_t{2}), bytes_of(std::uint64_t(dgram[0]))) == 0);
  CHECK(sock_map->update(bytes_of(std::uint32_t{3}), bytes_of(std::uint64_t(STDIN_FILENO))) != 0);
  std::uint64_t cookie = 0, stored = 0;
  socklen_t cookie_len = sizeof cookie;
  REQUIRE(::getsockopt(client, SOL_SOCKET, SO_COOKIE, &cookie, &cookie_len) == 0);
  CHECK(sock_map->lookup(bytes_of(std::uint32_t{0}), {reinterpret_cast<std::uint8_t*>(&stored), 8}) == 0);
  CHECK(stored == cookie);
  auto prog = obj->load("redirect", {});
  REQUIRE(prog.has_value());
  auto run = [&](std::uint32_t key, std::uint32_t flags, bool hash) {
    sk_msg_md md{};
    md.remote_ip4 = key;
    md.local_port = flags;
    md.remote_port = hash ? 1 : 0;
    const Bytes message{'m'};
    auto out = prog->run(RunInput{message, bytes_of(md), 1, nullptr});
    REQUIRE(out.has_value());
    return *out;
  };
  const RunOutput egress = run(0, 0, false);
  CHECK(egress.retval == SK_PASS);
  REQUIRE(egress.redirect_map.has_value());
  CHECK((egress.redirect_map->map == "sock_map" && egress.redirect_map->map_type == 15 && egress.redirect_map->key == 0));
  CHECK(run(0, BPF_F_INGRESS, false).retval == SK_PASS);
  CHECK(run(0, 2, false).retval == SK_DROP);           // unknown flag
  CHECK(run(1, BPF_F_INGRESS, false).retval == SK_DROP);  // listening socket
  CHECK(run(2, 0, false).retval == SK_DROP);           // egress to a socket that is not TCP
  CHECK(run(2, BPF_F_INGRESS, false).retval == SK_PASS);
  const RunOutput empty = run(3, 0, false);
  CHECK(empty.retval == SK_DROP);
  CHECK_FALSE(empty.redirect_map.has_value());
  CHECK(run(7, 0, true).retval == SK_DROP);
  CHECK(sock_hash->update(bytes_of(std::uint32_t{7}), bytes_of(std::uint64_t(accepted))) == 0);
  const RunOutput hashed = run(7, 0, true);
  CHECK(hashed.retval == SK_PASS);
  REQUIRE(hashed.redirect_map.has_value());
  CHECK(hashed.redirect_map->map == "sock_hash");
  for (const int fd : {listener, client, accepted, dgram[0], dgram[1]}) ::close(fd);
}

TEST_CASE("flow_dissector: random packets, BPF_PROG_TEST_RUN's flow keys out", "[runtime][flow_dissector]") {
  run_both_engines({"flow_dissector", "dissect", {}});
}

// Frames the random packets rarely or never give: VLAN and QinQ tags in front of IPv4/IPv6, IPv4
// options and fragments, headers cut short behind the tags, and each with the three flags a caller may
// pass in ctx_in (struct bpf_flow_keys with only `flags` set; anything else is EINVAL on both sides).
Bytes flow_frame(std::initializer_list<std::uint16_t> tags, std::uint16_t proto, std::size_t l3_bytes,
                 std::uint8_t ip_proto, std::uint16_t frag_off, std::uint8_t ihl = 5) {
  Bytes f = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  auto be16 = [&f](std::uint16_t v) {
    f.push_back(static_cast<std::uint8_t>(v >> 8));
    f.push_back(static_cast<std::uint8_t>(v));
  };
  std::uint16_t outer = proto;
  if (tags.size() > 0) outer = *tags.begin();
  be16(outer);
  for (auto it = tags.begin(); it != tags.end(); ++it) {
    be16(0x0064);  // TCI: VLAN 100
    be16(std::next(it) == tags.end() ? proto : *std::next(it));
  }
  const std::size_t l3 = f.size();
  for (std::size_t i = 0; i < l3_bytes; ++i) f.push_back(static_cast<std::uint8_t>(0x30 + i * 7));
  if (proto == 0x0800 && l3_bytes >= 20) {
    f[l3] = static_cast<std::uint8_t>(0x40 | ihl);
    f[l3 + 6] = static_cast<std::uint8_t>(frag_off >> 8);
    f[l3 + 7] = static_cast<std::uint8_t>(frag_off);
    f[l3 + 9] = ip_proto;
  } else if (proto == 0x86dd && l3_bytes >= 40) {
    f[l3] = 0x60;
    f[l3 + 6] = ip_proto;
  }
  return f;
}

TEST_CASE("flow_dissector: VLAN, QinQ, options, fragments, short headers, flags", "[runtime][flow_dissector]") {
  const Bytes elf = read_file_bytes(runtime_object_path("flow_dissector"));
  REQUIRE_FALSE(elf.empty());
  loader::LoadOptions lo;
  lo.object_name = "flow_dissector";
  std::string klog;
  auto kobj = KernelObject::load_elf(elf, lo, &klog);
  if (!kobj) FAIL("loader or kernel refused: " << kobj.error().message() << "\n" << klog);
  const Fd* kprog = kobj->program("dissect");
  REQUIRE(kprog != nullptr);
  Vm vm;
  auto obj = vm.open_elf(elf, {}, "flow_dissector");
  REQUIRE(obj.has_value());
  auto prog = obj->load("dissect", {});
  REQUIRE(prog.has_value());
  const std::vector<std::pair<const char*, Bytes>> frames = {
      {"IPv4 TCP", flow_frame({}, 0x0800, 40, IPPROTO_TCP, 0)},
      {"VLAN IPv4 UDP", flow_frame({0x8100}, 0x0800, 28, IPPROTO_UDP, 0)},
      {"QinQ IPv6 TCP", flow_frame({0x88a8, 0x8100}, 0x86dd, 60, IPPROTO_TCP, 0)},
      {"three tags", flow_frame({0x8100, 0x8100, 0x8100}, 0x0800, 40, IPPROTO_TCP, 0)},
      {"IPv4 options", flow_frame({}, 0x0800, 60, IPPROTO_UDP, 0, 8)},
      {"IPv4 ihl 4", flow_frame({}, 0x0800, 40, IPPROTO_TCP, 0, 4)},
      {"IPv4 first fragment", flow_frame({}, 0x0800, 40, IPPROTO_UDP, 0x2000)},
      {"IPv4 later fragment", flow_frame({}, 0x0800, 40, IPPROTO_UDP, 0x0010)},
      {"VLAN, IPv4 cut short", flow_frame({0x8100}, 0x0800, 12, IPPROTO_TCP, 0)},
      {"IPv6 cut short", flow_frame({}, 0x86dd, 30, IPPROTO_TCP, 0)},
      {"IPv4, ports cut short", flow_frame({}, 0x0800, 22, IPPROTO_TCP, 0)},
      {"ARP", flow_frame({}, 0x0806, 28, 0, 0)},
      {"Ethernet only", flow_frame({}, 0x0800, 0, 0, 0)},
      {"13 bytes", Bytes(13, 0)},
  };
  std::size_t ran = 0;
  for (const std::uint32_t flags : {0u, 1u, 2u, 4u, 7u}) {
    for (const auto& [name, frame] : frames) {
      INFO(name << ", flags " << flags);
      bpf_flow_keys keys_in{};
      keys_in.flags = flags;
      const Bytes ctx = flags ? bytes_of(keys_in) : Bytes{};
      auto k = test_run_bounded(*kprog, frame, 1, ctx);
      auto b = prog->run(RunInput{frame, ctx, 1, nullptr});
      INFO("kernel " << (k ? "ran" : k.error().reason) << ", bpfvm " << (b ? "ran" : b.error().reason));
      REQUIRE(k.has_value() == b.has_value());
      if (!k) {
        CHECK(kernel_errno_name(k.error().reason) == bpfvm_errno_name(b.error()));
        continue;
      }
      ++ran;
      CHECK(k->retval == b->retval);
      INFO("kernel keys " << hex(k->data_out) << "\nbpfvm keys  " << hex(b->data_out));
      CHECK(k->data_out == b->data_out);
    }
  }
  CHECK(ran >= 60);
  // ctx_in with any field but flags set: EINVAL on both sides.
  bpf_flow_keys bad{};
  bad.nhoff = 14;
  auto k = test_run(*kprog, frames[0].second, 1, bytes_of(bad));
  auto b = prog->run(RunInput{frames[0].second, bytes_of(bad), 1, nullptr});
  REQUIRE_FALSE(k.has_value());
  REQUIRE_FALSE(b.has_value());
  CHECK(kernel_errno_name(k.error().reason) == bpfvm_errno_name(b.error()));
  // The globals: per-outcome counts and bpf_skb_load_bytes' answer (no skb behind a test run: -EFAULT).
  Mismatches mm;
  compare_maps(*kobj, *obj, "flow_dissector after the crafted frames", mm);
  CHECK(mm.lines.empty());
}

// BPF_PROG_TEST_RUN of an sk_lookup program: no packet, ctx_in and ctx_out a struct bpf_sk_lookup.
Result<std::pair<std::uint32_t, Bytes>> kernel_sk_lookup_run(const Fd& prog, const Bytes& ctx_in, const Bytes& data_in,
                                                             std::uint32_t repeat) {
  Bytes ctx_out(sizeof(bpf_sk_lookup) + 8);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = static_cast<std::uint32_t>(prog.get());
  attr.test.repeat = repeat;
  if (!data_in.empty()) {
    attr.test.data_in = reinterpret_cast<std::uintptr_t>(data_in.data());
    attr.test.data_size_in = static_cast<std::uint32_t>(data_in.size());
  }
  if (!ctx_in.empty()) {
    attr.test.ctx_in = reinterpret_cast<std::uintptr_t>(ctx_in.data());
    attr.test.ctx_size_in = static_cast<std::uint32_t>(ctx_in.size());
  }
  attr.test.ctx_out = reinterpret_cast<std::uintptr_t>(ctx_out.data());
  attr.test.ctx_size_out = static_cast<std::uint32_t>(ctx_out.size());
  if (kernel_bpf(BPF_PROG_TEST_RUN, attr) < 0) return make_error(Errc::Io, "bpf(BPF_PROG_TEST_RUN): " + errno_text(errno));
  ctx_out.resize(std::min<std::size_t>(attr.test.ctx_size_out, ctx_out.size()));
  return std::make_pair(attr.test.retval, ctx_out);
}

bpf_sk_lookup lookup_ctx(std::uint32_t family, std::uint32_t protocol, std::uint16_t remote_port, std::uint32_t local_port) {
  bpf_sk_lookup c{};
  c.family = family;
  c.protocol = protocol;
  c.remote_ip4 = htonl(0x0a000001);
  c.local_ip4 = htonl(0xc0a80102);
  for (std::uint32_t i = 0; i < 4; ++i) {
    c.remote_ip6[i] = htonl(0x20010db8 + i * 0x01010101);
    c.local_ip6[i] = htonl(0xfe800000 + i * 0x00110011);
  }
  c.remote_port = htons(remote_port);
  c.local_port = local_port;
  return c;
}

TEST_CASE("sk_lookup: struct bpf_sk_lookup fields, bpf_sk_assign(NULL), verdicts and ctx_in errnos as BPF_PROG_TEST_RUN",
          "[runtime][sk_lookup]") {
  const Bytes elf = read_file_bytes(runtime_object_path("sk_lookup"));
  REQUIRE_FALSE(elf.empty());
  loader::LoadOptions lo;
  lo.object_name = "sk_lookup";
  auto lobj = loader::load_object(elf, lo);
  REQUIRE(lobj.has_value());
  struct Case {
    const char* name;
    Bytes ctx;
    Bytes data;
    std::uint32_t repeat;
  };
  std::vector<Case> cases = {
      {"IPv4 TCP", bytes_of(lookup_ctx(AF_INET, IPPROTO_TCP, 40000, 80)), {}, 1},
      {"IPv4 TCP to 7777", bytes_of(lookup_ctx(AF_INET, IPPROTO_TCP, 40000, 7777)), {}, 1},
      {"IPv4 UDP from 53", bytes_of(lookup_ctx(AF_INET, IPPROTO_UDP, 53, 5353)), {}, 3},
      {"IPv6 TCP", bytes_of(lookup_ctx(AF_INET6, IPPROTO_TCP, 443, 65535)), {}, 1},
      {"IPv6 UDP from 53", bytes_of(lookup_ctx(AF_INET6, IPPROTO_UDP, 53, 0)), {}, 2},
      {"family and protocol above 16 bits", bytes_of(lookup_ctx(0x10000 | AF_INET, 0x20000 | IPPROTO_TCP, 1, 2)), {}, 1},
      {"local_port 65536", bytes_of(lookup_ctx(AF_INET, IPPROTO_TCP, 1, 65536)), {}, 1},
      {"family AF_UNIX", bytes_of(lookup_ctx(AF_UNIX, IPPROTO_TCP, 1, 2)), {}, 1},
      {"family 0", bytes_of(lookup_ctx(0, IPPROTO_TCP, 1, 2)), {}, 1},
      {"no ctx_in", {}, {}, 1},
      {"data_in", bytes_of(lookup_ctx(AF_INET, IPPROTO_TCP, 1, 2)), Bytes(64, 0), 1},
  };
  {
    Bytes c = bytes_of(lookup_ctx(AF_INET, IPPROTO_TCP, 8080, 22));
    c[offsetof(bpf_sk_lookup, remote_port) + 2] = 0xab;  // the padding after remote_port
    c[offsetof(bpf_sk_lookup, remote_port) + 3] = 0xcd;
    cases.push_back({"padding bytes set", c, {}, 1});
    Bytes sk = bytes_of(lookup_ctx(AF_INET, IPPROTO_TCP, 1, 2));
    sk[0] = 1;
    cases.push_back({"sk set", sk, {}, 1});
    Bytes ifindex = bytes_of(lookup_ctx(AF_INET, IPPROTO_TCP, 1, 2));
    ifindex[offsetof(bpf_sk_lookup, ingress_ifindex)] = 1;
    cases.push_back({"ingress_ifindex set", ifindex, {}, 1});
    Bytes tail_pad = bytes_of(lookup_ctx(AF_INET, IPPROTO_TCP, 1, 2));
    tail_pad[sizeof(bpf_sk_lookup) - 1] = 1;
    cases.push_back({"tail padding set", tail_pad, {}, 1});
    Bytes longer = bytes_of(lookup_ctx(AF_INET6, IPPROTO_UDP, 53, 53));
    longer.resize(longer.size() + 16, 0);
    cases.push_back({"longer ctx_in, zero tail", longer, {}, 1});
    longer.back() = 1;
    cases.push_back({"longer ctx_in, non-zero tail", longer, {}, 1});
    Bytes shorter = bytes_of(lookup_ctx(AF_INET, IPPROTO_UDP, 53, 53));
    shorter.resize(offsetof(bpf_sk_lookup, local_ip4));
    cases.push_back({"ctx_in up to remote_port", shorter, {}, 1});
  }
  std::size_t ran = 0, refused = 0;
  for (const Engine engine : {Engine::Interpreter, Engine::Jit, Engine::JitOptimized}) {
    std::string klog;
    auto kobj = KernelObject::load(*lobj, &klog);
    if (!kobj) FAIL("kernel refused: " << kobj.error().reason << "\n" << klog);
    const Fd* kprog = kobj->program("lookup");
    REQUIRE(kprog != nullptr);
    Vm vm;
    auto obj = vm.open_elf(elf, {}, "sk_lookup");
    REQUIRE(obj.has_value());
    auto prog = obj->load("lookup", ProgramOptions{.engine = engine});
    REQUIRE(prog.has_value());
    for (const auto& c : cases) {
      INFO(c.name << " [engine " << static_cast<int>(engine) << "]");
      auto k = kernel_sk_lookup_run(*kprog, c.ctx, c.data, c.repeat);
      auto b = prog->run(RunInput{c.data, c.ctx, c.repeat, nullptr});
      INFO("kernel " << (k ? "ran" : k.error().reason) << ", bpfvm " << (b ? "ran" : b.error().reason));
      REQUIRE(k.has_value() == b.has_value());
      if (!k) {
        ++refused;
        CHECK(kernel_errno_name(k.error().reason) == bpfvm_errno_name(b.error()));
        continue;
      }
      ++ran;
      CHECK(k->first == b->retval);
      INFO("kernel ctx_out " << hex(k->second) << "\nbpfvm ctx_out  " << hex(b->ctx_out));
      CHECK(k->second == b->ctx_out);
      Mismatches mm;
      compare_maps(*kobj, *obj, std::string("sk_lookup after ") + c.name, mm);
      for (const auto& line : mm.lines) INFO(line);
      CHECK(mm.lines.empty());
    }
  }
  CHECK(ran >= 3 * 8);
  CHECK(refused >= 3 * 6);
}

}  // namespace
}  // namespace bpfvm::testing
