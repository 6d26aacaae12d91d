// verdict: reject
// A ring buffer dynptr that is never submitted or discarded: "Unreleased reference" at exit.
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_no_release(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  __u64 word = 7;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  bpf_dynptr_write(&dp, 0, &word, sizeof word, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
