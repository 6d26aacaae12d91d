// verdict: reject
// error: BPF program is too large
// A precise counter that never stops changing: j decides a branch every iteration and is written to
// the array, so no iteration's state repeats an earlier one and the loop never converges; the
// exploration runs into the 1M processed-insn limit, as the kernel's does.
#include "iter_value.h"

SEC("xdp")
int iter_num_no_converge(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  __u32 *arr = iter_value();
  __u32 j = 0;
  if (!arr) return XDP_ABORTED;
  ITER_REPEAT(it, 1000) {
    if (j < 16) arr[j] = 1;
    j++;
  }
  bpf_iter_num_destroy(&it);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
