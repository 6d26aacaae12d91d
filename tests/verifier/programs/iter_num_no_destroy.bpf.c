// verdict: reject
// error: Unreleased reference
// An open-coded iterator never destroyed: it holds a reference from bpf_iter_num_new, so the exit leaks it.
#include "iter_value.h"

SEC("xdp")
int iter_num_no_destroy(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  __u32 *arr = iter_value();
  int i, sum = 0;
  if (!arr) return XDP_ABORTED;
  ITER_FOR(it, i, 0, 8) sum += i;
  arr[0] = sum;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
