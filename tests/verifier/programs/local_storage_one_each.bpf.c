// verdict: accept
// One shared and one per-CPU cgroup storage map: the limit is one of each type.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
  __type(key, struct bpf_cgroup_storage_key);
  __type(value, __u64);
} total SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE);
  __type(key, struct bpf_cgroup_storage_key);
  __type(value, __u64);
} per_cpu SEC(".maps");

SEC("cgroup_skb/ingress")
int local_storage_one_each(struct __sk_buff *skb) {
  __u64 *t = bpf_get_local_storage(&total, 0), *c = bpf_get_local_storage(&per_cpu, 0);
  *t += skb->len;
  *c += 1;
  return 1;
}

char _license[] SEC("license") = "GPL";
