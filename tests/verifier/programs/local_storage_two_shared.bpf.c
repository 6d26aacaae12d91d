// verdict: reject
// error: only one cgroup storage of each type is allowed
// A program may reference one shared cgroup storage map at most (bpf_cgroup_storage_assign), used or not.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
  __type(key, struct bpf_cgroup_storage_key);
  __type(value, __u64);
} packets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
  __type(key, struct bpf_cgroup_storage_key);
  __type(value, __u64);
} bytes SEC(".maps");

SEC("cgroup_skb/egress")
int local_storage_two_shared(struct __sk_buff *skb) {
  __u64 *p = bpf_get_local_storage(&packets, 0);
  *p += 1;
  if (skb->len > 1000) {
    __u64 *b = bpf_get_local_storage(&bytes, 0);
    *b += skb->len;
  }
  return 1;
}

char _license[] SEC("license") = "GPL";
