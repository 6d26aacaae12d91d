// verdict: reject
// bpf_dynptr_from_xdp is registered for XDP only: a tc program may not call it.
#include "dynptr_packet.h"

SEC("tc")
int dynptr_xdp_from_tc_prog(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  return bpf_dynptr_from_xdp((struct xdp_md *)skb, 0, &dp) ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
