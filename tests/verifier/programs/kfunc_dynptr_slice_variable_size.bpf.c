// verdict: reject
// buffer__szk must be a constant the verifier knows (it sizes the returned memory).
#include "dynptr_kfuncs.h"
#include "dynptr_value.h"

SEC("xdp")
int kfunc_dynptr_slice_variable_size(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  __u64 *val = dynptr_value();
  if (!val) return XDP_ABORTED;
  bpf_dynptr_from_mem(val, 32, 0, &dp);
  __u32 n = (__u32)val[0] & 8;
  const __u8 *r = bpf_dynptr_slice(&dp, 0, NULL, n);
  return r ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
