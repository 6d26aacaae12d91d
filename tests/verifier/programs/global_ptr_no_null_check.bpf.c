// verdict: reject
// error: may be null
// A global function's pointer argument may be NULL: dereferencing it unchecked is refused even though
// the only caller passes a valid stack buffer (the kernel verifies global functions independently).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int first(int *p) {
  return *p;
}

SEC("xdp")
int xdp_ptr_no_null_check(struct xdp_md *ctx) {
  int buf[2] = {ctx->ingress_ifindex, 2};
  return first(buf) & 3;
}

char LICENSE[] SEC("license") = "GPL";
