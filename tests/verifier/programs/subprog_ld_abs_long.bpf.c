// verdict: accept
// LD_ABS in a static subprogram returning long: an int of at most 8 bytes is a scalar return, which
// the kernel's check_btf_func allows.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

static __attribute__((noinline)) long proto_of(struct __sk_buff *skb) { return load_byte(skb, 23); }

SEC("socket")
int subprog_ld_abs_long(struct __sk_buff *skb) { return proto_of(skb) == 6; }

char LICENSE[] SEC("license") = "GPL";
