// verdict: reject
// error: call to global function sum: arg 0 (R1) expected pointer to 16 bytes of memory or NULL
// The caller passes a 4-byte stack object where the prototype promises 16 bytes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair {
  long a, b;
};

__noinline int sum(struct pair *p) {
  if (!p) return 0;
  return (int)(p->a + p->b);
}

SEC("xdp")
int xdp_ptr_small_buffer(struct xdp_md *ctx) {
  int x = ctx->ingress_ifindex;
  return sum((struct pair *)&x) & 3;
}

char LICENSE[] SEC("license") = "GPL";
