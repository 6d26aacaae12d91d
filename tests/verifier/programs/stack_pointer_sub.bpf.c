// verdict: reject
// error: subtraction from stack pointer prohibited
// `ptr -= 16` on a frame pointer copy: the kernel refuses any subtraction from a stack pointer
// (adjust_ptr_min_max_vals), even one that lands inside the frame; `ptr += -16` is the accepted form.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
__attribute__((naked)) void stack_pointer_sub(void) {
  asm volatile("r3 = r10;"
               "r3 -= 16;"
               "r0 = 5;"
               "*(u64 *)(r3 + 0) = r0;"
               "r0 = *(u64 *)(r3 + 0);"
               "exit;" ::: "r0", "r3", "memory");
}

char LICENSE[] SEC("license") = "GPL";
