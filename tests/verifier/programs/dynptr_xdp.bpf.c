// verdict: accept
// An xdp dynptr: read, write, a slice; bpf_dynptr_data is accepted (NULL at run time).
#include "dynptr_packet.h"

SEC("xdp")
int dynptr_xdp(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  __u8 b[3];
  if (bpf_dynptr_from_xdp(xdp, 0, &dp)) return XDP_ABORTED;
  if (bpf_dynptr_read(b, sizeof b, &dp, 1, 0)) return XDP_DROP;
  b[0] ^= 0xff;
  if (bpf_dynptr_write(&dp, 5, b, sizeof b, 0)) return XDP_DROP;
  const __u8 *s = bpf_dynptr_slice(&dp, 0, NULL, 2);
  if (!s || bpf_dynptr_data(&dp, 0, 1)) return XDP_DROP;
  return s[0] & 1 ? XDP_PASS : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
