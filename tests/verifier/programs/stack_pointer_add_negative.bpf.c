// verdict: accept
// The accepted spelling of stack_pointer_sub: a negative constant added to the frame pointer copy.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
__attribute__((naked)) void stack_pointer_add_negative(void) {
  asm volatile("r3 = r10;"
               "r3 += -16;"
               "r0 = 5;"
               "*(u64 *)(r3 + 0) = r0;"
               "r0 = *(u64 *)(r3 + 0);"
               "exit;" ::: "r0", "r3", "memory");
}

char LICENSE[] SEC("license") = "GPL";
