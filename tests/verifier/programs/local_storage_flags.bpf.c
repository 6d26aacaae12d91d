// verdict: reject
// error: non-zero flags
// bpf_get_local_storage cannot fail, so its flags argument must be the constant 0 (check_helper_call).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
  __type(key, struct bpf_cgroup_storage_key);
  __type(value, __u64);
} counter SEC(".maps");

SEC("cgroup_skb/egress")
int local_storage_flags(struct __sk_buff *skb) {
  __u64 *c = bpf_get_local_storage(&counter, skb->len & 1);
  *c += 1;
  return 1;
}

char _license[] SEC("license") = "GPL";
