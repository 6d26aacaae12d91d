// bpf_loop over the packet: a callback sums 16-bit words and finds the largest byte, stopping early
// (callback returns 1) at a 0xFF byte; results go to global variables and the verdict.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct loop_ctx {
  void *data, *data_end;
  __u64 sum;
  __u32 max_byte, steps;
};

__u64 last_sum;
__u32 last_max, last_steps;
long loops_run;

static int sum_step(__u32 i, struct loop_ctx *c) {
  __u8 *p = c->data + (i & 0x7ff) * 2;
  if ((void *)(p + 2) > c->data_end) return 1;
  c->steps++;
  c->sum += (p[0] << 8) | p[1];
  if (p[0] > c->max_byte) c->max_byte = p[0];
  return p[1] == 0xFF;
}

SEC("xdp")
int loop_sum(struct xdp_md *ctx) {
  struct loop_ctx c = {.data = (void *)(long)ctx->data, .data_end = (void *)(long)ctx->data_end};
  __u32 n = (ctx->data_end - ctx->data) / 2;
  long r = bpf_loop(n, sum_step, &c, 0);
  if (r < 0) return XDP_ABORTED;
  loops_run += r;
  last_sum = c.sum;
  last_max = c.max_byte;
  last_steps = c.steps;
  return (c.sum & 1) ? XDP_TX : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
