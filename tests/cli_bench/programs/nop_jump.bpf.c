// An XDP program with a `goto +0` (a jump to the next instruction): the kernel's verifier removes such
// no-ops before its JIT runs, so the kernel emits no code for that instruction and `bpfvm compare`
// must show an empty kernel column there (it once dereferenced the missing block).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int nop_jump(struct xdp_md *ctx) {
  asm volatile("goto +0");
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
