// XDP parse + rewrite in the style of samples/bpf xdp2/xdp_tx_iptunnel: swap MACs, swap IPv4/IPv6
// addresses, decrement the TTL/hop limit with an incremental IPv4 checksum fix, and grow/shrink the
// packet with bpf_xdp_adjust_head/adjust_tail depending on the UDP/TCP destination port.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
} verdicts SEC(".maps");

// RFC 1624 incremental update, as include/net/ip.h ip_decrease_ttl().
static __always_inline void ipv4_decrease_ttl(struct iphdr *iph) {
  __u32 check = iph->check;
  check += bpf_htons(0x0100);
  iph->check = (__u16)(check + (check >= 0xFFFF));
  iph->ttl--;
}

static __always_inline void swap_mac(struct ethhdr *eth) {
  __u8 tmp[ETH_ALEN];
  __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
  __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
  __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

static __always_inline void count(__u32 verdict) {
  __u64 *v = bpf_map_lookup_elem(&verdicts, &verdict);
  if (v) __sync_fetch_and_add(v, 1);
}

// Ports decide the length change: 1 → push 8 bytes in front, 2 → pop 4 from the tail,
// 3 → grow the tail by 12 and fill it, 4 → strip the Ethernet header (adjust_head +14).
static __always_inline int resize(struct xdp_md *ctx, __u16 port) {
  switch (port & 7) {
    case 1: {
      if (bpf_xdp_adjust_head(ctx, -8)) return XDP_ABORTED;
      void *data = (void *)(long)ctx->data;
      void *data_end = (void *)(long)ctx->data_end;
      if (data + 8 > data_end) return XDP_ABORTED;
      __builtin_memset(data, 0xAB, 8);
      return XDP_TX;
    }
    case 2:
      if (bpf_xdp_adjust_tail(ctx, -4)) return XDP_DROP;
      return XDP_TX;
    case 3: {
      int old_len = ctx->data_end - ctx->data;
      if (bpf_xdp_adjust_tail(ctx, 12)) return XDP_ABORTED;
      void *data = (void *)(long)ctx->data;
      void *data_end = (void *)(long)ctx->data_end;
      if (old_len < 0 || old_len > 1600) return XDP_ABORTED;
      __u8 *tail = data + old_len;
      if ((void *)(tail + 12) > data_end) return XDP_ABORTED;
      __builtin_memset(tail, 0x5A, 12);
      return XDP_TX;
    }
    case 4:
      if (bpf_xdp_adjust_head(ctx, ETH_HLEN)) return XDP_ABORTED;
      return XDP_PASS;
    default:
      return XDP_TX;
  }
}

SEC("xdp")
int xdp_rewrite(struct xdp_md *ctx) {
  void *data_end = (void *)(long)ctx->data_end;
  void *data = (void *)(long)ctx->data;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_DROP;
  __u16 port = 0;
  __u8 proto;
  void *l4;

  if (eth->h_proto == bpf_htons(ETH_P_IP)) {
    struct iphdr *iph = (void *)(eth + 1);
    if ((void *)(iph + 1) > data_end) return XDP_DROP;
    if (iph->ihl != 5) { count(XDP_PASS); return XDP_PASS; }
    if (iph->ttl <= 1) { count(XDP_DROP); return XDP_DROP; }
    __be32 tmp = iph->saddr;
    iph->saddr = iph->daddr;
    iph->daddr = tmp;
    ipv4_decrease_ttl(iph);
    proto = iph->protocol;
    l4 = iph + 1;
  } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr *ip6 = (void *)(eth + 1);
    if ((void *)(ip6 + 1) > data_end) return XDP_DROP;
    if (ip6->hop_limit <= 1) { count(XDP_DROP); return XDP_DROP; }
    struct in6_addr tmp = ip6->saddr;
    ip6->saddr = ip6->daddr;
    ip6->daddr = tmp;
    ip6->hop_limit--;
    proto = ip6->nexthdr;
    l4 = ip6 + 1;
  } else {
    count(XDP_PASS);
    return XDP_PASS;
  }
  if (proto == IPPROTO_UDP) {
    struct udphdr *udp = l4;
    if ((void *)(udp + 1) > data_end) return XDP_DROP;
    port = bpf_ntohs(udp->dest);
  } else if (proto == IPPROTO_TCP) {
    struct tcphdr *tcp = l4;
    if ((void *)(tcp + 1) > data_end) return XDP_DROP;
    port = bpf_ntohs(tcp->dest);
  }
  swap_mac(eth);
  int verdict = resize(ctx, port);
  count(verdict);
  return verdict;
}

char _license[] SEC("license") = "GPL";
