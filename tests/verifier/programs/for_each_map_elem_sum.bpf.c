// verdict: accept
// bpf_for_each_map_elem: the callback gets (map, key, value, ctx); it reads the key, reads and writes
// the value, adds into the caller's stack through ctx, and returns 0 (continue) or 1 (stop).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

struct sum_ctx {
  __u64 total;
};

static long add_one(void *map, __u32 *key, __u64 *value, struct sum_ctx *ctx) {
  ctx->total += *value + *key;
  *value = 0;
  return ctx->total > 100 ? 1 : 0;
}

SEC("xdp")
int for_each_map_elem_sum(struct xdp_md *xdp) {
  struct sum_ctx ctx = {0};
  bpf_for_each_map_elem(&counts, add_one, &ctx, 0);
  return ctx.total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
