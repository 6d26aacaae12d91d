// Example 1: .text subprograms (static and global), a callback passed by address (bpf_loop), and global
// data in .data, .rodata, .bss and a custom .data.* section. Built by clang -O2 -g -target bpf.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int counter = 1;                                 // .data
const volatile int factor = 3;                   // .rodata (frozen)
long total;                                      // .bss
int tuned SEC(".data.tuning") = 42;              // .data.tuning: a custom data map
static const char kTag[] = "globals";            // .rodata

static __noinline int add_scaled(int x) {
  return x * factor + counter;
}

__noinline int accumulate(int x) {
  total += x;
  return x + tuned;
}

static long sum_cb(__u32 index, void *ctx) {
  long *acc = ctx;
  *acc += index;
  return 0;
}

SEC("xdp")
int xdp_main(struct xdp_md *ctx) {
  long acc = 0;
  bpf_loop(4, sum_cb, &acc, 0);
  int v = add_scaled((int)(ctx->data_end - ctx->data));
  v = accumulate(v) + (int)acc;
  counter++;
  return v > 0 && kTag[0] == 'g' ? XDP_PASS : XDP_DROP;
}

SEC("?tc")
int tc_optional(struct __sk_buff *skb) {
  return add_scaled((int)skb->len) > 10 ? 0 : 2;
}

char LICENSE[] SEC("license") = "GPL";
