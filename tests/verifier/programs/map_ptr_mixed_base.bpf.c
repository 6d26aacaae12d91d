// verdict: reject
// error: a load through a map pointer that another path reaches with another map or pointer
// One load reached through a map pointer (skb->len > 100) and through a stack pointer (otherwise).
// bpfvm turns a load through a map pointer into `mov32 dst, value` (map_ptr_access.cpp), which would be
// wrong on the stack path, so it refuses the program "not supported yet"; the kernel reads struct
// bpf_array or the stack, whichever the path holds, and accepts (a listed disagreement in
// test_kernel_verdicts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} mixed_array SEC(".maps");

SEC("socket")
__attribute__((naked)) void map_ptr_mixed_base(void) {
  asm volatile("r6 = 7;"
               "*(u64 *)(r10 - 8) = r6;"
               "r2 = *(u32 *)(r1 + 0);"
               "r1 = %[mixed_array] ll;"
               "if r2 > 100 goto 1f;"
               "r1 = r10;"
               "r1 += -8;"
               "1: r0 = *(u32 *)(r1 + 0);"
               "exit;"
               ::[mixed_array] "i"(&mixed_array)
               : "r0", "r1", "r2", "r6", "memory");
}

char LICENSE[] SEC("license") = "GPL";
