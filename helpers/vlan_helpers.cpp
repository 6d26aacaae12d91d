// bpf_skb_vlan_push / bpf_skb_vlan_pop for tc (net/core/filter.c over skbuff.c's skb_vlan_push and
// skb_vlan_pop, as 6.18 answers BPF_PROG_TEST_RUN). An skb carries at most one tag outside its bytes,
// the "hardware-accelerated" one, which __sk_buff.vlan_present / vlan_tci / vlan_proto show (SkbCtx
// keeps it there); further tags sit in the packet after the MAC addresses.
#include <linux/bpf.h>
#include <linux/if_ether.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

#include "helpers/skb_access.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

constexpr std::uint64_t kVlanHlen = 4, kEthAlen = 6, kEthHlen = 14;

bool is_vlan_proto(std::uint16_t be_proto) {
  return be_proto == htons(ETH_P_8021Q) || be_proto == htons(ETH_P_8021AD);
}

// The tc skb behind ctx (other types' runs stop "not supported yet"), or nullptr after a fault.
SkbCtx* tc_skb_of(vm::RunContext* run, std::uint64_t ctx, const char* helper) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb != nullptr && skb->room_begin == 0) {
    fault(run, std::string(helper) + " is not supported yet for this program type (bpfvm models it for tc)");
    return nullptr;
  }
  return skb;
}

void put_tag(SkbCtx& skb, std::uint16_t be_proto, std::uint16_t tci) {
  skb.md.vlan_present = 1;
  skb.md.vlan_proto = be_proto;  // __sk_buff.vlan_proto reads the __be16 as it sits in the skb
  skb.md.vlan_tci = tci;
}

void clear_tag(SkbCtx& skb) { skb.md.vlan_present = skb.md.vlan_proto = skb.md.vlan_tci = 0; }

// __skb_vlan_pop: takes the tag after the MAC addresses out of the packet (-ENOMEM when the packet is
// shorter than a tagged Ethernet header): the addresses move up over it, skb->protocol becomes the
// encapsulated one (an 802.3 length gives ETH_P_802_3 or ETH_P_802_2, as vlan_set_encap_proto reads
// it), the MAC header follows data and the network header stays, at least 14 bytes on.
long pop_inband_tag(SkbCtx& skb, std::uint16_t& tci) {
  if (linear_len(&skb) < kEthHlen + kVlanHlen) return -ENOMEM;
  auto* data = reinterpret_cast<std::uint8_t*>(ptr(skb.data));
  std::uint16_t be_tci, encap;
  std::memcpy(&be_tci, data + kEthHlen, 2);
  std::memcpy(&encap, data + kEthHlen + 2, 2);
  tci = ntohs(be_tci);
  std::memmove(data + kVlanHlen, data, 2 * kEthAlen);
  if (ntohs(encap) >= 0x0600) {  // eth_proto_is_802_3
    skb.md.protocol = encap;
  } else {
    std::uint16_t first;
    std::memcpy(&first, data, 2);
    skb.md.protocol = htons(first == 0xffff ? ETH_P_802_3 : ETH_P_802_2);
  }
  skb.data += kVlanHlen;
  skb.mac_header = skb.data;
  skb.net_offset = skb.net_offset >= kEthHlen + kVlanHlen ? skb.net_offset - kVlanHlen : kEthHlen;
  skb.mac_len_set = true;  // skb_reset_mac_len
  return 0;
}

// bpf_skb_vlan_push(skb, vlan_proto, vlan_tci): a protocol other than 802.1Q / 802.1ad is taken as
// 802.1Q. A tag already outside the packet goes into it first (after the MAC addresses; skb->protocol
// becomes its protocol; the network offset from data stays); the new one becomes the outside tag. 0.
std::uint64_t skb_vlan_push(std::uint64_t ctx, std::uint64_t vlan_proto, std::uint64_t vlan_tci, std::uint64_t,
                            std::uint64_t, vm::RunContext* run) {
  SkbCtx* skb = tc_skb_of(run, ctx, "bpf_skb_vlan_push");
  if (skb == nullptr) return 0;
  auto proto = static_cast<std::uint16_t>(vlan_proto);
  if (!is_vlan_proto(proto)) proto = htons(ETH_P_8021Q);
  if (skb->md.vlan_present) {
    if (skb->data - skb->room_begin < kVlanHlen)
      return fault(run, "bpf_skb_vlan_push past bpfvm's headroom is not supported yet");
    skb->data -= kVlanHlen;
    auto* data = reinterpret_cast<std::uint8_t*>(ptr(skb->data));
    std::memmove(data, data + kVlanHlen, 2 * kEthAlen);  // __vlan_insert_tag: mac_len ETH_HLEN
    const auto outer = static_cast<std::uint16_t>(skb->md.vlan_proto);
    const std::uint16_t be_tci = htons(static_cast<std::uint16_t>(skb->md.vlan_tci));
    std::memcpy(data + 2 * kEthAlen, &outer, 2);
    std::memcpy(data + 2 * kEthAlen + 2, &be_tci, 2);
    skb->md.protocol = outer;
    skb->mac_len_set = true;  // skb_vlan_push: mac_len += VLAN_HLEN
    skb->mac_header = skb->data;  // the network header moves down with it (measured on 6.18: its
                                  // offset from data stays, so it now names the tag's TCI)
  }
  put_tag(*skb, proto, static_cast<std::uint16_t>(vlan_tci));
  sync_skb(run, *skb);
  return 0;
}

// bpf_skb_vlan_pop(skb): drops the outside tag, or without one the tag in the packet (none when
// skb->protocol is not 802.1Q/802.1ad: 0); then a tag left in the packet becomes the outside tag.
// -ENOMEM when a tag to take out of the packet does not fit in it.
std::uint64_t skb_vlan_pop(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                           vm::RunContext* run) {
  SkbCtx* skb = tc_skb_of(run, ctx, "bpf_skb_vlan_pop");
  if (skb == nullptr) return 0;
  long err = 0;
  std::uint16_t tci = 0;
  if (skb->md.vlan_present) {
    clear_tag(*skb);
  } else if (!is_vlan_proto(static_cast<std::uint16_t>(skb->md.protocol))) {
    return 0;
  } else {
    err = pop_inband_tag(*skb, tci);
  }
  const auto next = static_cast<std::uint16_t>(skb->md.protocol);
  if (err == 0 && is_vlan_proto(next)) {
    err = pop_inband_tag(*skb, tci);
    if (err == 0) put_tag(*skb, next, tci);
  }
  sync_skb(run, *skb);
  return ret(err);
}

}  // namespace

void add_vlan_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_skb_vlan_push, "bpf_skb_vlan_push", skb_vlan_push, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_skb_vlan_pop, "bpf_skb_vlan_pop", skb_vlan_pop, rt, RetType::Integer, {ArgType::PtrToCtx}));
}

}  // namespace bpfvm::helpers::detail
