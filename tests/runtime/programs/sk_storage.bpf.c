// A tc program keeping socket-local storage (BPF_MAP_TYPE_SK_STORAGE) on the host's loopback TCP
// sockets it finds in a SOCKMAP (slot skb->len & 7) and on the skb's own socket: a plain get, a get
// with an unknown flag, a get with BPF_SK_STORAGE_GET_F_CREATE and an initial value, updates through
// the pointer, and now and then a delete. What each call returned goes into `results` at slot * 8 + i;
// the host reads the storage by the sockets' fds afterwards.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "host_socket_maps.h"

struct sk_value {
  __u64 runs;
  __u64 len_sum;
  __u32 last_len;
  __u32 created_by;  // the skb->len of the run that created the value (the host's: 7)
};

struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct sk_value);
} sk_stor SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 72);
  __type(key, __u32);
  __type(value, __u64);
} results SEC(".maps");

static __always_inline void put(__u32 key, __u64 value) {
  __u64 *slot = bpf_map_lookup_elem(&results, &key);
  if (slot) *slot = value;
}

SEC("tc")
int sk_storage(struct __sk_buff *skb) {
  __u32 key = skb->len & 7;
  __u32 base = key * 8;
  struct bpf_sock *sk = bpf_map_lookup_elem(&lookup_socks, &key);
  put(base + 0, sk != 0);
  if (sk) {
    struct sk_value init = {.runs = 0, .len_sum = 0, .last_len = 0, .created_by = skb->len};
    struct sk_value *v = bpf_sk_storage_get(&sk_stor, sk, 0, 0);
    put(base + 1, v ? v->runs + 1 : 0);
    put(base + 2, bpf_sk_storage_get(&sk_stor, sk, 0, 2) != 0);  // an unknown flag: NULL
    v = bpf_sk_storage_get(&sk_stor, sk, &init, BPF_SK_STORAGE_GET_F_CREATE);
    if (v) {
      v->runs++;
      v->len_sum += skb->len;
      v->last_len = skb->len;
      put(base + 3, v->created_by);
      put(base + 4, v->runs);
    }
    if ((skb->len & 0x38) == 0x38) put(base + 5, bpf_sk_storage_delete(&sk_stor, sk) + 100);
    if ((skb->len & 0x78) == 0x78) put(base + 6, bpf_sk_storage_delete(&sk_stor, sk) + 100);  // -ENOENT now
    bpf_sk_release(sk);
  }
  // The skb's own socket (the test run's): its storage lives as long as that socket, one test run, so
  // a repeated run counts its repetitions and a new run starts from nothing.
  struct bpf_sock *own = skb->sk;
  if (own) {
    struct sk_value *v = bpf_sk_storage_get(&sk_stor, own, 0, 0);
    put(64, v != 0);
    v = bpf_sk_storage_get(&sk_stor, own, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (v) {
      v->runs++;
      put(65, v->runs);
      put(66, v->created_by);
      if (v->runs == 3) put(67, bpf_sk_storage_delete(&sk_stor, own) + 100);
    }
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
