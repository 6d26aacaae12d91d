// Flow dissector in the style of the kernel selftests' bpf_flow.c, written for these tests: from the
// network header at flow_keys->nhoff it walks up to two VLAN tags (802.1Q, 802.1ad), then IPv4 (with
// options and fragments) or IPv6
// (flow label, stopping there when BPF_FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL says so), and reads TCP/UDP
// ports at thoff (of a first fragment only with BPF_FLOW_DISSECTOR_F_PARSE_1ST_FRAG). Everything is read through direct packet access after a bounds check; a header cut
// short is BPF_DROP. bpf_skb_load_bytes' result (BPF_PROG_TEST_RUN gives the program no skb to read)
// is kept in a global, so both sides' answers are compared.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

struct vlan_tag {
  __be16 tci;
  __be16 encapsulated_proto;
};

struct ports {
  __be16 source;
  __be16 dest;
};

__s64 load_bytes_result = 1;
__u32 dissected[4];  // by outcome: 0 IPv4, 1 IPv6, 2 dropped (short or unknown), 3 VLAN tags seen

// A header of `len` bytes at `off` from data, or NULL when the packet is shorter.
static __always_inline void *header_at(struct __sk_buff *skb, __u32 off, __u32 len) {
  void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
  if (off > 1500) return 0;
  void *p = data + off;
  if (p + len > data_end) return 0;
  return p;
}

static __always_inline int drop(void) {
  dissected[2]++;
  return BPF_DROP;
}

static __always_inline int transport_ports(struct __sk_buff *skb, struct bpf_flow_keys *keys) {
  if (keys->ip_proto != IPPROTO_TCP && keys->ip_proto != IPPROTO_UDP) return BPF_OK;
  // A fragment's ports only from a first fragment, and only when the caller asks for them.
  if (keys->is_frag && !(keys->is_first_frag && (keys->flags & BPF_FLOW_DISSECTOR_F_PARSE_1ST_FRAG))) return BPF_OK;
  struct ports *p = header_at(skb, keys->thoff, sizeof(*p));
  if (!p) return drop();
  keys->sport = p->source;
  keys->dport = p->dest;
  return BPF_OK;
}

static __always_inline int ipv4(struct __sk_buff *skb, struct bpf_flow_keys *keys) {
  struct iphdr *ip = header_at(skb, keys->nhoff, sizeof(*ip));
  if (!ip || ip->ihl < 5) return drop();
  keys->addr_proto = ETH_P_IP;
  keys->ipv4_src = ip->saddr;
  keys->ipv4_dst = ip->daddr;
  keys->ip_proto = ip->protocol;
  keys->thoff = keys->nhoff + ip->ihl * 4;
  if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
    keys->is_frag = 1;
    keys->is_first_frag = !(ip->frag_off & bpf_htons(IP_OFFSET));
  }
  dissected[0]++;
  return transport_ports(skb, keys);
}

static __always_inline int ipv6(struct __sk_buff *skb, struct bpf_flow_keys *keys) {
  struct ipv6hdr *ip6 = header_at(skb, keys->nhoff, sizeof(*ip6));
  if (!ip6) return drop();
  keys->addr_proto = ETH_P_IPV6;
  __builtin_memcpy(keys->ipv6_src, &ip6->saddr, 16);
  __builtin_memcpy(keys->ipv6_dst, &ip6->daddr, 16);
  keys->ip_proto = ip6->nexthdr;
  keys->thoff = keys->nhoff + sizeof(*ip6);
  keys->flow_label = *(__be32 *)ip6 & bpf_htonl(0x000fffff);
  dissected[1]++;
  if (keys->flow_label && (keys->flags & BPF_FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL)) return BPF_OK;
  return transport_ports(skb, keys);
}

SEC("flow_dissector")
int dissect(struct __sk_buff *skb) {
  struct bpf_flow_keys *keys = skb->flow_keys;
  __u8 first;
  load_bytes_result = bpf_skb_load_bytes(skb, 0, &first, 1);
  __be16 proto = keys->n_proto;
#pragma unroll
  for (int tags = 0; tags < 2; tags++) {
    if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD)) break;
    struct vlan_tag *vlan = header_at(skb, keys->nhoff, sizeof(*vlan));
    if (!vlan) return drop();
    proto = vlan->encapsulated_proto;
    keys->nhoff += sizeof(*vlan);
    keys->thoff = keys->nhoff;
    dissected[3]++;
  }
  keys->n_proto = proto;
  if (proto == bpf_htons(ETH_P_IP)) return ipv4(skb, keys);
  if (proto == bpf_htons(ETH_P_IPV6)) return ipv6(skb, keys);
  return drop();
}

char _license[] SEC("license") = "GPL";
