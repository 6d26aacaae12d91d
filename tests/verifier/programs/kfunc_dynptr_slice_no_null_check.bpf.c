// verdict: reject
// bpf_dynptr_slice returns NULL past the dynptr's end (KF_RET_NULL): reading it unchecked is refused.
#include "dynptr_kfuncs.h"
#include "dynptr_value.h"

SEC("xdp")
int kfunc_dynptr_slice_no_null_check(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  __u64 *val = dynptr_value();
  if (!val) return XDP_ABORTED;
  bpf_dynptr_from_mem(val, 32, 0, &dp);
  const __u64 *r = bpf_dynptr_slice(&dp, 0, NULL, 8);
  return *r == 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
