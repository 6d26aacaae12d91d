// verdict: reject
// After the submit the dynptr is no longer initialised: bpf_dynptr_read on it is refused.
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_use_after_submit(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  __u64 back = 0;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  bpf_ringbuf_submit_dynptr(&dp, 0);
  bpf_dynptr_read(&back, sizeof back, &dp, 0, 0);
  return back & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
