// verdict: reject
// error: R0
// A bpf_timer callback returns 0; 1 is refused.
#define TIMER_CALLBACK_RESULT 1
#include "timer_value.h"

SEC("xdp")
int timer_callback_return_1(struct xdp_md *xdp) {
  __u32 key = 1;
  struct elem *v = bpf_map_lookup_elem(&timers, &key);
  if (!v) return XDP_PASS;
  bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
  bpf_timer_set_callback(&v->t, on_timer);
  bpf_timer_start(&v->t, 1000, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
