// Packet sampling through bpf_perf_event_output (xdp-tutorial tracing04 / samples/bpf xdp_sample_pkts
// style): flags = slot | sample length << 32 (BPF_F_CTXLEN_MASK) asks the helper to append that many
// packet bytes after the metadata. The perf_event_array holds no events, so a well-formed call returns
// -ENOENT; the errnos the flag and length checks give first (-EINVAL, -EFAULT, -E2BIG) are summed per
// case into globals, which the differential compares with the kernel's.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(int));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 4);
} samples SEC(".maps");

struct meta {
  __u16 cookie;
  __u16 len;
};

__s64 whole, past_end, partial, bad_flag, bad_slot, no_ctxlen;

static __always_inline void sample(void *ctx, __u64 len) {
  struct meta m = {.cookie = 0xdead, .len = len};
  whole += bpf_perf_event_output(ctx, &samples, (len << 32) | 1, &m, sizeof(m));
  past_end += bpf_perf_event_output(ctx, &samples, ((len + 1) << 32) | 1, &m, sizeof(m));
  partial += bpf_perf_event_output(ctx, &samples, ((len & 63) << 32) | 2, &m, sizeof(m));
  bad_flag += bpf_perf_event_output(ctx, &samples, (1ull << 52) | (4ull << 32), &m, sizeof(m));
  bad_slot += bpf_perf_event_output(ctx, &samples, (8ull << 32) | 7, &m, sizeof(m));
  no_ctxlen += bpf_perf_event_output(ctx, &samples, 3, &m, sizeof(m));
}

SEC("xdp")
int xdp_sample(struct xdp_md *ctx) {
  sample(ctx, ctx->data_end - ctx->data);
  return XDP_PASS;
}

SEC("tc")
int tc_sample(struct __sk_buff *skb) {
  sample(skb, skb->len);
  return 0;
}
