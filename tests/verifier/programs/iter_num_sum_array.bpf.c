// verdict: accept
// An open-coded iterator loop over a map value: the value is an unknown number, so the body checks it
// against the array before indexing; the accumulator converges by widening, not by 16 unrolled rounds.
#include "iter_value.h"

SEC("xdp")
int iter_num_sum_array(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  __u32 *arr = iter_value();
  __u32 sum = 0;
  int i;
  if (!arr) return XDP_ABORTED;
  ITER_FOR(it, i, 0, 16) {
    if (i >= 0 && i < 16) sum += arr[i];
  }
  bpf_iter_num_destroy(&it);
  arr[0] = sum;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
