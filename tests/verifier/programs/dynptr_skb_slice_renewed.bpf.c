// verdict: accept
// After bpf_skb_pull_data the old slice is gone, but a new slice of the same skb dynptr is fine.
#include "dynptr_packet.h"

SEC("tc")
int dynptr_skb_slice_renewed(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return 1;
  const __u8 *s = bpf_dynptr_slice(&dp, 0, NULL, 2);
  if (!s) return 2;
  int first = s[0];
  bpf_skb_pull_data(skb, 0);
  s = bpf_dynptr_slice(&dp, 0, NULL, 2);
  if (!s) return 3;
  return first + s[1];
}

char LICENSE[] SEC("license") = "GPL";
