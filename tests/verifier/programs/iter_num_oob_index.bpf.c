// verdict: reject
// error: invalid access to map value
// An array indexed with the iterator's value without a check: the verifier does not know the value
// is in [0, 16) (it is an unknown number), so the access may leave the map value.
#include "iter_value.h"

SEC("xdp")
int iter_num_oob_index(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  __u32 *arr = iter_value();
  __u32 sum = 0;
  int *p;
  if (!arr) return XDP_ABORTED;
  bpf_iter_num_new(&it, 0, 16);
  while ((p = bpf_iter_num_next(&it))) sum += arr[*p & 0xff];
  bpf_iter_num_destroy(&it);
  arr[0] = sum;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
