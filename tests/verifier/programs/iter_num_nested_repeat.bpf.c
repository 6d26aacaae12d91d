// verdict: accept
// Two nested open-coded iterators (bpf_repeat shape), each destroyed after its loop; the outer body
// counts in its own counter, the inner one in another.
#include "iter_value.h"

SEC("xdp")
int iter_num_nested_repeat(struct xdp_md *xdp) {
  struct bpf_iter_num outer, inner;
  __u32 *arr = iter_value();
  __u32 rows = 0, cells = 0;
  if (!arr) return XDP_ABORTED;
  ITER_REPEAT(outer, 4) {
    rows++;
    ITER_REPEAT(inner, 3) cells += arr[1];
    bpf_iter_num_destroy(&inner);
  }
  bpf_iter_num_destroy(&outer);
  arr[2] = rows;
  arr[3] = cells;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
