// verdict: accept
// A bpf_dynptr_data slice of a ring buffer dynptr is record memory until the submit.
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_slice(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  bpf_ringbuf_reserve_dynptr(&records, 16, 0, &dp);
  __u64 *slot = bpf_dynptr_data(&dp, 8, sizeof(__u64));
  if (slot) *slot = 42;
  bpf_ringbuf_submit_dynptr(&dp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
