// verdict: accept
// Each arm reserves its own record into the same slots (two references, one per path); the join
// submits whichever is there.
#include "ringbuf_dynptr.h"

SEC("xdp")
int ringbuf_dynptr_branches(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  __u32 len = xdp->data_end - xdp->data;
  if (len > 100)
    bpf_ringbuf_reserve_dynptr(&records, 16, 0, &dp);
  else
    bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  __u64 *head = bpf_dynptr_data(&dp, 0, sizeof(__u64));
  if (head) *head = len;
  bpf_ringbuf_submit_dynptr(&dp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
