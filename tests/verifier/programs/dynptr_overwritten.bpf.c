// verdict: reject
// A store over a local dynptr's slot destroys the dynptr: passing it to bpf_dynptr_read afterwards is
// refused ("Expected an initialized dynptr").
#include "dynptr_value.h"

SEC("xdp")
int dynptr_overwritten(struct xdp_md *xdp) {
  __u64 *buf = dynptr_value();
  if (!buf) return XDP_ABORTED;
  __u64 out = 0;
  struct bpf_dynptr dp;
  bpf_dynptr_from_mem(buf, 32, 0, &dp);
  *((volatile __u64 *)&dp + 1) = 3;
  bpf_dynptr_read(&out, sizeof out, &dp, 0, 0);
  return out & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
