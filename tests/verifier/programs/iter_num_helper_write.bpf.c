// verdict: reject
// error: the bytes are an iterator's
// A helper buffer over the iterator's last byte (bpf_probe_read_kernel): only the iterator kfuncs use its bytes.
#include "iter_value.h"
SEC("xdp")
int iter_num_helper_write(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  bpf_iter_num_new(&it, 0, 4);
  bpf_probe_read_kernel((char *)&it + 7, 1, 0);
  bpf_iter_num_destroy(&it);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
