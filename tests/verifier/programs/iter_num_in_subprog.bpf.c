// verdict: accept
// An iterator loop in a static subprogram called twice, with a constant and with a bounded count.
#include "iter_value.h"
static __noinline int sum_to(int n) {
  struct bpf_iter_num it;
  int s = 0, *p;
  bpf_iter_num_new(&it, 0, n);
  while ((p = bpf_iter_num_next(&it))) s += *p;
  bpf_iter_num_destroy(&it);
  return s;
}
SEC("xdp")
int iter_num_in_subprog(struct xdp_md *xdp) {
  __u32 *arr = iter_value();
  if (!arr) return XDP_ABORTED;
  arr[0] = sum_to(10) + sum_to(arr[1] & 7);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
