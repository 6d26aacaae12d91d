// random_packet(): splitmix64-driven frame builder (no std:: distributions, so packets are the same on
// every standard library).
#include "tests/runtime/packet_gen.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace bpfvm::testing {

namespace {

class SplitMix {
 public:
  explicit SplitMix(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
  std::uint8_t byte() { return static_cast<std::uint8_t>(next()); }

 private:
  std::uint64_t state_;
};

void put16(std::vector<std::uint8_t>& p, std::size_t off, std::uint16_t v) {
  p[off] = static_cast<std::uint8_t>(v >> 8);
  p[off + 1] = static_cast<std::uint8_t>(v);
}

void put32(std::vector<std::uint8_t>& p, std::size_t off, std::uint32_t v) {
  put16(p, off, static_cast<std::uint16_t>(v >> 16));
  put16(p, off + 2, static_cast<std::uint16_t>(v));
}

// RFC 1071 one's-complement sum over [off, off + len).
std::uint16_t inet_csum(const std::vector<std::uint8_t>& p, std::size_t off, std::size_t len) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += (p[off + i] << 8) | p[off + i + 1];
  if (len & 1) sum += p[off + len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::uint32_t pool_ipv4(SplitMix& r) {
  // 10.0.0.0/24 (routes), 10.1.x.0/16, 192.168.1.x and a few random ones.
  switch (r.below(4)) {
    case 0: return 0x0a000000u | r.below(8);
    case 1: return 0x0a010000u | (r.below(4) << 8) | r.below(3);
    case 2: return 0xc0a80100u | r.below(6);
    default: return static_cast<std::uint32_t>(r.next() | 1);
  }
}

constexpr std::size_t kEth = 14, kIpv6 = 40, kTcp = 20;
constexpr std::array<std::uint8_t, 6> kProtos = {17, 6, 17, 6, 1, 47};

}  // namespace

Packet random_packet(std::uint64_t seed, std::uint64_t index) {
  SplitMix r(seed ^ (index * 0xd1342543de82ef95ull) ^ 0x7061636b6574ull);
  r.next();
  Packet out;
  // Size: mostly small (header paths), sometimes up to 1500.
  std::size_t size;
  switch (r.below(4)) {
    case 0: size = kEth + r.below(80); break;
    case 1: size = 60 + r.below(200); break;
    case 2: size = 64 + r.below(1437); break;
    default: size = 1400 + r.below(101); break;
  }
  size = std::clamp<std::size_t>(size, kEth, 1500);
  auto& p = out.bytes;
  p.resize(size);
  for (auto& b : p) b = r.byte();
  for (std::size_t i = 0; i < 6; ++i) p[i] = static_cast<std::uint8_t>(0x02 + i * r.below(2));

  const std::uint32_t family = r.below(10);
  std::vector<std::uint8_t> full;  // headers are built at full length, then cut to `size`
  full.assign(p.begin(), p.end());
  if (full.size() < kEth + kIpv6 + kTcp) full.resize(kEth + kIpv6 + kTcp, 0);
  char kind[48];
  if (family < 6) {  // IPv4
    put16(full, 12, 0x0800);
    const std::uint8_t proto = family < 5 ? kProtos[r.below(kProtos.size())] : r.byte();
    const bool options = r.below(12) == 0;
    const std::size_t ihl = options ? 6 : 5;
    full[kEth] = static_cast<std::uint8_t>(0x40 | ihl);
    full[kEth + 1] = r.byte() & 0xfc;
    put16(full, kEth + 2, static_cast<std::uint16_t>(std::max<std::size_t>(size, kEth) - kEth));
    put16(full, kEth + 6, r.below(2) ? 0x4000 : 0);
    full[kEth + 8] = static_cast<std::uint8_t>(r.below(8) == 0 ? r.below(3) : 1 + r.below(255));
    full[kEth + 9] = proto;
    put16(full, kEth + 10, 0);
    put32(full, kEth + 12, pool_ipv4(r));
    put32(full, kEth + 16, pool_ipv4(r));
    put16(full, kEth + 10, inet_csum(full, kEth, ihl * 4));
    const std::size_t l4 = kEth + ihl * 4;
    if (proto == 17 || proto == 6) {
      put16(full, l4, static_cast<std::uint16_t>(1024 + r.below(64)));
      put16(full, l4 + 2, static_cast<std::uint16_t>(r.below(3) ? r.below(16) : r.next()));
      if (proto == 17) put16(full, l4 + 4, static_cast<std::uint16_t>(size > l4 ? size - l4 : 0));
    }
    std::snprintf(kind, sizeof kind, "ipv4%s/%u", options ? "+opt" : "", proto);
  } else if (family < 9) {  // IPv6
    put16(full, 12, 0x86dd);
    const std::uint8_t proto = family < 8 ? (r.below(2) ? 17 : 6) : 58;
    full[kEth] = 0x60;
    put16(full, kEth + 4, static_cast<std::uint16_t>(size > kEth + kIpv6 ? size - kEth - kIpv6 : 0));
    full[kEth + 6] = proto;
    full[kEth + 7] = static_cast<std::uint8_t>(r.below(8) == 0 ? r.below(3) : 1 + r.below(255));
    for (std::size_t i = 0; i < 32; i += 4) put32(full, kEth + 8 + i, i % 16 == 0 ? 0x20010db8u : pool_ipv4(r));
    const std::size_t l4 = kEth + kIpv6;
    put16(full, l4, static_cast<std::uint16_t>(1024 + r.below(64)));
    put16(full, l4 + 2, static_cast<std::uint16_t>(r.below(16)));
    std::snprintf(kind, sizeof kind, "ipv6/%u", proto);
  } else {  // another EtherType (ARP, VLAN, random)
    const std::uint16_t types[] = {0x0806, 0x8100, 0x88b5, static_cast<std::uint16_t>(r.next())};
    const std::uint16_t et = types[r.below(4)];
    put16(full, 12, et);
    std::snprintf(kind, sizeof kind, "eth/0x%04x", et);
  }
  std::copy(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(size), p.begin());
  out.kind = std::string(kind) + " len " + std::to_string(size);
  return out;
}

std::string hex_window(const std::vector<std::uint8_t>& bytes, std::size_t offset, std::size_t max_bytes) {
  std::string out;
  char buf[4];
  for (std::size_t i = offset; i < bytes.size() && i < offset + max_bytes; ++i) {
    std::snprintf(buf, sizeof buf, "%02x ", bytes[i]);
    out += buf;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

}  // namespace bpfvm::testing
