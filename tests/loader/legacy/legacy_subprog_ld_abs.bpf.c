/* A samples/bpf-style program whose LD_ABS helper stayed a .text subprogram (a linux/stddef.h
 * __always_inline that does not force inlining, as a 4.x sockex3_kern.c built outside the kernel tree
 * got). Built without -g, the object has no BTF func info: the kernel refuses LD_ABS in any subprogram
 * then ("LD_ABS is not allowed in subprogs without BTF"); a program with it inline loads. */
#include "legacy_helpers.h"

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

static __attribute__((noinline)) int proto_of(struct __sk_buff *skb) { return load_byte(skb, 23); }

SEC("socket1") int with_subprog(struct __sk_buff *skb) { return proto_of(skb) == 6 ? -1 : 0; }

SEC("socket2") int inline_ld_abs(struct __sk_buff *skb) { return load_byte(skb, 23) == 6 ? -1 : 0; }

char _license[] SEC("license") = "GPL";
