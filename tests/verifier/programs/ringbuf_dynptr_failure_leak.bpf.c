// verdict: reject
// A failed reservation still holds the dynptr's reference: returning without discarding it on that
// path leaks it ("Unreleased reference").
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_failure_leak(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  if (bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp)) return XDP_DROP;
  bpf_ringbuf_submit_dynptr(&dp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
