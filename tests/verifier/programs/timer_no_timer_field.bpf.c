// verdict: reject
// error: map has no valid bpf_timer
// A value without a struct bpf_timer cannot be passed as one.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct elem {
  __u64 a, b, c;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, struct elem);
} plain SEC(".maps");

SEC("xdp")
int timer_no_timer_field(struct xdp_md *xdp) {
  __u32 key = 1;
  struct elem *v = bpf_map_lookup_elem(&plain, &key);
  if (!v) return XDP_PASS;
  return bpf_timer_start((struct bpf_timer *)v, 1000, 0) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
