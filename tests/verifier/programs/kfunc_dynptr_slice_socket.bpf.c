// verdict: accept
// The read-only slice and the other generic dynptr kfuncs are for every program type: a socket filter.
#include "dynptr_kfuncs.h"
#include "dynptr_value.h"

SEC("socket")
int kfunc_dynptr_slice_socket(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  __u64 *val = dynptr_value();
  if (!val) return 0;
  bpf_dynptr_from_mem(val, 32, 0, &dp);
  const __u64 *r = bpf_dynptr_slice(&dp, 0, NULL, 8);
  return r ? (int)(r[0] + bpf_dynptr_size(&dp)) : 0;
}

char LICENSE[] SEC("license") = "GPL";
