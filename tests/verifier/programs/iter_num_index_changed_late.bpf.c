// verdict: reject
// error: invalid access to map value
// The index k is read at the top of the body and may change after the read: an iteration that ends
// with k = 1000 differs from the earlier ones in a precise register, so the loop goes round again and
// the next read is past the value.
#include "iter_value.h"
SEC("xdp")
int iter_num_index_changed_late(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  __u32 *arr = iter_value();
  __u32 k = 0, sum = 0;
  if (!arr) return XDP_ABORTED;
  ITER_REPEAT(it, 4) {
    sum += arr[k];
    if (bpf_get_prandom_u32() & 1) {
      k = 1000;
      asm volatile("" : "+r"(k));
    }
    asm volatile("" : "+r"(k));
  }
  bpf_iter_num_destroy(&it);
  arr[0] = sum;
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
