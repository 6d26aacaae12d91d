// verdict: reject
// A store at a variable stack offset that may land in a ring buffer dynptr's slots is refused as a
// fixed one is ("cannot overwrite referenced dynptr").
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_var_store(struct xdp_md *xdp) {
  struct {
    struct bpf_dynptr dp;
    __u64 after[2];
  } s = {};
  __u32 i = (xdp->data_end - xdp->data) & 3;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &s.dp);
  ((volatile __u64 *)&s)[i] = 1;
  bpf_ringbuf_discard_dynptr(&s.dp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
