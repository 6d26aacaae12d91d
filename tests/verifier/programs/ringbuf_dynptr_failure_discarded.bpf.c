// verdict: accept
// A failed reservation (non-zero result) still holds the dynptr's reference: that path discards it,
// the other submits it.
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_failure_discarded(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  if (bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp)) {
    bpf_ringbuf_discard_dynptr(&dp, 0);
    return XDP_DROP;
  }
  bpf_ringbuf_submit_dynptr(&dp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
