// Seeded random packets for the runtime differential tests: Ethernet frames carrying IPv4/IPv6 with
// UDP/TCP/ICMP/GRE or other payloads (or a random EtherType), 14..1500 bytes, sometimes truncated
// inside a header. Packet i of seed s depends on (s, i) alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bpfvm::testing {

struct Packet {
  std::vector<std::uint8_t> bytes;
  std::string kind;  // "ipv4/udp", "ipv6/tcp", "eth/0x88b5", ... for mismatch reports
};

/// Addresses come from a small pool so flows repeat and fill maps.
Packet random_packet(std::uint64_t seed, std::uint64_t index);

/// "00 11 22 ..." of at most max_bytes bytes of `bytes` from `offset`.
std::string hex_window(const std::vector<std::uint8_t>& bytes, std::size_t offset, std::size_t max_bytes = 24);

}  // namespace bpfvm::testing
