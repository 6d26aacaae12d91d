// verdict: reject
// bpf_dynptr_slice's memory is read-only (MEM_RDONLY); only bpf_dynptr_slice_rdwr's may be written.
#include "dynptr_kfuncs.h"
#include "dynptr_value.h"

SEC("xdp")
int kfunc_dynptr_slice_write_rdonly(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  __u64 *val = dynptr_value();
  if (!val) return XDP_ABORTED;
  bpf_dynptr_from_mem(val, 32, 0, &dp);
  __u64 *r = bpf_dynptr_slice(&dp, 0, NULL, 8);
  if (!r) return XDP_DROP;
  *r = 5;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
