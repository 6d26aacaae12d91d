// verdict: reject
// error: write into read-only
// A store through bpf_iter_num_next's result: the int it points to is read-only.
#include "iter_value.h"
SEC("xdp")
int iter_num_write_value(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  int *p;
  bpf_iter_num_new(&it, 0, 4);
  while ((p = bpf_iter_num_next(&it))) *p = 3;
  bpf_iter_num_destroy(&it);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
