// Programs for bench/bench_maps.cpp: an empty XDP program (the baseline), one hash / one array lookup
// of a key taken from the packet (the cache-hot single-key case), and loops of 64 map operations per
// run on keys spread over the whole 1M-entry map (a fresh random start per run from
// bpf_get_prandom_u32): hits, misses, lookup + update(BPF_ANY) of existing keys (a flow table),
// delete + re-insert, and inserts of new keys into a full LRU map (each one evicts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define HASH_ENTRIES (1 << 20)
#define OPS 64

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, HASH_ENTRIES);
  __type(key, __u64);
  __type(value, __u64);
} hash1m SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u64);
} array1k SEC(".maps");

// A small flow table: 64 live keys (0..63, prefilled by the bench) in a 1,024-entry hash. Small
// enough to stay in cache, so the per-operation cost of the map itself shows.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u64);
  __type(value, __u64);
} flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);
  __type(value, __u64);
} lru4k SEC(".maps");

SEC("xdp")
int empty(struct xdp_md *ctx) { return XDP_PASS; }

SEC("xdp")
int hash_lookup(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
  if (data + 8 > data_end) return XDP_ABORTED;
  __u64 key = *(__u64 *)data;
  __u64 *v = bpf_map_lookup_elem(&hash1m, &key);
  return v ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int array_lookup(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
  if (data + 4 > data_end) return XDP_ABORTED;
  __u32 key = *(__u32 *)data & 1023;
  __u64 *v = bpf_map_lookup_elem(&array1k, &key);
  return v ? XDP_PASS : XDP_DROP;
}

// The i-th key of this run: prefilled keys are odd (2n + 1 for n < HASH_ENTRIES), so `odd` picks a hit
// and !odd a miss; consecutive i land far apart in the map.
static __always_inline __u64 key_at(__u32 seed, __u32 i, int odd) {
  __u32 n = (seed + i * 2654435761u) & (HASH_ENTRIES - 1);
  return (__u64)n * 2 + (odd ? 1 : 0);
}

// The empty loop: the same key arithmetic and loop with no map call (the loops' own baseline).
SEC("xdp")
int loop_only(struct xdp_md *ctx) {
  __u32 seed = bpf_get_prandom_u32();
  __u64 sum = 0;
  for (__u32 i = 0; i < OPS; i++) {
    __u64 key = key_at(seed, i, 1);
    sum += key;
    asm volatile("" : "+r"(sum));
  }
  return sum ? XDP_PASS : XDP_DROP;
}

// The loops keep flags and OR-ed errors, not counts: a count would differ on every path and give the
// verifiers (ours and the kernel's) 2^64 states to walk.
SEC("xdp")
int hash_hit64(struct xdp_md *ctx) {
  __u32 seed = bpf_get_prandom_u32();
  int missed = 0;
  for (__u32 i = 0; i < OPS; i++) {
    __u64 key = key_at(seed, i, 1);
    if (!bpf_map_lookup_elem(&hash1m, &key)) missed = 1;
  }
  return missed ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int hash_miss64(struct xdp_md *ctx) {
  __u32 seed = bpf_get_prandom_u32();
  int hit = 0;
  for (__u32 i = 0; i < OPS; i++) {
    __u64 key = key_at(seed, i, 0);
    if (bpf_map_lookup_elem(&hash1m, &key)) hit = 1;
  }
  return hit ? XDP_DROP : XDP_PASS;
}

// Issue #16's flow table: look the flow up, then write its new counter back with BPF_ANY.
SEC("xdp")
int hash_update64(struct xdp_md *ctx) {
  __u32 seed = bpf_get_prandom_u32();
  long err = 0;
  for (__u32 i = 0; i < OPS; i++) {
    __u64 key = key_at(seed, i, 1), next = 1;
    __u64 *v = bpf_map_lookup_elem(&hash1m, &key);
    if (v) next += *v;
    err |= bpf_map_update_elem(&hash1m, &key, &next, BPF_ANY);
  }
  return err ? XDP_DROP : XDP_PASS;
}

// Issue #16's case exactly: lookup + update(BPF_ANY) of the 64 existing keys of a small table.
SEC("xdp")
int flow_update64(struct xdp_md *ctx) {
  long err = 0;
  for (__u64 i = 0; i < OPS; i++) {
    __u64 key = i, next = 1;
    __u64 *v = bpf_map_lookup_elem(&flows, &key);
    if (v) next += *v;
    err |= bpf_map_update_elem(&flows, &key, &next, BPF_ANY);
  }
  return err ? XDP_DROP : XDP_PASS;
}

// Its baseline: the same loop without map calls.
SEC("xdp")
int flow_loop_only(struct xdp_md *ctx) {
  __u64 sum = 0;
  for (__u64 i = 0; i < OPS; i++) {
    sum += i;
    asm volatile("" : "+r"(sum));
  }
  return sum ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int hash_delete_insert64(struct xdp_md *ctx) {
  __u32 seed = bpf_get_prandom_u32();
  long err = 0;
  for (__u32 i = 0; i < OPS; i++) {
    __u64 key = key_at(seed, i, 1), value = i;
    err |= bpf_map_delete_elem(&hash1m, &key);
    err |= bpf_map_update_elem(&hash1m, &key, &value, BPF_NOEXIST);
  }
  return err ? XDP_DROP : XDP_PASS;
}

// Keys are new almost every time (32 random bits), so once the map is full each insert evicts.
SEC("xdp")
int lru_insert64(struct xdp_md *ctx) {
  __u32 seed = bpf_get_prandom_u32();
  long err = 0;
  for (__u32 i = 0; i < OPS; i++) {
    __u64 key = (__u64)(seed + i * 2654435761u) << 8 | i, value = i;
    err |= bpf_map_update_elem(&lru4k, &key, &value, BPF_ANY);
  }
  return err ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
