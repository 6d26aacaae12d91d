// verdict: accept
// An LRU hash value's bpf_timer, started with BPF_F_TIMER_ABS.
#define TIMER_MAP_TYPE BPF_MAP_TYPE_LRU_HASH
#include "timer_value.h"

SEC("xdp")
int timer_lru_hash(struct xdp_md *xdp) {
  __u32 key = 1;
  struct elem *v = bpf_map_lookup_elem(&timers, &key);
  if (!v) return XDP_PASS;
  bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
  bpf_timer_set_callback(&v->t, on_timer);
  bpf_timer_start(&v->t, 1000, 1 /* BPF_F_TIMER_ABS */);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
