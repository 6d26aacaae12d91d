// verdict: reject
// error: doesn't return scalar
// Global functions must return a scalar (int or enum).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int sink;

__noinline void store(int v) {
  sink = v;
}

SEC("xdp")
int xdp_void_return(struct xdp_md *ctx) {
  store(ctx->ingress_ifindex);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
