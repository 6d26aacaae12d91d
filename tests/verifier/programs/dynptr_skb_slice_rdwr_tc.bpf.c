// verdict: reject
// bpf_dynptr_slice_rdwr on an skb dynptr in tc (a writable type): the 6.18 test kernel refuses it here
// too ("bpf_dynptr_slice_rdwr() is not allowed"), as on local dynptrs; bpfvm does not register it.
#include "dynptr_packet.h"

SEC("tc")
int dynptr_skb_slice_rdwr_tc(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return 1;
  __u8 *w = bpf_dynptr_slice_rdwr(&dp, 0, NULL, 2);
  if (!w) return 2;
  w[0] = 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
