// verdict: reject
// bpf_dynptr_slice returns read-only memory, also over a writable skb: a store through it is refused.
#include "dynptr_packet.h"

SEC("tc")
int dynptr_skb_slice_write(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return 1;
  __u8 *s = bpf_dynptr_slice(&dp, 0, NULL, 2);
  if (!s) return 2;
  s[0] = 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
