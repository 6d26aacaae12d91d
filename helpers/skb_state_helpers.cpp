// The __sk_buff helpers that change the skb's metadata rather than its size (net/core/filter.c as 6.18
// answers BPF_PROG_TEST_RUN): the flow hash (bpf_set_hash_invalid, bpf_set_hash, bpf_get_hash_recalc),
// the checksum state (bpf_csum_update, bpf_csum_level), bpf_skb_change_type, bpf_skb_set_tstamp and
// bpf_skb_ecn_set_ce, which rewrites the IP header's ECN bits in place.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "helpers/skb_access.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

// bpf_set_hash_invalid(skb): skb_clear_hash, 0.
std::uint64_t set_hash_invalid(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                               vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  clear_hash(*skb);
  return 0;
}

// bpf_set_hash(skb, hash): __skb_set_sw_hash(skb, hash, true): the hash bpf_get_hash_recalc and
// __sk_buff.hash give until it is cleared; 0.
std::uint64_t set_hash(std::uint64_t ctx, std::uint64_t hash, std::uint64_t, std::uint64_t, std::uint64_t,
                       vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  skb->md.hash = static_cast<std::uint32_t>(hash);
  skb->sw_hash = skb->l4_hash = true;
  return 0;
}

// A 64-bit mix (SplitMix64's finalizer) of `value` into `state`.
std::uint64_t mix(std::uint64_t state, std::uint64_t value) {
  std::uint64_t z = state ^ (value + 0x9e3779b97f4a7c15ULL + (state << 6) + (state >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t bytes_word(const std::uint8_t* p, std::size_t n) {
  std::uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
}

// The flow of the packet behind the network header, as the flow dissector's hash keys see it: the
// addresses, the L4 protocol and (TCP, UDP, UDP-Lite, SCTP, DCCP on an unfragmented packet) the
// ports, ordered so both directions of a flow are one flow (__flow_hash_consistentify). has_ports
// says whether the hash is an L4 one.
struct FlowKeys {
  std::uint8_t lo_addr[16] = {}, hi_addr[16] = {};
  std::uint16_t lo_port = 0, hi_port = 0;
  std::uint16_t n_proto = 0;
  std::uint8_t ip_proto = 0;
  bool has_ports = false;
};

bool carries_ports(std::uint8_t proto) {
  return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP ||
         proto == IPPROTO_DCCP;
}

FlowKeys flow_keys(const SkbCtx& skb) {
  FlowKeys k;
  k.n_proto = skb.md.protocol;
  const auto* nh = reinterpret_cast<const std::uint8_t*>(static_cast<std::uintptr_t>(network_header(skb)));
  const std::uint64_t avail = skb.data_end > network_header(skb) ? skb.data_end - network_header(skb) : 0;
  std::size_t addr_bytes = 0, l4 = 0;
  const std::uint8_t *src = nullptr, *dst = nullptr;
  bool fragment = false;
  if (skb.md.protocol == htons(ETH_P_IP) && avail >= 20 && (nh[0] >> 4) == 4) {
    addr_bytes = 4, src = nh + 12, dst = nh + 16, k.ip_proto = nh[9], l4 = std::size_t{nh[0] & 0xfu} * 4;
    fragment = ((nh[6] << 8) | nh[7]) & 0x3fff;
  } else if (skb.md.protocol == htons(ETH_P_IPV6) && avail >= 40 && (nh[0] >> 4) == 6) {
    addr_bytes = 16, src = nh + 8, dst = nh + 24, k.ip_proto = nh[6], l4 = 40;
  } else {
    return k;
  }
  std::uint16_t sport = 0, dport = 0;
  if (!fragment && carries_ports(k.ip_proto) && l4 >= 20 && l4 + 4 <= avail) {
    std::memcpy(&sport, nh + l4, 2);
    std::memcpy(&dport, nh + l4 + 2, 2);
    k.has_ports = true;
  }
  const int order = std::memcmp(src, dst, addr_bytes);
  const bool swap = order > 0 || (order == 0 && sport > dport);
  std::memcpy(k.lo_addr, swap ? dst : src, addr_bytes);
  std::memcpy(k.hi_addr, swap ? src : dst, addr_bytes);
  k.lo_port = swap ? dport : sport;
  k.hi_port = swap ? sport : dport;
  return k;
}

// The key of bpfvm's flow hash: random per process, as the kernel's hashrnd is per boot, so no
// program can depend on a particular value.
std::uint64_t flow_hash_key() {
  static const std::uint64_t kKey = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) | rd();
  }();
  return kKey;
}

// bpf_get_hash_recalc(skb): skb_get_hash: the hash as it stands when bpf_set_hash set it or a previous
// call computed it, else a fresh flow hash (never 0), kept as a software hash (L4 when it covers
// ports). The kernel's value comes from its boot-random key; bpfvm's from its own process-random key
// over the same flow keys: equal for one flow in a run, never the kernel's number.
std::uint64_t get_hash_recalc(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  if (skb->l4_hash || skb->sw_hash) return skb->md.hash;
  const FlowKeys k = flow_keys(*skb);
  std::uint64_t h = mix(flow_hash_key(), k.n_proto | (std::uint64_t{k.ip_proto} << 16));
  for (std::size_t i = 0; i < 16; i += 8) h = mix(mix(h, bytes_word(k.lo_addr + i, 8)), bytes_word(k.hi_addr + i, 8));
  h = mix(h, k.lo_port | (std::uint64_t{k.hi_port} << 16));
  auto hash = static_cast<std::uint32_t>(h ^ (h >> 32));
  if (hash == 0) hash = 1;
  skb->md.hash = hash;
  skb->sw_hash = true;
  skb->l4_hash = k.has_ports;
  return hash;
}

// bpf_csum_update(skb, csum): only a CHECKSUM_COMPLETE skb carries a csum to update; bpfvm's (test_run's)
// never is one: -ENOTSUPP.
std::uint64_t csum_update(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                          vm::RunContext* run) {
  if (skb_of(run, ctx) == nullptr) return 0;
  return ret(-kEnotsupp);
}

// bpf_csum_level(skb, level): INC, DEC and RESET move ip_summed / csum_level as
// __skb_{incr,decr,reset}_checksum_unnecessary do (0); QUERY gives csum_level for a
// CHECKSUM_UNNECESSARY skb, else -EACCES; another level -EINVAL.
std::uint64_t csum_level(std::uint64_t ctx, std::uint64_t level, std::uint64_t, std::uint64_t, std::uint64_t,
                         vm::RunContext* run) {
  constexpr std::uint8_t kMaxCsumLevel = 3;  // SKB_MAX_CSUM_LEVEL
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  switch (level) {
    case BPF_CSUM_LEVEL_INC:
      if (skb->ip_summed == kChecksumUnnecessary) {
        if (skb->csum_level < kMaxCsumLevel) ++skb->csum_level;
      } else if (skb->ip_summed == kChecksumNone) {
        skb->ip_summed = kChecksumUnnecessary;
        skb->csum_level = 0;
      }
      return 0;
    case BPF_CSUM_LEVEL_DEC:
      if (skb->ip_summed == kChecksumUnnecessary) {
        if (skb->csum_level == 0) skb->ip_summed = kChecksumNone;
        else --skb->csum_level;
      }
      return 0;
    case BPF_CSUM_LEVEL_RESET:
      reset_checksum_unnecessary(*skb);
      return 0;
    case BPF_CSUM_LEVEL_QUERY:
      return skb->ip_summed == kChecksumUnnecessary ? skb->csum_level : ret(-EACCES);
    default:
      return ret(-EINVAL);
  }
}

// bpf_skb_change_type(skb, pkt_type): -EINVAL unless both the current and the new type are at most
// PACKET_OTHERHOST; else __sk_buff.pkt_type is the new one.
std::uint64_t skb_change_type(std::uint64_t ctx, std::uint64_t pkt_type, std::uint64_t, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  const auto type = static_cast<std::uint32_t>(pkt_type);
  if (skb->md.pkt_type > PACKET_OTHERHOST || type > PACKET_OTHERHOST) return ret(-EINVAL);
  skb->md.pkt_type = type;
  return 0;
}

// bpf_skb_set_tstamp(skb, tstamp, tstamp_type): -EOPNOTSUPP unless skb->protocol is IPv4/IPv6; type
// 0 (REALTIME) takes any tstamp, 1 (MONOTONIC) and 2 (TAI) a non-zero one (else -EINVAL), another
// type -EINVAL; sets __sk_buff.tstamp and tstamp_type.
std::uint64_t skb_set_tstamp(std::uint64_t ctx, std::uint64_t tstamp, std::uint64_t tstamp_type, std::uint64_t,
                             std::uint64_t, vm::RunContext* run) {
  constexpr std::uint32_t kClockRealtime = 0, kClockTai = 2;  // BPF_SKB_CLOCK_* (6.11+ UAPI)
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  if (skb->md.protocol != htons(ETH_P_IP) && skb->md.protocol != htons(ETH_P_IPV6)) return ret(-EOPNOTSUPP);
  const auto type = static_cast<std::uint32_t>(tstamp_type);
  if (type > kClockTai || (type != kClockRealtime && tstamp == 0)) return ret(-EINVAL);
  skb->md.tstamp = tstamp;
  skb->md.tstamp_type = static_cast<std::uint8_t>(type);
  return 0;
}

// skb_protocol(skb, true), i.e. vlan_get_protocol: skb->protocol, or for 802.1Q/802.1ad the protocol
// the tags in the packet encapsulate, read from data + 14 on (__vlan_get_protocol with mac_len 0, as
// test_run's skbs have it); a tag past the packet or more than 7 tags (VLAN_MAX_DEPTH 8) give 0.
bool is_vlan_protocol(std::uint16_t be_proto) {
  return be_proto == htons(ETH_P_8021Q) || be_proto == htons(ETH_P_8021AD);
}

std::uint16_t protocol_past_tags(const SkbCtx& skb) {
  constexpr std::uint64_t kEthHlen = 14, kVlanHlen = 4;
  constexpr int kVlanMaxDepth = 8;
  auto type = static_cast<std::uint16_t>(skb.md.protocol);
  std::uint64_t depth = kEthHlen;
  for (int parse_depth = kVlanMaxDepth; is_vlan_protocol(type); depth += kVlanHlen) {
    if (depth + kVlanHlen > linear_len(&skb) || --parse_depth == 0) return 0;
    std::memcpy(&type, ptr(skb.data + depth + 2), 2);  // h_vlan_encapsulated_proto
  }
  return type;
}

// bpf_skb_ecn_set_ce(skb): marks the IPv4/IPv6 header Congestion Experienced when it is ECN-capable
// (INET_ECN_set_ce): 1 when marked (IPv4: also when it already was; its header checksum is updated),
// 0 for a not-ECT packet, another protocol, or a header the linear data does not hold. The protocol is
// read through in-packet VLAN tags (protocol_past_tags), but the header is the one at the network
// header, as the kernel's: after a tag, the tag's bytes. Once a VLAN helper changed mac_len the walk
// would start elsewhere: a VLAN protocol then stops the run "not supported yet".
std::uint64_t skb_ecn_set_ce(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                             vm::RunContext* run) {
  constexpr std::uint8_t kEcnCe = 3;  // INET_ECN_CE
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  if (is_vlan_protocol(static_cast<std::uint16_t>(skb->md.protocol)) && skb->mac_len_set)
    return fault(run, "bpf_skb_ecn_set_ce on a VLAN skb after bpf_skb_vlan_push/pop is not supported yet");
  const std::uint16_t proto = protocol_past_tags(*skb);
  const std::uint64_t header_len = proto == htons(ETH_P_IP) ? 20 : proto == htons(ETH_P_IPV6) ? 40 : 0;
  if (header_len == 0 || linear_len(skb) < header_len || network_header(*skb) + header_len > skb->data_end) return 0;
  auto* iph = reinterpret_cast<std::uint8_t*>(ptr(network_header(*skb)));
  if (proto == htons(ETH_P_IP)) {  // IP_ECN_set_ce
    const std::uint32_t ecn = (iph[1] + 1u) & 3u;  // NOT_ECT 01, ECT_1 10, ECT_0 11, CE 00
    if (!(ecn & 2)) return ecn == 0;
    // ECT_1: check += htons(0xFFFD), ECT_0: check += htons(0xFFFE)
    const auto check_add = static_cast<std::uint16_t>(htons(0xFFFB) + htons(static_cast<std::uint16_t>(ecn)));
    std::uint16_t check;
    std::memcpy(&check, iph + 10, 2);
    auto sum = static_cast<std::uint16_t>(check + check_add);  // csum16_add: end-around carry
    sum = static_cast<std::uint16_t>(sum + (sum < check_add));
    std::memcpy(iph + 10, &sum, 2);
    iph[1] |= kEcnCe;
    return 1;
  }
  std::uint32_t word;  // IP6_ECN_set_ce: the traffic class's ECN bits in the first word
  std::memcpy(&word, iph, 4);
  if (((ntohl(word) >> 20) & 3) == 0) return 0;
  word |= htonl(std::uint32_t{kEcnCe} << 20);
  std::memcpy(iph, &word, 4);
  return 1;
}

}  // namespace

