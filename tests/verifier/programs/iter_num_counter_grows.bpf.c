// verdict: reject
// error: invalid access to map value
// A counter grows every iteration and indexes the array unchecked: it is precise (an address depends
// on it), so it is not widened and the loop does not converge early; at 16 the access leaves the value.
#include "iter_value.h"

SEC("xdp")
int iter_num_counter_grows(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  __u32 *arr = iter_value();
  __u32 sum = 0, j = 0;
  if (!arr) return XDP_ABORTED;
  ITER_REPEAT(it, 100) {
    sum += arr[j];
    j++;
  }
  bpf_iter_num_destroy(&it);
  arr[0] = sum;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
