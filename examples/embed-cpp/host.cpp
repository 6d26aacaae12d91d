// Embedding bpfvm from C++: register a host helper, load an XDP program from an object file, run it
// on a few packets (one reused RunOutput: the per-event hot path), read its map with the typed map
// API. Usage: embed_cpp flow_hash.bpf.o [jit]
#include <bpfvm/bpfvm.hpp>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string_view>

namespace {

constexpr std::uint32_t kBuckets = 8;

// Helper 0x10000: hash(value, seed), FNV-1a over value's 8 bytes. Counts its calls through the
// `user` pointer it was registered with.
std::uint64_t host_hash(std::uint64_t value, std::uint64_t seed, std::uint64_t, std::uint64_t, std::uint64_t,
                        bpfvm::HelperCall* call) {
  ++*static_cast<unsigned long*>(bpfvm::helper_user_data(call));
  std::uint64_t h = 0xcbf29ce484222325ull ^ seed;
  for (int i = 0; i < 8; ++i) {
    h ^= (value >> (8 * i)) & 0xff;
    h *= 0x100000001b3ull;
  }
  return h;
}

// Ethernet + IPv4 header from 10.0.0.<src>; ethertype ARP when `arp`.
std::array<std::uint8_t, 34> make_packet(std::uint8_t src, bool arp) {
  std::array<std::uint8_t, 34> p{};
  p[12] = 0x08;
  p[13] = arp ? 0x06 : 0x00;
  p[14] = 0x45;  // IPv4, 20-byte header
  p[23] = 17;    // UDP
  p[26] = 10, p[29] = src;  // saddr 10.0.0.src
  p[30] = 10, p[33] = 1;    // daddr 10.0.0.1
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s flow_hash.bpf.o [jit]\n", argv[0]);
    return 2;
  }
  bpfvm::Vm vm;

  // The verifier checks each call against this signature: two scalars in, a scalar out.
  unsigned long calls = 0;
  bpfvm::HelperSignature sig;
  sig.known = true;
  sig.args = {bpfvm::ArgType::Anything, bpfvm::ArgType::Anything, bpfvm::ArgType::DontCare,
              bpfvm::ArgType::DontCare, bpfvm::ArgType::DontCare};
  vm.add_helper(bpfvm::HostHelper{0x10000, "host_hash", &host_hash, &calls, sig});

  auto obj = vm.open_elf_file(argv[1]);
  if (!obj) {
    std::fprintf(stderr, "%s: %s\n", argv[1], obj.error().message().c_str());
    return 1;
  }
  const auto name = obj->programs().at(0).name;
  bpfvm::ProgramOptions options;
  if (argc > 2 && std::string_view(argv[2]) == "jit") options.engine = bpfvm::Engine::Jit;
  auto prog = obj->load(name, options);
  if (!prog) {
    std::fprintf(stderr, "%s: %s (%s)\n", name.c_str(), prog.error().message().c_str(),
                 bpfvm::errc_name(prog.error().code));
    return 1;
  }

  // 12 IPv4 packets from 6 sources, one ARP frame, one runt.
  // A Runner per program and thread, kept for every event: it holds the run's context and output
  // buffers, so a call copies the packet in, runs and returns r0 without allocating.
  constexpr const char* kVerdicts[] = {"ABORTED", "DROP", "PASS", "TX", "REDIRECT"};
  bpfvm::Runner runner = prog->runner();
  for (int i = 0; i < 14; ++i) {
    const auto packet = make_packet(static_cast<std::uint8_t>(2 + i % 6), i == 12);
    const auto data = std::span<const std::uint8_t>(packet).first(i == 13 ? 20 : packet.size());
    auto verdict = runner.run(data);  // r0; runner.output() has the packet after the run
    if (!verdict) {
      std::fprintf(stderr, "run: %s\n", verdict.error().message().c_str());
      return 1;
    }
    std::printf("packet %2d: %s\n", i, *verdict < 5 ? kVerdicts[*verdict] : "?");
  }

  auto buckets = obj->map("buckets");
  if (!buckets) {
    std::fprintf(stderr, "no map 'buckets'\n");
    return 1;
  }
  // Typed map calls return Result; a kernel errno is the error's sys_errno (Errc::Errno).
  std::uint64_t total = 0;
  auto walked = buckets->for_each<std::uint32_t, std::uint64_t>([&](const std::uint32_t& key, const std::uint64_t& count) {
    std::printf("bucket %u: %llu\n", key, static_cast<unsigned long long>(count));
    total += count;
  });
  if (!walked) {
    std::fprintf(stderr, "walk: %s\n", walked.error().message().c_str());
    return 1;
  }
  if (auto b0 = buckets->get<std::uint64_t>(std::uint32_t{0})) std::printf("bucket 0 again: %llu\n", static_cast<unsigned long long>(*b0));
  auto missing = buckets->get<std::uint64_t>(std::uint32_t{kBuckets});  // past the array: ENOENT
  auto erased = buckets->erase(std::uint32_t{0});                        // arrays cannot delete: EINVAL
  std::printf("lookup of key %u: %s; delete: %s\n", kBuckets, missing ? "found" : missing.error().reason.c_str(),
              erased ? "deleted" : erased.error().reason.c_str());
  if (missing || missing.error().sys_errno != ENOENT || erased || erased.error().sys_errno != EINVAL) return 1;
  // Batches: every bucket in one call (the cursor says when the walk is done).
  std::array<std::uint32_t, kBuckets> keys{};
  std::array<std::uint64_t, kBuckets> counts{};
  bpfvm::MapBatchCursor cursor;
  std::uint64_t batch_total = 0;
  while (!cursor.done()) {
    auto n = buckets->lookup_batch(cursor, std::span(keys), std::span(counts));
    if (!n) {
      std::fprintf(stderr, "batch: %s\n", n.error().message().c_str());
      return 1;
    }
    for (std::size_t i = 0; i < *n; ++i) batch_total += counts[i];
  }
  std::printf("batch lookup total %llu\n", static_cast<unsigned long long>(batch_total));
  if (batch_total != total) return 1;
  std::printf("total %llu, host_hash calls %lu\n", static_cast<unsigned long long>(total), calls);
  return total == 12 && calls == 12 ? 0 : 1;
}
