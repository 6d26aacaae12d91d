// verdict: accept
// A static function is still verified inline at each call: its unchecked dereference is safe because
// this caller passes a valid stack buffer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline int first(int *p) {
  return *p;
}

SEC("xdp")
int xdp_static_ptr(struct xdp_md *ctx) {
  int buf[2] = {ctx->ingress_ifindex, 2};
  return first(buf) & 3;
}

char LICENSE[] SEC("license") = "GPL";
