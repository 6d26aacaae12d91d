// verdict: reject
// error: LD_ABS is only allowed in functions that return 'int'
// LD_ABS in a static subprogram whose BTF return type is void: the kernel's check_btf_func refuses
// it, since LD_ABS can end the program through that subprogram's exit (Linux 4.x sockex3_kern.c
// built with a linux/stddef.h __always_inline that does not force inlining).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

static __attribute__((noinline)) void note_proto(struct __sk_buff *skb) { skb->cb[0] = load_byte(skb, 23); }

SEC("socket")
int subprog_ld_abs_void(struct __sk_buff *skb) {
  note_proto(skb);
  return skb->cb[0];
}

char LICENSE[] SEC("license") = "GPL";
