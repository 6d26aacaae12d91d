// verdict: reject
// error: R1
// bpf_probe_read_kernel's destination is ARG_PTR_TO_UNINIT_MEM without PTR_MAYBE_NULL: NULL is refused
// even with a zero size (check_func_arg's register type check comes before the size).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_getpid")
int probe_read_null_dst(void *ctx) {
  return (int)bpf_probe_read_kernel(0, 0, ctx) & 1;
}

char LICENSE[] SEC("license") = "GPL";
