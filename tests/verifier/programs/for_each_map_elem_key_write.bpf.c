// verdict: reject
// error: write into read-only memory
// The key a bpf_for_each_map_elem callback gets is read only (PTR_TO_MAP_KEY: "write to change key").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} values SEC(".maps");

static long clear_key(void *map, __u32 *key, __u64 *value, void *ctx) {
  *key = 0;
  return 0;
}

SEC("xdp")
int for_each_map_elem_key_write(struct xdp_md *xdp) {
  bpf_for_each_map_elem(&values, clear_key, 0, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
