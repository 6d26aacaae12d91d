// verdict: reject
// error: bpf_timer cannot be accessed directly
// A store into the value's struct bpf_timer is refused.
#include "timer_value.h"

SEC("xdp")
int timer_field_store(struct xdp_md *xdp) {
  __u32 key = 1;
  struct elem *v = bpf_map_lookup_elem(&timers, &key);
  if (!v) return XDP_PASS;
  bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
  bpf_timer_set_callback(&v->t, on_timer);
  bpf_timer_start(&v->t, 1000, 0);
  *(volatile __u64 *)&v->t = 0;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
