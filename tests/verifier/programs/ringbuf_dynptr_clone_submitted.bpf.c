// verdict: accept
// Submitting a clone releases the record the original reserved: one release for both.
#include "ringbuf_dynptr.h"
#include "dynptr_kfuncs.h"

SEC("xdp")
int ringbuf_dynptr_clone_submitted(struct xdp_md *xdp) {
  struct bpf_dynptr dp, copy;
  __u64 v = 9;
  bpf_ringbuf_reserve_dynptr(&records, 8, 0, &dp);
  bpf_dynptr_write(&dp, 0, &v, sizeof v, 0);
  bpf_dynptr_clone(&dp, &copy);
  bpf_ringbuf_submit_dynptr(&copy, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
