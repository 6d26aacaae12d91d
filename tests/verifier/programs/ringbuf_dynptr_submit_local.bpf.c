// verdict: reject
// bpf_ringbuf_submit_dynptr takes only a ring buffer dynptr: a local one (bpf_dynptr_from_mem) holds
// no reference to release.
#include "dynptr_value.h"

SEC("xdp")
int ringbuf_dynptr_submit_local(struct xdp_md *xdp) {
  __u64 *buf = dynptr_value();
  if (!buf) return XDP_ABORTED;
  struct bpf_dynptr dp;
  bpf_dynptr_from_mem(buf, 32, 0, &dp);
  bpf_ringbuf_submit_dynptr(&dp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
