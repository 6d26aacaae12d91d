// Example 2: a legacy SEC("maps") definition next to BTF-defined maps — hash, array, a prog_array with
// an __array initialiser (tail calls) and an array-of-maps with an inner-map initialiser.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// The pre-BTF map definition (libbpf 1.x dropped it from bpf_helpers.h; older objects still carry it).
struct bpf_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_counts = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 16,
};

struct flow_key {
  __u32 saddr, daddr;
  __u16 sport, dport;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct flow_key);
  __type(value, __u64);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

struct inner_map {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner_map);
} outer SEC(".maps") = {
    .values = {[0] = &inner_a, [3] = &inner_b},
};

int tail_a(struct __sk_buff *skb);
int tail_b(struct __sk_buff *skb);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __array(values, int(void *));
} jump_table SEC(".maps") = {
    .values = {[1] = (void *)&tail_a, [5] = (void *)&tail_b},
};

SEC("tc")
int tail_a(struct __sk_buff *skb) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&stats, &key);
  if (v) __sync_fetch_and_add(v, 1);
  return 0;
}

SEC("tc")
int tail_b(struct __sk_buff *skb) { return 1; }

SEC("tc")
int classify(struct __sk_buff *skb) {
  struct flow_key k = {.saddr = skb->mark, .daddr = skb->priority, .sport = 1, .dport = 2};
  __u64 one = 1, *v = bpf_map_lookup_elem(&flows, &k);
  if (v) (*v)++;
  else bpf_map_update_elem(&flows, &k, &one, BPF_ANY);
  __u32 idx = skb->len & 15;
  __u64 *c = bpf_map_lookup_elem(&legacy_counts, &idx);
  if (c) (*c)++;
  __u32 zero = 0;
  void *inner = bpf_map_lookup_elem(&outer, &zero);
  if (inner) bpf_map_lookup_elem(inner, &zero);
  bpf_tail_call(skb, &jump_table, skb->len & 7);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x060100;
