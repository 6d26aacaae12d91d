// verdict: reject
// A slice of an skb dynptr points into the packet: bpf_skb_pull_data may move the packet's bytes, so
// the slice dies with the packet pointers (the kernel's clear_all_pkt_pointers) and its read is refused.
#include "dynptr_packet.h"

SEC("tc")
int dynptr_skb_slice_after_pull(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return 1;
  const __u8 *s = bpf_dynptr_slice(&dp, 0, NULL, 2);
  if (!s) return 2;
  bpf_skb_pull_data(skb, 0);
  return s[1];
}

char LICENSE[] SEC("license") = "GPL";
