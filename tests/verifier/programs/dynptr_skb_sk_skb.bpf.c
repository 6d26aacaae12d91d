// verdict: accept
// sk_skb is among the types the kernel registers the skb kfunc set for (sk_skb may write packet data).
#include "dynptr_packet.h"

SEC("sk_skb/stream_verdict")
int dynptr_skb_sk_skb(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  __u8 b = 0;
  if (bpf_dynptr_from_skb(skb, 0, &dp) || bpf_dynptr_read(&b, 1, &dp, 0, 0)) return SK_DROP;
  return b & 1 ? SK_PASS : SK_DROP;
}

char LICENSE[] SEC("license") = "GPL";
