// verdict: reject
// error: invalid access to map value
// A pointer into the map value moves 4 bytes every iteration and is read unchecked: the states of two
// iterations differ in the pointer's offset, so the loop must not converge; the 17th read is past the
// 64-byte value.
#include "iter_value.h"

SEC("xdp")
int iter_num_pointer_grows(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  __u32 *arr = iter_value();
  __u32 sum = 0;
  if (!arr) return XDP_ABORTED;
  __u32 *p = arr;
  ITER_REPEAT(it, 100) {
    sum += *p;
    p++;
  }
  bpf_iter_num_destroy(&it);
  arr[0] = sum;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
