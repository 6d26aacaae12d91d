// verdict: accept
// A `const volatile` global (libbpf-tools' filter flags) is .rodata, which the loader freezes with
// BPF_F_RDONLY_PROG: the kernel reads a load from it at a constant offset as the stored constant
// (bpf_map_direct_read), so the branch on a false flag is dead and its bad read is never judged.
#include "rodata_flags.h"

const volatile __u8 read_past = 0;

SEC("socket")
int rodata_const_branch(struct __sk_buff *skb) {
  return read_past_value_if(read_past);
}

char LICENSE[] SEC("license") = "GPL";
