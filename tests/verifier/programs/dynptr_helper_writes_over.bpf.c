// verdict: reject
// A helper's output buffer may not cover a dynptr: bpf_dynptr_read into the dynptr's own bytes is refused.
#include "dynptr_value.h"

SEC("xdp")
int dynptr_helper_writes_over(struct xdp_md *xdp) {
  __u64 *buf = dynptr_value();
  if (!buf) return XDP_ABORTED;
  struct bpf_dynptr dp;
  bpf_dynptr_from_mem(buf, 32, 0, &dp);
  bpf_dynptr_read(&dp, 8, &dp, 0, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
