// verdict: reject
// A REUSEPORT_SOCKARRAY reaches programs only through bpf_sk_select_reuseport (check_map_func_compatibility):
// bpf_map_lookup_elem on it is refused ("cannot pass map_type 20 into func bpf_map_lookup_elem#1").
#include "reuseport_array.h"

SEC("socket")
int reuseport_array_lookup(struct __sk_buff *skb) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&reuse, &key) != 0;
}

char LICENSE[] SEC("license") = "GPL";
