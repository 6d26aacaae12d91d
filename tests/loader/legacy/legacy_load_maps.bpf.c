/* samples/bpf (bpf_load.c) style: 28-byte map definitions with inner_map_idx, a map-in-map whose
 * inner template is the map at that index and whose value_size is left 0 (samples/bpf's test_map_in_map_kern.c,
 * Katran's lru_maps_mapping; bpf_load.c passed 4), static programs in "socket<N>" sections. */
#include "legacy_helpers.h"

struct bpf_load_map_def SEC("maps") counts = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 256,
};
struct bpf_load_map_def SEC("maps") templ = {
    .type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 4, .max_entries = 16,
};
struct bpf_load_map_def SEC("maps") tables = {
    .type = BPF_MAP_TYPE_HASH_OF_MAPS, .key_size = 4, .max_entries = 4, .inner_map_idx = 1, /* no value_size */
};
struct bpf_load_map_def SEC("maps") jmp_table = {
    .type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 8,
};

SEC("socket1") static int count_proto(struct __sk_buff *skb) {
  __u32 key = skb->protocol & 0xff;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (v) __sync_fetch_and_add(v, skb->len);
  bpf_tail_call(skb, &jmp_table, 1);
  return 0;
}

SEC("socket2") int lookup_nested(struct __sk_buff *skb) {
  __u32 key = 0;
  void *t = bpf_map_lookup_elem(&tables, &key);
  if (!t) return 0;
  __u32 *v = bpf_map_lookup_elem(t, &key);
  return v ? *v : 0;
}

SEC("socket3") int out_of_bounds(struct __sk_buff *skb) {
  __u32 key = 300; /* constant key past max_entries: fine, lookup returns NULL at run time */
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  return v ? v[1] : 0; /* reads past the 8-byte value: the kernel rejects */
}

char _license[] SEC("license") = "GPL";
