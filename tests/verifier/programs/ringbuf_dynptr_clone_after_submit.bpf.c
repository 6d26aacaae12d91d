// verdict: reject
// A bpf_dynptr_clone of a ring buffer dynptr holds the same reference: submitting the original
// invalidates the clone, so writing through it afterwards is refused.
#include "ringbuf_dynptr.h"
#include "dynptr_kfuncs.h"

SEC("xdp")
int ringbuf_dynptr_clone_after_submit(struct xdp_md *xdp) {
  struct bpf_dynptr dp, copy;
  __u64 v = 7;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  bpf_dynptr_clone(&dp, &copy);
  bpf_ringbuf_submit_dynptr(&dp, 0);
  bpf_dynptr_write(&copy, 0, &v, sizeof v, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
