// lwt_xmit program in the style of samples/bpf test_lwt_bpf.c: direct packet reads and writes at the
// network header, skb_store_bytes/skb_load_bytes, mark and cb writes, counters in an array map.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

static __always_inline void add(__u32 key, __u64 v) {
  __u64 *slot = bpf_map_lookup_elem(&stats, &key);
  if (slot) __sync_fetch_and_add(slot, v);
}

SEC("lwt_xmit")
int lwt_rewrite(struct __sk_buff *skb) {
  add(0, skb->len);
  add(1, skb->protocol);
  add(2, skb->pkt_type + 1);
  skb->mark = skb->len;
  skb->cb[0] = skb->hash;
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  if (skb->protocol != __constant_htons(ETH_P_IP)) return BPF_OK;
  struct iphdr *iph = data;
  if ((void *)(iph + 1) > data_end) return BPF_DROP;
  add(3, iph->ttl);
  iph->tos ^= 0x4;  // a direct write; the checksum is left stale on purpose
  const __u8 proto = iph->protocol;  // packet pointers die at bpf_skb_store_bytes
  __u8 ttl = iph->ttl > 1 ? iph->ttl - 1 : 0;
  if (bpf_skb_store_bytes(skb, 8, &ttl, 1, 0) < 0) return BPF_DROP;
  __u32 saddr = 0;
  if (bpf_skb_load_bytes(skb, 12, &saddr, 4) < 0) return BPF_DROP;
  add(4, saddr);
  return proto == IPPROTO_UDP ? BPF_OK : BPF_DROP;
}

char _license[] SEC("license") = "GPL";
