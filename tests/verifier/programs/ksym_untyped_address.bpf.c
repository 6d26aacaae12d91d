// verdict: accept
// An untyped __ksym (`const void`: the scheduler's function, which /proc/kallsyms lists without
// CONFIG_KALLSYMS_ALL) is the symbol's kernel address from /proc/kallsyms, a plain 64-bit
// constant (libbpf does not ask the kernel's BTF): it is passed to bpf_probe_read_kernel as a number.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern const void schedule __ksym;

SEC("tracepoint/syscalls/sys_enter_getpid")
int ksym_untyped_address(void *ctx) {
  int active = 0;
  return bpf_probe_read_kernel(&active, sizeof(active), &schedule);
}

char LICENSE[] SEC("license") = "GPL";
