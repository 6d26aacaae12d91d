// Programs for bench/bench_maps.cpp: an empty XDP program (the baseline) and one hash / one array
// lookup each. The key comes from the packet so neither compiler nor verifier can fold the lookup.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1 << 20);
  __type(key, __u64);
  __type(value, __u64);
} hash1m SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u64);
} array1k SEC(".maps");

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

char _license[] SEC("license") = "GPL";
