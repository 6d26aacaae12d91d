// Embedding bpfvm from C++: register a host helper, load an XDP program from an object file, run it
// on a few packets, read its map. Usage: embed_cpp flow_hash.bpf.o [jit]
#include <bpfvm/bpfvm.hpp>

#include <array>
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
  constexpr const char* kVerdicts[] = {"ABORTED", "DROP", "PASS", "TX", "REDIRECT"};
  for (int i = 0; i < 14; ++i) {
    const auto packet = make_packet(static_cast<std::uint8_t>(2 + i % 6), i == 12);
    const auto data = std::span<const std::uint8_t>(packet).first(i == 13 ? 20 : packet.size());
    auto out = prog->run(bpfvm::RunInput{.data = data});
    if (!out) {
      std::fprintf(stderr, "run: %s\n", out.error().message().c_str());
      return 1;
    }
    std::printf("packet %2d: %s\n", i, out->retval < 5 ? kVerdicts[out->retval] : "?");
  }

  auto buckets = obj->map("buckets");
  if (!buckets) {
    std::fprintf(stderr, "no map 'buckets'\n");
    return 1;
  }
  std::uint64_t total = 0;
  for (std::uint32_t key = 0; key < kBuckets; ++key) {
    std::uint64_t count = 0;
    if (buckets->lookup(key, count) == 0) {  // 0 or a kernel errno, as bpf_map_lookup_elem
      std::printf("bucket %u: %llu\n", key, static_cast<unsigned long long>(count));
      total += count;
    }
  }
  std::printf("total %llu, host_hash calls %lu\n", static_cast<unsigned long long>(total), calls);
  return total == 12 && calls == 12 ? 0 : 1;
}
