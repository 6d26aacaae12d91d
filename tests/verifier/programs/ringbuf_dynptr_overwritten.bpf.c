// verdict: reject
// A store into a ring buffer dynptr's slots is refused ("cannot overwrite referenced dynptr"), where
// it would only destroy a local dynptr.
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_overwritten(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  *((volatile __u64 *)&dp + 1) = 3;
  bpf_ringbuf_discard_dynptr(&dp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
