// Socket filter in the style of samples/bpf sockex1: bpf_skb_load_bytes of the IPv4 header, a
// per-protocol byte count in a hash map, and a truncation length as verdict. (ld_abs.bpf.c has the
// LD_ABS variant.)
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u64);
} proto_bytes SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} last_seen SEC(".maps");

SEC("socket")
int sock_filter(struct __sk_buff *skb) {
  // A socket filter's skb->data starts at the network header; LD_ABS offsets are relative to it.
  __u32 key = 0;
  __u32 *seen = bpf_map_lookup_elem(&last_seen, &key);
  if (seen) {
    *seen = skb->len;
    key = 1;
    seen = bpf_map_lookup_elem(&last_seen, &key);
    if (seen) *seen = skb->protocol;
  }
  if (skb->protocol != __constant_htons(ETH_P_IP)) return 0;
  struct iphdr iph;
  if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)) < 0) return 1;
  __u32 proto = iph.protocol;
  __u32 tot = iph.tot_len;
  __u32 daddr = iph.daddr;
  __u8 ttl = iph.ttl;
  __u64 *v = bpf_map_lookup_elem(&proto_bytes, &proto);
  if (v) {
    __sync_fetch_and_add(v, skb->len);
  } else {
    __u64 init = skb->len;
    bpf_map_update_elem(&proto_bytes, &proto, &init, BPF_NOEXIST);
  }
  key = 2;
  seen = bpf_map_lookup_elem(&last_seen, &key);
  if (seen) *seen = daddr ^ tot ^ ttl;
  if (proto == IPPROTO_TCP) return skb->len;
  if (proto == IPPROTO_UDP) return 64;
  return ttl & 1 ? -1 : 0;
}

char _license[] SEC("license") = "GPL";
