// verdict: accept
// The dynptr kfuncs work on a ring buffer dynptr: adjusted to its second half, written and sized, then
// submitted (the submit commits the whole record whatever the dynptr's window).
#include "ringbuf_dynptr.h"
#include "dynptr_kfuncs.h"

SEC("xdp")
int ringbuf_dynptr_adjusted(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  __u64 v = 7;
  bpf_ringbuf_reserve_dynptr(&records, 16, 0, &dp);
  bpf_dynptr_adjust(&dp, 8, 16);
  bpf_dynptr_write(&dp, 0, &v, sizeof v, 0);
  int n = bpf_dynptr_size(&dp);
  bpf_ringbuf_submit_dynptr(&dp, 0);
  return n == 8 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
