/* libbpf 0.x style: 20-byte struct bpf_map_def definitions, one of them a map-in-map. The struct has
 * no field naming an inner map: the application gave the template (bpf_map__set_inner_map_fd) before
 * loading. `plain` does not touch the map-in-map; `nested` looks up through it. `plain` also calls a
 * static function kept in a code section of its own, which cilium/ebpf links (libbpf only .text). */
#include "legacy_helpers.h"

struct bpf_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct bpf_map_def SEC("maps") counts = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 4,
};
struct bpf_map_def SEC("maps") inner_template = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 2,
};
struct bpf_map_def SEC("maps") outer = {
    .type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .key_size = 4, .value_size = 4, .max_entries = 2,
};

static __attribute__((noinline)) SEC("other") int twice(unsigned int x) { return x * 2; }

SEC("socket") int plain(struct __sk_buff *skb) {
  __u32 key = 1;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (v) __sync_fetch_and_add(v, 1);
  return twice(skb->len);
}

SEC("socket") int nested(struct __sk_buff *skb) {
  __u32 key = 0;
  void *inner = bpf_map_lookup_elem(&outer, &key);
  if (!inner) return 1;
  __u32 *v = bpf_map_lookup_elem(inner, &key);
  return v ? *v : 2;
}

char _license[] SEC("license") = "GPL";
