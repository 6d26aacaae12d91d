// verdict: reject
// A bpf_dynptr_slice of a ring buffer dynptr dies with the record's release: reading it after the submit
// is refused.
#include "ringbuf_dynptr.h"
#include "dynptr_kfuncs.h"

SEC("xdp")
int ringbuf_dynptr_kfunc_slice_after_submit(struct xdp_md *xdp) {
  struct bpf_dynptr dp;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  __u64 *p = bpf_dynptr_slice(&dp, 0, NULL, 8);
  bpf_ringbuf_submit_dynptr(&dp, 0);
  if (!p) return XDP_ABORTED;
  return *p == 3 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
