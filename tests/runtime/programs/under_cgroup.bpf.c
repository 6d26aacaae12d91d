// bpf_skb_under_cgroup from tc (samples/bpf test_cgrp2_tc style): slot 0 holds the cgroup the test
// runs in, slot 1 a child cgroup it is not in, slot 2 nothing; index 4 is past the array. The sums of
// the answers land in globals (compared with the kernel's); the verdict is slot 0's answer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 4);
} cgroups SEC(".maps");

__s64 mine, other, empty, past_end, by_len;

SEC("tc")
int under_cgroup(struct __sk_buff *skb) {
  long r = bpf_skb_under_cgroup(skb, &cgroups, 0);
  mine += r;
  other += bpf_skb_under_cgroup(skb, &cgroups, 1);
  empty += bpf_skb_under_cgroup(skb, &cgroups, 2);
  past_end += bpf_skb_under_cgroup(skb, &cgroups, 4);
  by_len += bpf_skb_under_cgroup(skb, &cgroups, skb->len & 7);
  return r;
}
