// verdict: reject
// The clone and the original share one reference: submitting the clone releases it, so discarding the
// original as well is a second release.
#include "ringbuf_dynptr.h"
#include "dynptr_kfuncs.h"

SEC("xdp")
int ringbuf_dynptr_clone_released_twice(struct xdp_md *xdp) {
  struct bpf_dynptr dp, copy;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  bpf_dynptr_clone(&dp, &copy);
  bpf_ringbuf_submit_dynptr(&copy, 0);
  bpf_ringbuf_discard_dynptr(&dp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
