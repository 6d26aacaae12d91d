// verdict: reject
// error: recursive call from insn 12 to the function at insn 5
// Exploration does not follow calls to global functions, so recursion is found over the static call
// graph, as the kernel's check_max_stack_depth does (it says "the call stack of 9 frames is too deep").
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
