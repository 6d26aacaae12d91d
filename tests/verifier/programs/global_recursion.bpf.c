// verdict: reject
// error: the call stack of 8 frames is too deep
// Exploration does not follow calls to global functions, so call depth (here unbounded recursion) is
// checked over the static call graph, as the kernel's check_max_stack_depth does.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int down(int n) {
  if (n <= 0) return 0;
  int r = down(n - 1);
  asm volatile("" : "+r"(r));  // keeps the call a call (no loop)
  return r + 1;
}

SEC("xdp")
int xdp_recursion(struct xdp_md *ctx) {
  return down((int)ctx->ingress_ifindex + 20) & 3;
}

char LICENSE[] SEC("license") = "GPL";
