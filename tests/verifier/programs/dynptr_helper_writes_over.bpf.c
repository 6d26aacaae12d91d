// verdict: reject
// A helper's output buffer may not cover a dynptr: bpf_dynptr_read into the dynptr's own bytes is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64[4]);
} values SEC(".maps");

SEC("xdp")
int dynptr_helper_writes_over(struct xdp_md *xdp) {
  __u32 key = 0;
  __u64 *buf = bpf_map_lookup_elem(&values, &key);
  if (!buf) return XDP_ABORTED;
  struct bpf_dynptr dp;
  bpf_dynptr_from_mem(buf, 32, 0, &dp);
  bpf_dynptr_read(&dp, 8, &dp, 0, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
