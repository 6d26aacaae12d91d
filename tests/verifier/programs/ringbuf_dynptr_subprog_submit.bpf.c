// verdict: accept
// The dynptr lives in the caller's frame; a static function writes it and submits it.
#include "ringbuf_dynptr.h"

static __attribute__((noinline)) int fill_and_submit(struct bpf_dynptr *dp, __u64 word) {
  bpf_dynptr_write(dp, 0, &word, sizeof word, 0);
  bpf_ringbuf_submit_dynptr(dp, 0);
  return 0;
}

SEC("xdp")
int ringbuf_dynptr_subprog_submit(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  fill_and_submit(&dp, xdp->data_end - xdp->data);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
