// verdict: reject
// error: map
// bpf_timer_init must name the map the timer lives in.
#include "timer_value.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, struct elem);
} others SEC(".maps");

SEC("xdp")
int timer_init_other_map(struct xdp_md *xdp) {
  __u32 key = 1;
  struct elem *v = bpf_map_lookup_elem(&timers, &key);
  if (!v) return XDP_PASS;
  bpf_timer_init(&v->t, &others, CLOCK_MONOTONIC);
  bpf_timer_set_callback(&v->t, on_timer);
  bpf_timer_start(&v->t, 1000, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
