// verdict: reject
// error: tracing progs cannot use bpf_timer
// Tracing program types may not use a map whose value holds a bpf_timer.
#include "timer_value.h"

SEC("kprobe/do_nanosleep")
int timer_kprobe(void *ctx) {
  __u32 key = 1;
  struct elem *v = bpf_map_lookup_elem(&timers, &key);
  if (!v) return 0;
  bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
  bpf_timer_set_callback(&v->t, on_timer);
  bpf_timer_start(&v->t, 1000, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
