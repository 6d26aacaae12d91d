// verdict: accept
// The caller passes a stack buffer it never wrote: the callee may read it, which the privileged kernel
// allows (check_mem_reg with allow_uninit_stack); the bytes are unknown (bpfvm zeroes such a run's stack).
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
int xdp_ptr_uninit_buffer(struct xdp_md *ctx) {
  struct pair local;
  return sum(&local) & 3;
}

char LICENSE[] SEC("license") = "GPL";
