// verdict: reject
// error: Unreleased reference
// A subprogram creates an iterator in its own frame and returns without destroying it: the reference leaks.
#include "iter_value.h"
static __noinline int sub_with_iter(void) {
  struct bpf_iter_num it;
  bpf_iter_num_new(&it, 0, 1);
  return 0;
}
SEC("xdp")
int iter_num_subprog_leak(struct xdp_md *xdp) { return sub_with_iter() + XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";
