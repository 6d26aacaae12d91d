// verdict: reject
// error: infinite loop
// `if ctx == 0` is not decided by the kernel (is_branch_taken only decides types reg_not_null lists:
// sockets, map values, ring buffer memory, trusted kernel objects), so the never-taken edge is explored
// and its jump back with an unchanged state is an infinite loop.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
__attribute__((naked)) void ctx_null_check_loop(void) {
  asm volatile("r6 = r1;"
               "1:"
               "r0 = 0;"
               "if r6 == 0 goto 1b;"
               "exit;" ::: "r0", "r6", "memory");
}

char LICENSE[] SEC("license") = "GPL";
