// verdict: accept
// bpf_get_local_storage never returns NULL: a program writes the value without a check, within its size.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE);
  __type(key, __u64);
  __type(value, __u64[2]);
} pair SEC(".maps");

SEC("cgroup_skb/egress")
int local_storage_write(struct __sk_buff *skb) {
  __u64 *v = bpf_get_local_storage(&pair, 0);
  v[0] += skb->len;
  v[1] += 1;
  return 1;
}

char _license[] SEC("license") = "GPL";
