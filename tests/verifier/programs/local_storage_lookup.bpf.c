// verdict: reject
// error: cannot pass map_type 19 into func bpf_map_lookup_elem
// A cgroup storage map is only for bpf_get_local_storage, never map_lookup_elem (check_map_func_compatibility).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
  __type(key, struct bpf_cgroup_storage_key);
  __type(value, __u64);
} counter SEC(".maps");

SEC("cgroup_skb/egress")
int local_storage_lookup(struct __sk_buff *skb) {
  struct bpf_cgroup_storage_key key = {};
  __u64 *c = bpf_map_lookup_elem(&counter, &key);
  if (c) *c += 1;
  return 1;
}

char _license[] SEC("license") = "GPL";