void add_skb_state_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  const std::initializer_list<ArgType> ctx_only{ArgType::PtrToCtx};
  const std::initializer_list<ArgType> ctx_and_one{ArgType::PtrToCtx, ArgType::Anything};
  reg.add(entry(BPF_FUNC_set_hash_invalid, "bpf_set_hash_invalid", set_hash_invalid, rt, RetType::Integer, ctx_only));
  reg.add(entry(BPF_FUNC_set_hash, "bpf_set_hash", set_hash, rt, RetType::Integer, ctx_and_one));
  reg.add(entry(BPF_FUNC_get_hash_recalc, "bpf_get_hash_recalc", get_hash_recalc, rt, RetType::Integer, ctx_only));
  reg.add(entry(BPF_FUNC_csum_update, "bpf_csum_update", csum_update, rt, RetType::Integer, ctx_and_one));
  reg.add(entry(BPF_FUNC_csum_level, "bpf_csum_level", csum_level, rt, RetType::Integer, ctx_and_one));
  reg.add(entry(BPF_FUNC_skb_change_type, "bpf_skb_change_type", skb_change_type, rt, RetType::Integer, ctx_and_one));
  reg.add(entry(BPF_FUNC_skb_set_tstamp, "bpf_skb_set_tstamp", skb_set_tstamp, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_skb_ecn_set_ce, "bpf_skb_ecn_set_ce", skb_ecn_set_ce, rt, RetType::Integer, ctx_only));
}

}  // namespace bpfvm::helpers::detail
