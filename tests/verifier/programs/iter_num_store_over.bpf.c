// verdict: reject
// error: expected an initialized iter_num
// A store over the iterator's slot ends it: destroy then finds no iterator there.
#include "iter_value.h"
SEC("xdp")
int iter_num_store_over(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  bpf_iter_num_new(&it, 0, 4);
  *(volatile __u64 *)&it = 0;
  bpf_iter_num_destroy(&it);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
