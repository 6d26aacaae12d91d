// verdict: accept
// A socket filter may use bpf_timer (the kernel refuses only tracing types).
#include "timer_value.h"

SEC("socket")
int timer_socket_filter(struct __sk_buff *skb) {
  __u32 key = 1;
  struct elem *v = bpf_map_lookup_elem(&timers, &key);
  if (!v) return 0;
  bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
  bpf_timer_set_callback(&v->t, on_timer);
  bpf_timer_start(&v->t, 1000, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
