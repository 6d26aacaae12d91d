// verdict: reject
// A clone of an skb dynptr is an skb dynptr too: its slice dies when bpf_skb_pull_data moves the packet.
#include "dynptr_packet.h"

SEC("tc")
int dynptr_skb_clone_slice_after_pull(struct __sk_buff *skb) {
  struct bpf_dynptr dp, copy;
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return 1;
  if (bpf_dynptr_clone(&dp, &copy)) return 2;
  const __u8 *s = bpf_dynptr_slice(&copy, 0, NULL, 2);
  if (!s) return 3;
  bpf_skb_pull_data(skb, 0);
  return s[0];
}

char LICENSE[] SEC("license") = "GPL";
