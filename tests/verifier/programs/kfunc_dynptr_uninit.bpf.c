// verdict: reject
// bpf_dynptr_size needs an initialised dynptr: stack bytes nothing made one are refused.
#include "dynptr_kfuncs.h"

SEC("xdp")
int kfunc_dynptr_uninit(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  return bpf_dynptr_size(&dp) == 16 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
