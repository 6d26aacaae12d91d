// Issue #14 run-time items, run in the kernel and in bpfvm on the same packets:
//  ctx_spill   (item 8): the context is spilled through a stack pointer other than r10 and filled through
//              r10; bpfvm's ctx rewrite must follow the verifier's type of the loaded register, or the
//              data/data_end loads read the low halves of host pointers.
//  tail_chain  (item 9): main -> static subprogram -> bpf_tail_call to main itself: each tail call
//              continues on the subprogram's frame, so the chain nests one frame deeper per hop; the
//              kernel takes 33 tail calls (34 runs of main), and so must both engines.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp") __attribute__((naked)) int ctx_spill(void) {
  asm volatile(
      "r2 = r10;"
      "r2 += -8;"
      "*(u64 *)(r2 + 0) = r1;"     // spill ctx through r2
      "r1 = *(u64 *)(r10 - 8);"    // fill it through r10
      "r2 = *(u32 *)(r1 + 0);"     // data
      "r3 = *(u32 *)(r1 + 4);"     // data_end
      "r4 = r2;"
      "r4 += 2;"
      "if r4 > r3 goto 1f;"
      "r0 = *(u8 *)(r2 + 1);"
      "r0 <<= 8;"
      "r5 = *(u8 *)(r2 + 0);"
      "r0 |= r5;"
      "exit;"
      "1:"
      "r0 = r3;"
      "r0 -= r2;"
      "exit;" ::: "memory");
}

int tail_chain(struct xdp_md *ctx);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __array(values, int(void *));
} chain SEC(".maps") = {
    .values = {[0] = (void *)&tail_chain},
};

__u64 runs;

static __attribute__((noinline)) int hop(struct xdp_md *ctx) {
  bpf_tail_call(ctx, &chain, 0);
  return 0;
}

SEC("xdp")
int tail_chain(struct xdp_md *ctx) {
  __sync_fetch_and_add(&runs, 1);
  hop(ctx);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
