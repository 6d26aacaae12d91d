// verdict: reject
// A slice is PTR_TO_MEM of its __szk size: the second u64 of an 8-byte slice is outside it.
#include "dynptr_kfuncs.h"
#include "dynptr_value.h"

SEC("xdp")
int kfunc_dynptr_slice_past_size(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  __u64 *val = dynptr_value();
  if (!val) return XDP_ABORTED;
  bpf_dynptr_from_mem(val, 32, 0, &dp);
  const __u64 *r = bpf_dynptr_slice(&dp, 0, NULL, 8);
  if (!r) return XDP_DROP;
  return r[1] == 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
