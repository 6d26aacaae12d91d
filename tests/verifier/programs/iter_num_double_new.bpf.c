// verdict: reject
// error: expected uninitialized iter_num
// bpf_iter_num_new on an iterator already initialised (the kernel's is_iter_reg_valid_uninit).
#include "iter_value.h"

SEC("xdp")
int iter_num_double_new(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  bpf_iter_num_new(&it, 0, 4);
  bpf_iter_num_new(&it, 0, 8);
  bpf_iter_num_destroy(&it);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
