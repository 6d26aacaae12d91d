// verdict: reject
// A dynptr's stack bytes are not data: loading them as a scalar is refused.
#include "dynptr_value.h"

SEC("xdp")
int dynptr_slot_load(struct xdp_md *xdp) {
  __u64 *buf = dynptr_value();
  if (!buf) return XDP_ABORTED;
  struct bpf_dynptr dp;
  bpf_dynptr_from_mem(buf, 32, 0, &dp);
  return *(volatile __u64 *)&dp & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
