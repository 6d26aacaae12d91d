// Example 4: packet parsing in the style of the kernel's samples/bpf xdp1: Ethernet → IPv4/IPv6 → count
// packets per IP protocol in a per-CPU array and drop UDP to port 9.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, long);
} rxcnt SEC(".maps");

static __always_inline int parse_ipv4(void *data, __u64 nh_off, void *data_end, __u8 *proto) {
  struct iphdr *iph = data + nh_off;
  if ((void *)(iph + 1) > data_end) return -1;
  *proto = iph->protocol;
  return iph->ihl * 4;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx) {
  void *data_end = (void *)(long)ctx->data_end;
  void *data = (void *)(long)ctx->data;
  struct ethhdr *eth = data;
  __u64 nh_off = sizeof(*eth);
  if (data + nh_off > data_end) return XDP_DROP;
  __u16 h_proto = eth->h_proto;
  __u8 proto = 0;
  if (h_proto == bpf_htons(ETH_P_IP)) {
    int ihl = parse_ipv4(data, nh_off, data_end, &proto);
    if (ihl < 0) return XDP_DROP;
    if (proto == IPPROTO_UDP) {
      struct udphdr *udp = data + nh_off + sizeof(struct iphdr);
      if ((void *)(udp + 1) > data_end) return XDP_DROP;
      if (udp->dest == bpf_htons(9)) return XDP_DROP;
    }
  } else if (h_proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr *ip6h = data + nh_off;
    if ((void *)(ip6h + 1) > data_end) return XDP_DROP;
    proto = ip6h->nexthdr;
  }
  __u32 key = proto;
  long *value = bpf_map_lookup_elem(&rxcnt, &key);
  if (value) *value += 1;
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
