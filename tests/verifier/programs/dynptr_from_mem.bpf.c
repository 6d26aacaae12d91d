// verdict: accept
// bpf_dynptr_from_mem over a map value: bpf_dynptr_write, bpf_dynptr_read and bpf_dynptr_data
// (NULL-checked) on the local dynptr; a dynptr's slots may be initialised again.
#include "dynptr_value.h"

SEC("xdp")
int dynptr_from_mem(struct xdp_md *xdp) {
  __u64 word = 7, out = 0;
  struct bpf_dynptr dp;
  __u64 *val = dynptr_value();
  if (!val) return XDP_ABORTED;
  bpf_dynptr_from_mem(val, 16, 0, &dp);
  bpf_dynptr_write(&dp, 8, &word, sizeof word, 0);
  bpf_dynptr_read(&out, sizeof out, &dp, 0, 0);
  bpf_dynptr_from_mem(val, 32, 0, &dp);
  __u64 *slice = bpf_dynptr_data(&dp, 16, 8);
  if (slice) out += *slice;
  return out == 10 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
