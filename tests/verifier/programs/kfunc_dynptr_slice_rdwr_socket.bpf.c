// verdict: reject
// bpf_dynptr_slice_rdwr on a local dynptr: the 6.18 kernel refuses it from every type measured (xdp,
// tc, socket: "bpf_dynptr_slice_rdwr() is not allowed"); bpfvm does not register it (not supported yet).
#include "dynptr_kfuncs.h"
#include "dynptr_value.h"

SEC("socket")
int kfunc_dynptr_slice_rdwr_socket(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  __u64 *val = dynptr_value();
  if (!val) return 0;
  bpf_dynptr_from_mem(val, 32, 0, &dp);
  __u64 *w = bpf_dynptr_slice_rdwr(&dp, 0, NULL, 8);
  if (w) *w = 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
