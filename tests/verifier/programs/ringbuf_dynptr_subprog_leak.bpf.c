// verdict: reject
// A static function reserves a dynptr in its own frame and returns without releasing it: the
// reference outlives the frame and leaks.
#include "ringbuf_dynptr.h"

static __attribute__((noinline)) int reserve_only(__u64 word) {
  struct bpf_dynptr dp;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  bpf_dynptr_write(&dp, 0, &word, sizeof word, 0);
  return 0;
}

SEC("xdp")
int ringbuf_dynptr_subprog_leak(struct xdp_md *xdp) {
  reserve_only(xdp->data_end - xdp->data);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
