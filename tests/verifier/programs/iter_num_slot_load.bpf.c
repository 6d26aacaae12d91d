// verdict: reject
// error: invalid read from stack
// A load of the iterator's bytes: only its kfuncs use them.
#include "iter_value.h"
SEC("xdp")
int iter_num_slot_load(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  bpf_iter_num_new(&it, 0, 4);
  __u64 v = *(volatile __u64 *)&it;
  bpf_iter_num_destroy(&it);
  return v ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
