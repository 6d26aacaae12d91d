// verdict: accept
// Non-zero reserve flags are the helper's run-time -EINVAL (a null dynptr), not a verifier matter;
// the null dynptr is still released.
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_flags(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  long err = bpf_ringbuf_reserve_dynptr(&records, 8, 1, &dp);
  bpf_ringbuf_discard_dynptr(&dp, 0);
  return err ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
