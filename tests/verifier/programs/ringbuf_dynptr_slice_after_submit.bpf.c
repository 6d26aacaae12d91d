// verdict: reject
// A bpf_dynptr_data slice dies with its ring buffer dynptr: a store through it after the submit is
// refused (the slice is a scalar then).
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_slice_after_submit(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  bpf_ringbuf_reserve_dynptr(&records, 16, 0, &dp);
  __u64 *slot = bpf_dynptr_data(&dp, 0, sizeof(__u64));
  bpf_ringbuf_submit_dynptr(&dp, 0);
  if (slot) *(volatile __u64 *)slot = 42;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
