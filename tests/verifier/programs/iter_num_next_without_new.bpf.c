// verdict: reject
// error: expected an initialized iter_num
// bpf_iter_num_next on stack bytes bpf_iter_num_new never initialised.
#include "iter_value.h"
SEC("xdp")
int iter_num_next_without_new(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  int *p = bpf_iter_num_next(&it);
  bpf_iter_num_destroy(&it);
  return p ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
