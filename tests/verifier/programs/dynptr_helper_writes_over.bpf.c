// verdict: reject
// A helper's output buffer may not cover a dynptr: bpf_dynptr_read from one dynptr into the bytes of
// another is refused ("potential write to dynptr"), not taken as a store that destroys the second.
#include "dynptr_value.h"

SEC("xdp")
int dynptr_helper_writes_over(struct xdp_md *xdp) {
  __u64 *buf = dynptr_value();
  if (!buf) return XDP_ABORTED;
  struct bpf_dynptr src, dst;
  bpf_dynptr_from_mem(buf, 32, 0, &src);
  bpf_dynptr_from_mem(buf, 32, 0, &dst);
  bpf_dynptr_read(&dst, 8, &src, 0, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
