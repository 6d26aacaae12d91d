// verdict: reject
// error: R0
// A bpf_for_each_map_elem callback returns 0 or 1; 2 is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} values SEC(".maps");

static long bad_return(void *map, __u32 *key, __u64 *value, void *ctx) {
  return 2;
}

SEC("xdp")
int for_each_map_elem_return_2(struct xdp_md *xdp) {
  bpf_for_each_map_elem(&values, bad_return, 0, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
