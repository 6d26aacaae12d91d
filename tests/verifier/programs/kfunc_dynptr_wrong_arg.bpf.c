// verdict: reject
// A map value is no struct bpf_dynptr: KF_ARG_PTR_TO_DYNPTR takes the stack or a const dynptr only.
#include "dynptr_kfuncs.h"
#include "dynptr_value.h"

SEC("xdp")
int kfunc_dynptr_wrong_arg(struct xdp_md *xdp) {
  __u64 *val = dynptr_value();
  if (!val) return XDP_ABORTED;
  return bpf_dynptr_size((const struct bpf_dynptr *)val) == 16 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
