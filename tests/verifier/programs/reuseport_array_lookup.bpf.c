// verdict: reject
// A REUSEPORT_SOCKARRAY reaches programs only through bpf_sk_select_reuseport (check_map_func_compatibility):
// bpf_map_lookup_elem on it is refused ("cannot pass map_type 20 into func bpf_map_lookup_elem#1").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} reuse SEC(".maps");

SEC("socket")
int reuseport_array_lookup(struct __sk_buff *skb) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&reuse, &key) != 0;
}

char LICENSE[] SEC("license") = "GPL";
