// verdict: reject
// Reserving a second ring buffer dynptr into the slots of one still held is refused (its reference
// would be lost), though both are released afterwards.
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_reserve_over(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  bpf_ringbuf_discard_dynptr(&dp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
