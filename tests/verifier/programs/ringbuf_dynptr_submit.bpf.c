// verdict: accept
// A ring buffer dynptr written through bpf_dynptr_write, read back, then submitted.
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_submit(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  __u64 word = 7, back = 0;
  bpf_ringbuf_reserve_dynptr(&records, 16, 0, &dp);
  bpf_dynptr_write(&dp, 0, &word, sizeof word, 0);
  bpf_dynptr_read(&back, sizeof back, &dp, 8, 0);
  bpf_ringbuf_submit_dynptr(&dp, 0);
  return back & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
