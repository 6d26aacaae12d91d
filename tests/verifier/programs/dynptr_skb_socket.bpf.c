// verdict: accept
// A socket filter may call bpf_dynptr_from_skb (its dynptr is read-only at run time: a write fails
// -EINVAL, bpf_dynptr_is_rdonly is true); reading through bpf_dynptr_read and a slice is allowed.
#include "dynptr_packet.h"

SEC("socket")
int dynptr_skb_socket(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  __u8 one = 1, b = 0;
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return 0;
  if (bpf_dynptr_write(&dp, 0, &one, 1, 0) != -22) return 0;
  if (bpf_dynptr_read(&b, 1, &dp, 1, 0)) return 0;
  const __u8 *s = bpf_dynptr_slice(&dp, 0, NULL, 1);
  return (s ? s[0] : 0) + b + bpf_dynptr_is_rdonly(&dp);
}

char LICENSE[] SEC("license") = "GPL";
