// verdict: reject
// sk_msg is not among the types the kernel registers the skb kfunc set for.
#include "dynptr_packet.h"

SEC("sk_msg")
int dynptr_skb_sk_msg(struct sk_msg_md *msg) {
  struct bpf_dynptr dp;
  return bpf_dynptr_from_skb((struct __sk_buff *)msg, 0, &dp) ? SK_DROP : SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
