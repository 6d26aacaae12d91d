// verdict: reject
// An xdp dynptr's slice points into the frame: bpf_xdp_adjust_head moves the packet, the slice dies.
#include "dynptr_packet.h"

SEC("xdp")
int dynptr_xdp_slice_after_adjust_head(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  if (bpf_dynptr_from_xdp(xdp, 0, &dp)) return XDP_ABORTED;
  const __u8 *s = bpf_dynptr_slice(&dp, 0, NULL, 4);
  if (!s) return XDP_DROP;
  bpf_xdp_adjust_head(xdp, 2);
  return s[0] ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
