// verdict: reject
// error: must be aligned to its size
// bpf_strtoul's result pointer is ARG_PTR_TO_LONG with MEM_ALIGNED: the kernel checks its alignment
// strictly (fp-12 is not a multiple of 8), even where ordinary stack accesses may be unaligned.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
__attribute__((naked)) void strtoul_misaligned_result(void) {
  asm volatile("r1 = 0x3231;"             /* "12" */
               "*(u64 *)(r10 - 8) = r1;"
               "r1 = 0;"
               "*(u64 *)(r10 - 24) = r1;"
               "*(u64 *)(r10 - 16) = r1;"
               "r1 = r10;"
               "r1 += -8;"
               "r2 = 2;"
               "r3 = 0;"
               "r4 = r10;"
               "r4 += -20;"
               "call %[strtoul];"
               "r0 = 0;"
               "exit;" ::[strtoul] "i"(BPF_FUNC_strtoul)
               : "r0", "r1", "r2", "r3", "r4", "r5", "memory");
}

char LICENSE[] SEC("license") = "GPL";
