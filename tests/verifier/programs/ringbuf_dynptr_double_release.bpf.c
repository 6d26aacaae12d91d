// verdict: reject
// Submitting, then discarding the same dynptr: the second release names no reference any more.
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_double_release(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  bpf_ringbuf_submit_dynptr(&dp, 0);
  bpf_ringbuf_discard_dynptr(&dp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
