// verdict: accept
// An skb dynptr in tc (writable): read two bytes, write them back swapped, a read-only slice with and
// without a buffer (NULL-checked), size and is_rdonly; flags != 0 is accepted (it fails at run time).
#include "dynptr_packet.h"

SEC("tc")
int dynptr_skb_tc(struct __sk_buff *skb) {
  struct bpf_dynptr dp, bad;
  __u8 two[2], buf[4];
  if (bpf_dynptr_from_skb(skb, 1, &bad) != -22 || !bpf_dynptr_is_null(&bad)) return 1;
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return 2;
  if (bpf_dynptr_read(two, sizeof two, &dp, 0, 0)) return 3;
  __u8 swapped[2] = {two[1], two[0]};
  if (bpf_dynptr_write(&dp, 0, swapped, sizeof swapped, 0)) return 4;
  const __u8 *s = bpf_dynptr_slice(&dp, 2, NULL, 4);
  if (!s) return 5;
  const __u8 *b = bpf_dynptr_slice(&dp, 4, buf, sizeof buf);
  if (!b) return 6;
  return s[0] + b[3] + bpf_dynptr_size(&dp) + bpf_dynptr_is_rdonly(&dp) * 1000;
}

char LICENSE[] SEC("license") = "GPL";
