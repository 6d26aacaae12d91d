// verdict: reject
// error: read from map forbidden
// A helper that reads its memory argument (bpf_csum_diff's `to`) is a read of the write-only value.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __uint(map_flags, BPF_F_WRONLY_PROG);
  __type(key, __u32);
  __type(value, __u32[4]);
} words SEC(".maps");

SEC("tc")
int wronly_map_helper_read(struct __sk_buff *skb) {
  __u32 slot = 0;
  __u32 *w = bpf_map_lookup_elem(&words, &slot);
  if (!w) return 0;
  return (int)bpf_csum_diff(0, 0, w, 16, skb->len) & 1;
}

char LICENSE[] SEC("license") = "GPL";
