// tc program: per-flow counters updated under the value's bpf_spin_lock (a hash and an array map),
// as samples/bpf and the selftests' test_spin_lock do. The key comes from the packet.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct counters {
  struct bpf_spin_lock lock;
  __u32 last_len;
  __u64 packets;
  __u64 bytes;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, struct counters);
} flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct counters);
} total SEC(".maps");

static __always_inline void count(struct counters *c, __u32 len) {
  bpf_spin_lock(&c->lock);
  c->packets++;
  c->bytes += len;
  c->last_len = len;
  bpf_spin_unlock(&c->lock);
}

SEC("tc")
int spin_lock_count(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
  if (data + 1 > data_end) return TC_ACT_SHOT;
  __u32 key = *(__u8 *)data & 7, zero = 0;
  struct counters *c = bpf_map_lookup_elem(&flows, &key);
  if (!c) {
    struct counters fresh = {};
    bpf_map_update_elem(&flows, &key, &fresh, BPF_NOEXIST);
    c = bpf_map_lookup_elem(&flows, &key);
    if (!c) return TC_ACT_SHOT;
  }
  count(c, skb->len);
  struct counters *t = bpf_map_lookup_elem(&total, &zero);
  if (t) count(t, skb->len);
  return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
