// verdict: reject
// bpf_dynptr_from_skb is in the kernel's skb kfunc set, which is not registered for XDP.
#include "dynptr_packet.h"

SEC("xdp")
int dynptr_skb_from_xdp_prog(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  return bpf_dynptr_from_skb((struct __sk_buff *)xdp, 0, &dp) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
