// verdict: accept
// An open-coded iterator loop left by `break` when it finds a value; the iterator is destroyed on
// both ways out.
#include "iter_value.h"

SEC("xdp")
int iter_num_break(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  __u32 *arr = iter_value();
  int i, found = -1;
  if (!arr) return XDP_ABORTED;
  ITER_FOR(it, i, 0, 16) {
    if (i < 0 || i >= 16) break;
    if (arr[i] == 7) {
      found = i;
      break;
    }
  }
  bpf_iter_num_destroy(&it);
  arr[4] = found;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
