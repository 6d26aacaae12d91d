// cgroup_skb ingress filter in the style of Cilium's and systemd's cgroup firewalls: direct packet
// reads of the IPv4/IPv6 header, the socket fields test runs give the skb (family, local/remote
// addresses, ports), bpf_skb_load_bytes, per-family byte counts and a verdict from the header.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u64);
} family_bytes SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 12);
  __type(key, __u32);
  __type(value, __u32);
} last_seen SEC(".maps");

static __always_inline void remember(__u32 key, __u32 value) {
  __u32 *slot = bpf_map_lookup_elem(&last_seen, &key);
  if (slot) *slot = value;
}

SEC("cgroup_skb/ingress")
int cgroup_skb(struct __sk_buff *skb) {
  remember(0, skb->len);
  remember(1, skb->protocol);
  remember(2, skb->family);
  remember(3, skb->local_ip4);
  remember(4, skb->remote_ip4);
  remember(5, skb->local_ip6[3]);
  remember(6, skb->remote_ip6[0]);
  remember(7, skb->remote_port | skb->local_port);
  remember(8, skb->pkt_type);
  skb->mark = skb->len * 3;
  skb->cb[1] = skb->mark + 1;
  remember(9, skb->cb[1]);

  __u32 family = skb->family;
  __u64 *bytes = bpf_map_lookup_elem(&family_bytes, &family);
  if (bytes) {
    __sync_fetch_and_add(bytes, skb->len);
  } else {
    __u64 init = skb->len;
    bpf_map_update_elem(&family_bytes, &family, &init, BPF_NOEXIST);
  }

  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  if (skb->protocol != __constant_htons(ETH_P_IP)) return 1;
  struct iphdr *iph = data;  // cgroup_skb data starts at the network header
  if ((void *)(iph + 1) > data_end) return 0;
  remember(10, iph->ttl);
  __u8 tos = 0;
  if (bpf_skb_load_bytes(skb, 1, &tos, 1) < 0) return 0;
  remember(11, tos);
  // Drop ICMP and anything with an odd TTL; pass the rest.
  if (iph->protocol == IPPROTO_ICMP) return 0;
  return (iph->ttl & 1) ? 0 : 1;
}

char _license[] SEC("license") = "GPL";
