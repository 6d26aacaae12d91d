// verdict: reject
// error: R0 invalid mem access 'scalar'
// bpf_iter_num_next's result read without the NULL check: the drained iterator returns NULL.
#include "iter_value.h"

SEC("xdp")
int iter_num_null_unchecked(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  bpf_iter_num_new(&it, 0, 4);
  int *p = bpf_iter_num_next(&it);
  int v = *p;
  bpf_iter_num_destroy(&it);
  return v == 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
