// Example 5: a socket filter in the style of samples/bpf sockex1, reading packet bytes with
// bpf_skb_load_bytes (bpfvm's ISA has no legacy LD_ABS/LD_IND) and counting bytes per protocol.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, long);
} my_map SEC(".maps");

SEC("socket")
int bpf_prog1(struct __sk_buff *skb) {
  __u8 proto = 0;
  if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol), &proto, 1) < 0) return 0;
  if (skb->pkt_type != 4 /* PACKET_OUTGOING */) return 0;
  __u32 index = proto;
  long *value = bpf_map_lookup_elem(&my_map, &index);
  if (value) __sync_fetch_and_add(value, skb->len);
  return 0;
}

char _license[] SEC("license") = "GPL";
