// verdict: accept
// An object holding a REUSEPORT_SOCKARRAY (key u32, value u64: socket fds in, cookies out) that this
// program does not use: the map is created at load (it was refused before: not implemented).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} reuse SEC(".maps");

SEC("socket")
int reuseport_array_unused(struct __sk_buff *skb) { return skb->len > 64; }

char LICENSE[] SEC("license") = "GPL";
