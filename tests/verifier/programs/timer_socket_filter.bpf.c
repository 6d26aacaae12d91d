// verdict: accept
// A socket filter may use bpf_timer (the kernel refuses only tracing types).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define CLOCK_MONOTONIC 1

struct elem {
  __u64 fired;
  struct bpf_timer t;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, struct elem);
} timers SEC(".maps");

static int on_timer(void *map, __u32 *key, struct elem *value) {
  value->fired += *key + 1;
  return 0;
}

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
