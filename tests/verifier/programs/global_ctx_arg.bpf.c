// verdict: accept
// `struct xdp_md *` is the XDP context: the global function gets PTR_TO_CTX and may read packet
// pointers from it; the caller must pass the unmodified ctx.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int first_byte(struct xdp_md *ctx) {
  unsigned char *data = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  if (data + 1 > end) return 0;
  return data[0];
}

SEC("xdp")
int xdp_ctx_arg(struct xdp_md *ctx) {
  return first_byte(ctx) & 3;
}

char LICENSE[] SEC("license") = "GPL";
