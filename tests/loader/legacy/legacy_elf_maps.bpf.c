/* tc programs with iproute2's struct bpf_elf_map: pinning values libbpf 1.x refuses, map-in-map
 * through id / inner_id / inner_idx, a perf_event_array with max_elem 0 (one slot per CPU) and a
 * ring buffer declared through the legacy struct with a size that is not a power of 2 pages. */
#include "legacy_helpers.h"

#define INNER_ID 42

struct bpf_elf_map SEC("maps") flows = {
    .type = BPF_MAP_TYPE_HASH, .size_key = 4, .size_value = 8, .max_elem = 1024, .pinning = PIN_GLOBAL_NS,
};
struct bpf_elf_map SEC("maps") per_ns = {
    .type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 4, .pinning = PIN_OBJECT_NS,
};
struct bpf_elf_map SEC("maps") custom_pin = {
    .type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 1, .pinning = 5,
};
struct bpf_elf_map SEC("maps") inner = {
    .type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 1, .id = INNER_ID, .inner_idx = 1,
};
struct bpf_elf_map SEC("maps") outer = {
    .type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 2, .inner_id = INNER_ID,
};
struct bpf_elf_map SEC("maps") events = {
    .type = BPF_MAP_TYPE_PERF_EVENT_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 0,
};
struct bpf_elf_map SEC("maps") rb = {
    .type = BPF_MAP_TYPE_RINGBUF, .max_elem = 10000,
};

/* Static: clang refers to it through the "maps" section symbol, its offset in the lddw's imm. */
static struct bpf_elf_map SEC("maps") drops = {
    .type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 2,
};

SEC("classifier") int cls_count(struct __sk_buff *skb) {
  __u32 key = skb->ifindex;
  __u64 *n = bpf_map_lookup_elem(&flows, &key);
  if (n) {
    __sync_fetch_and_add(n, 1);
  } else {
    __u64 one = 1;
    bpf_map_update_elem(&flows, &key, &one, BPF_ANY);
  }
  __u32 zero = 0;
  __u64 *v = bpf_map_lookup_elem(&per_ns, &zero);
  if (v) *v += skb->len;
  __u32 one = 1;
  __u64 *d = bpf_map_lookup_elem(&drops, &one);
  if (d) *d += 1;
  return 0;
}

SEC("classifier/inner") int cls_inner(struct __sk_buff *skb) {
  __u32 slot = 1, zero = 0;
  void *in = bpf_map_lookup_elem(&outer, &slot);
  if (!in) return 2;
  __u32 *val = bpf_map_lookup_elem(in, &zero);
  return val ? *val : 1;
}

SEC("action") int act_events(struct __sk_buff *skb) {
  __u32 len = skb->len;
  bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU, &len, sizeof(len));
  __u32 *rec = bpf_ringbuf_reserve(&rb, 4, 0);
  if (rec) {
    *rec = len;
    bpf_ringbuf_submit(rec, 0);
  }
  __u32 zero = 0;
  __u32 *c = bpf_map_lookup_elem(&custom_pin, &zero);
  return c ? *c : 0;
}

char __license[] SEC("license") = "GPL";
