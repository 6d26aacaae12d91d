// verdict: accept
// A global function with scalar arguments: verified once on its own (a, b unknown scalars), the call
// site checks only that r1 and r2 are initialised scalars.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int mix(int a, int b) {
  return (a ^ b) & 3;
}

SEC("xdp")
int xdp_scalar_args(struct xdp_md *ctx) {
  return mix((int)(ctx->data_end - ctx->data), 7);
}

char LICENSE[] SEC("license") = "GPL";
