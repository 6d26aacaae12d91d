// bpf_timer: the helpers' errnos in order (timer_errnos, compared with the kernel's), and timers armed
// for the host to fire (timer_arm: each array slot's timer at its own delay; timer_hash: a hash value's).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define EXPIRE_NEVER 3600000000000ull  // an hour: the kernel never fires it while the test runs

struct elem {
  __u64 fired;  // the callback's count of calls
  struct bpf_timer t;
  __u64 order;  // the value of `sequence` when it fired
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct elem);
} timers SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct elem);
} hash_timers SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 20);
  __type(key, __u32);
  __type(value, __s64);
} results SEC(".maps");

__u64 sequence = 0;
__s64 cancel_in_callback = 0;

static void put(__u32 i, __s64 v) {
  __s64 *slot = bpf_map_lookup_elem(&results, &i);
  if (slot) *slot = v;
}

static int on_timer(void *map, __u32 *key, struct elem *value) {
  value->fired += 1;
  value->order = ++sequence;
  cancel_in_callback = bpf_timer_cancel(&value->t);  // its own timer: -EDEADLK
  return 0;
}

SEC("xdp")
int timer_errnos(struct xdp_md *xdp) {
  __u32 key = 0;
  struct elem *v = bpf_map_lookup_elem(&timers, &key);
  if (!v) return XDP_ABORTED;
  put(0, bpf_timer_cancel(&v->t));                           // -EINVAL: not initialised
  put(1, bpf_timer_set_callback(&v->t, on_timer));           // -EINVAL
  put(2, bpf_timer_start(&v->t, EXPIRE_NEVER, 0));           // -EINVAL
  put(3, bpf_timer_init(&v->t, &timers, 5));                 // -EINVAL: no such clock
  put(4, bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC));   // 0
  put(5, bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC));   // -EBUSY
  put(6, bpf_timer_start(&v->t, EXPIRE_NEVER, 0));           // -EINVAL: no callback
  put(7, bpf_timer_set_callback(&v->t, on_timer));           // 0
  put(8, bpf_timer_start(&v->t, EXPIRE_NEVER, 4));           // -EINVAL: unknown flag
  put(9, bpf_timer_start(&v->t, EXPIRE_NEVER, 0));           // 0
  put(10, bpf_timer_cancel(&v->t));                          // 1: it was armed
  put(11, bpf_timer_cancel(&v->t));                          // 0
  put(12, bpf_timer_start(&v->t, EXPIRE_NEVER, 0));          // -EINVAL: cancel dropped the callback
  put(13, bpf_timer_set_callback(&v->t, on_timer));          // 0
  put(14, bpf_timer_start(&v->t, EXPIRE_NEVER, 2));          // 0: BPF_F_TIMER_CPU_PIN
  put(15, bpf_timer_cancel(&v->t));                          // 1
  return XDP_PASS;
}

// Slot k (1..3) armed to fire after (4 - k) * 1000 ns: slot 3 first, then 2, then 1.
SEC("xdp")
int timer_arm(struct xdp_md *xdp) {
  for (__u32 k = 1; k < 4; k++) {
    __u32 key = k;
    struct elem *v = bpf_map_lookup_elem(&timers, &key);
    if (!v) return XDP_ABORTED;
    bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
    bpf_timer_set_callback(&v->t, on_timer);
    bpf_timer_start(&v->t, (4 - k) * 1000, 0);
  }
  return XDP_PASS;
}

// A hash value's timer at 500 ns (created when missing).
SEC("xdp")
int timer_hash(struct xdp_md *xdp) {
  __u32 key = 7;
  struct elem zero = {};
  bpf_map_update_elem(&hash_timers, &key, &zero, BPF_NOEXIST);
  struct elem *v = bpf_map_lookup_elem(&hash_timers, &key);
  if (!v) return XDP_ABORTED;
  bpf_timer_init(&v->t, &hash_timers, CLOCK_MONOTONIC);
  bpf_timer_set_callback(&v->t, on_timer);
  return bpf_timer_start(&v->t, 500, 0) == 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
