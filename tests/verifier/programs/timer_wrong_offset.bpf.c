// verdict: reject
// error: bpf_timer
// The timer argument must point at the value's struct bpf_timer, not elsewhere in it.
#include "timer_value.h"

SEC("xdp")
int timer_wrong_offset(struct xdp_md *xdp) {
  __u32 key = 1;
  struct elem *v = bpf_map_lookup_elem(&timers, &key);
  if (!v) return XDP_PASS;
  bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
  bpf_timer_set_callback(&v->t, on_timer);
  bpf_timer_start((struct bpf_timer *)&v->fired, 1000, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
