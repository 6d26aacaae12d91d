// verdict: accept
// bpf_user_ringbuf_drain: the callback gets (const struct bpf_dynptr *, ctx); it copies the sample's
// first bytes out with bpf_dynptr_read, sums them into the caller's stack through ctx, and returns
// 0 (continue) or 1 (stop).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

struct sum_ctx {
  __u64 total;
};

static long add_sample(struct bpf_dynptr *dynptr, struct sum_ctx *ctx) {
  __u64 word = 0;
  if (bpf_dynptr_read(&word, sizeof word, dynptr, 0, 0) == 0) ctx->total += word;
  return ctx->total > 100 ? 1 : 0;
}

SEC("xdp")
int user_ringbuf_drain_read(struct xdp_md *xdp) {
  struct sum_ctx ctx = {0};
  long n = bpf_user_ringbuf_drain(&samples, add_sample, &ctx, 0);
  return (ctx.total + n) & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
