// verdict: accept
// A map pointer plus a register known to be 0 (either order) is still the map pointer: the kernel's
// adjust_ptr_min_max_vals lets CONST_PTR_TO_MAP through for a known-zero BPF_ADD (privileged).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

SEC("socket")
__attribute__((naked)) void map_ptr_plus_zero(void) {
  asm volatile("r6 = 0;"
               "*(u32 *)(r10 - 4) = r6;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[counters] ll;"
               "r1 += r6;"
               "call %[lookup];"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = 0;"
               "r0 = %[counters] ll;"
               "r1 += r0;"
               "call %[lookup];"
               "r0 = 0;"
               "exit;" ::[counters] "i"(&counters), [lookup] "i"(BPF_FUNC_map_lookup_elem)
               : "r0", "r1", "r2", "r6", "memory");
}

char LICENSE[] SEC("license") = "GPL";
