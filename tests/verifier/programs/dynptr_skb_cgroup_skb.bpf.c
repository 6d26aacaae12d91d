// verdict: accept
// cgroup_skb may call bpf_dynptr_from_skb; bpf_dynptr_data on an skb dynptr is accepted (it returns
// NULL at run time: skb dynptrs are read through bpf_dynptr_slice).
#include "dynptr_packet.h"

__u32 rdonly_seen;

SEC("cgroup_skb/egress")
int dynptr_skb_cgroup_skb(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return 1;
  __u8 *d = bpf_dynptr_data(&dp, 0, 1);
  if (d) return 0;
  if (bpf_dynptr_is_rdonly(&dp)) rdonly_seen++;
  return 1;
}

char LICENSE[] SEC("license") = "GPL";
