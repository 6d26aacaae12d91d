// verdict: accept
// An array value's bpf_timer: init with its own map, a callback (map, key, value) returning 0, start.
#include "timer_value.h"

SEC("xdp")
int timer_arm_array(struct xdp_md *xdp) {
  __u32 key = 1;
  struct elem *v = bpf_map_lookup_elem(&timers, &key);
  if (!v) return XDP_PASS;
  bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
  bpf_timer_set_callback(&v->t, on_timer);
  bpf_timer_start(&v->t, 1000, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
